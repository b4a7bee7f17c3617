/*
 * Words for people reading the logs: times in ISO 8601 (UTC), lengths of
 * time, and plural forms.  Everything writes into the caller's buffer or
 * returns a static string, so any thread may call it.
 */
#ifndef TEITEN_HUMAN_H
#define TEITEN_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* "2026-12-03T10:00:00Z" and its NUL. */
#define ISO8601_LEN 21

/*
 * t (seconds since 1970, UTC) as 2026-12-03T10:00:00Z; a time outside
 * years 0 to 9999 as the decimal number of seconds.  Returns buf.
 */
char *iso8601(int64_t t, char buf[static ISO8601_LEN]);
/* A length of time as "45 s", "5 min 30 s", "2 h 5 min", "3 d 4 h". */
char *human_duration(int64_t secs, char *buf, size_t len);
/* one when n is 1, else many: "%" PRIu64 " %s", n, plural(n, "record", ...) */
const char *plural(uint64_t n, const char *one, const char *many);

#endif

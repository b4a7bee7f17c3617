/*
 * The time zone people read dates in: an IANA name (Asia/Tokyo), UTC by
 * default.  zone_use() checks that the zone exists in the system's tzdata
 * (an unknown name would silently read as UTC) and makes it the process's
 * zone; the rest convert between instants and that zone's dates.  Days
 * may have 23 or 25 hours, and a day may begin at 01:00 where a change of
 * clocks skips midnight: zone_day_start() is the first instant of the
 * date, whatever the clock read then.
 */
#ifndef TEITEN_ZONE_H
#define TEITEN_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "civil.h"

#define ZONE_NAME_MAX 64

/* 0, or -1 with the reason in err (the zone is left as it was). */
int zone_use(const char *name, char *err, size_t errlen);
/* The zone in use, "UTC" until zone_use() succeeds. */
const char *zone_name(void);
/* The first instant whose date in the zone is c or later. */
int64_t zone_day_start(struct civil c);
/* The date in the zone at t, and the seconds since the zone's midnight. */
struct civil zone_date(int64_t t, int *secs);
/* The zone's offset from UTC at t, in seconds east. */
long zone_offset(int64_t t);
/* t as people read it in titles: "2008-01-01 00:00" in the zone. */
void zone_minute(int64_t t, char *buf, size_t len);
/* t as ISO 8601 with the offset: 2008-01-01T00:00:00+09:00. */
void zone_iso(int64_t t, char *buf, size_t len);

#endif

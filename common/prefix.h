/*
 * Monitored address prefixes: a list of IPv4 and IPv6 CIDR blocks that a
 * destination address is matched against.  An empty list matches nothing;
 * callers treat "no list" as "monitor everything".  The list owns its
 * entries; prefixes_free() accepts NULL.
 */
#ifndef TEITEN_PREFIX_H
#define TEITEN_PREFIX_H

#include <stddef.h>
#include <stdint.h>

struct prefixes;

struct prefixes *prefixes_new(void);
void prefixes_free(struct prefixes *);
/*
 * Add one "ADDR/LEN" (or a bare address); refuses host bits set beyond LEN.
 * Returns 0, or -1 with a reason in err.
 */
int prefixes_add(struct prefixes *, const char *, char *err, size_t errlen);
/* Add a list separated by commas or blanks; same errors as above. */
int
prefixes_add_list(struct prefixes *, const char *, char *err, size_t errlen);
size_t prefixes_count(const struct prefixes *);
int prefixes_match4(const struct prefixes *, const uint8_t *);
int prefixes_match6(const struct prefixes *, const uint8_t *);
/* Number of addresses covered (overlaps counted twice), saturating. */
uint64_t prefixes_naddrs(const struct prefixes *);
/* 1 if both lists (either may be NULL) hold the same prefixes in order. */
int prefixes_equal(const struct prefixes *, const struct prefixes *);

#endif

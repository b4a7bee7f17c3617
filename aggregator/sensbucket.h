/*
 * A summary bucket's per-sensor sums: DATADIR/summary/{hour,day}/<start>.sens
 * beside the bucket's <start>.sum (bucket.h), holding for each sensor that
 * reported in the bucket's final intervals how many of them it reported,
 * the packets it saw and dropped (its health), and per key the packets its
 * own records counted, summed.  A sensor's mean for a key over a window is
 * its sum over its reported intervals; a group's is its sensors' sums over
 * their reported intervals summed.  A file is, in native byte order:
 *
 *   "TSNS" | u32 version 1 | i64 start | i64 last interval added |
 *   u64 intervals | u32 nsensors | u32 0 |
 *   nsensors x (u8 id length | id | u64 intervals reported |
 *               u64 packets seen | u64 drops | u32 n |
 *               n x (u32 key index, u64 packet sum))
 *
 * sensors ascending by id (strcmp), key indices ascending, every sum > 0:
 * 12 bytes per sensor, key and bucket, 29 plus the id per sensor and
 * bucket.  Derived data like the .sum: written to a temporary name and
 * renamed by summary.c, made again by `teiten-aggregator rebuild`.
 */
#ifndef TEITEN_SENSBUCKET_H
#define TEITEN_SENSBUCKET_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define SENSB_MAGIC "TSNS"
#define SENSB_VERSION 1

/* One sensor's sums; idx ascending, sum[i] the packets of key idx[i]. */
struct sens_sensor {
	char id[RECORD_ID_MAX + 1];
	uint64_t reported; /* intervals it reported */
	uint64_t packets, drops;
	size_t n, cap;
	uint32_t *idx;
	uint64_t *sum;
};

struct sensbucket {
	int64_t start; /* INT64_MIN: none loaded */
	int64_t last;
	uint64_t nintervals; /* final intervals added */
	size_t n, cap;
	struct sens_sensor *s; /* ascending by id */
};

void sensbucket_init(struct sensbucket *);
/* Forget every sensor; start and last become INT64_MIN. */
void sensbucket_clear(struct sensbucket *);
void sensbucket_free(struct sensbucket *);
/* The sensor id in b, added (with nothing counted) if absent. */
struct sens_sensor *sensbucket_sensor(struct sensbucket *b, const char *id);
/* The sensor id in b, or NULL. */
const struct sens_sensor *
sensbucket_find(const struct sensbucket *b, const char *id);
/*
 * Add n keys' packets (idx ascending) to s's sums; a sum saturates at
 * 2^64 - 1.
 */
void sens_add_keys(struct sens_sensor *s, size_t n, const uint32_t *idx,
    const uint64_t *packets);
/* s's sum for key idx, 0 if absent. */
uint64_t sens_sum(const struct sens_sensor *s, uint32_t idx);
/* s's sensors and sums added to d's (d's ids kept unique). */
void sensbucket_merge(struct sensbucket *d, const struct sensbucket *s);

/*
 * Add the file at path, bucket [start, end), to b: its sensors' counts
 * and sums are added, its intervals added, start and last replaced.  An
 * absent file is an empty bucket.  Every field is checked; returns 0, or
 * -1 with the reason in why.
 */
int sensbucket_read(const char *path, int64_t start, int64_t end,
    struct sensbucket *b, char *why, size_t whylen);
/* The file's bytes for b in a new buffer (*len bytes; caller frees). */
uint8_t *sensbucket_encode(const struct sensbucket *b, size_t *len);

#endif

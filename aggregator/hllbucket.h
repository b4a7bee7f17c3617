/*
 * A summary bucket's sketches: DATADIR/summary/{hour,day}/<start>.hll
 * beside the bucket's <start>.sum (bucket.h), holding per key the union
 * of the distinct sources and of the distinct targets that the fleet's
 * sketches (common/hll.h) reported over the bucket's final intervals, and
 * the union over all keys.  A window's distinct sources are the union of
 * its buckets' sketches, never a sum of counts.  A file is, in native
 * byte order:
 *
 *   "THLL" | u32 version 2 | i64 start | i64 last interval added |
 *   u64 intervals with sketches | u32 n | u32 bytes of the next two |
 *   n x (u32 key index, u32 bytes of its two sketches) |
 *   all sources | all targets | n x (sources, targets)
 *
 * each sketch as u8 precision then hll_encode()'s bytes, key indices
 * ascending.  The index lets a reader take a few keys' sketches without
 * reading the others: a day of a busy fleet's sketches is tens of MB.  Derived data like the .sum: written to a temporary name and
 * renamed by summary.c, made again by `teiten-aggregator rebuild`.
 */
#ifndef TEITEN_HLLBUCKET_H
#define TEITEN_HLLBUCKET_H

#include <stddef.h>
#include <stdint.h>

#include "hll.h"

#define HLLB_MAGIC "THLL"
#define HLLB_VERSION 2

struct hllbucket {
	int64_t start; /* INT64_MIN: none loaded */
	int64_t last;
	uint64_t nintervals; /* intervals whose sensors sent sketches */
	struct hll *all_src, *all_dst; /* NULL until a sketch is merged */
	struct hll **src, **dst; /* KEYIDX_COUNT each; NULL where none */
};

void hllbucket_init(struct hllbucket *);
/* Forget every sketch (the arrays stay); start becomes INT64_MIN. */
void hllbucket_clear(struct hllbucket *);
void hllbucket_free(struct hllbucket *);
/* *slot becomes the union of *slot and h (a copy when *slot is NULL). */
void hllbucket_merge(struct hll **slot, const struct hll *h);

/*
 * Merge the file at path, bucket [start, end), into b; start, last are
 * replaced, intervals added.  want NULL: every key; else only the keys
 * whose bit (want[idx / 8] & 1 << idx % 8) is set, read by the index
 * alone.  An absent file is an empty bucket.  Every field read is
 * checked, and the index against the file's size; returns 0, or -1 with
 * the reason in why.
 */
int hllbucket_read(const char *path, int64_t start, int64_t end,
    const uint8_t *want, struct hllbucket *b, char *why, size_t whylen);
/* The file's bytes for b in a new buffer (*len bytes; caller frees). */
uint8_t *hllbucket_encode(const struct hllbucket *b, size_t *len);

#endif

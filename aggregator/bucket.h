/*
 * A summary bucket: one file DATADIR/summary/{hour,day}/<start>.sum that
 * holds, for the final intervals starting in [start, end), how
 * many there were, the sum of their reporting sensors and each key's sum
 * of averages (CONTRACTS.md contract 4).  Hourly buckets are UTC hours;
 * daily ones run from one midnight to the next in DATADIR's zone
 * (datadir_zone()), 23 or 25 hours around a change of clocks.  The writer is summary.c (the
 * daemon's); the reader, window.c, is all teiten-graph links.  A file is,
 * in native byte order:
 *
 *   "TSUM" | u32 version 1 | i64 start | i64 last interval added |
 *   u64 intervals | f64 sum of reporting sensors | u32 step | u32 n |
 *   n x (u32 key index, f64 sum of averages)      (key indices ascending)
 *
 * It is derived data: written to a temporary name and renamed, not
 * fsynced; `teiten-aggregator rebuild` makes it again from the archive.
 */
#ifndef TEITEN_BUCKET_H
#define TEITEN_BUCKET_H

#include <stddef.h>
#include <stdint.h>

#define SUMMARY_HOUR 3600
#define SUMMARY_DAY 86400
/* Hourly buckets older than this are removed; daily ones are kept. */
#define SUMMARY_HOUR_KEEP (16 * SUMMARY_DAY)

#define SUM_MAGIC "TSUM"
#define SUM_VERSION 1

struct sum_head {
	char magic[4];
	uint32_t version;
	int64_t start, last;
	uint64_t nintervals;
	double sensors;
	uint32_t step, n;
};

struct sum_entry {
	uint32_t idx;
	uint32_t pad;
	double sum;
};

/* A bucket in memory. */
struct bucket {
	int64_t start; /* INT64_MIN: none loaded */
	int64_t last; /* newest interval added */
	uint64_t nintervals;
	double sensors;
	uint32_t step;
	double *sum; /* KEYIDX_COUNT */
};

/*
 * Read the bucket [start, end) at path into b: its sums, interval
 * and sensor counts are added to b's (so that a window adds up buckets),
 * its start, last and step replace b's.  An absent file is an empty
 * bucket.  Every file is checked against what the writer makes; returns
 * 0, or -1 with the reason in why.
 */
int bucket_read(const char *path, int64_t start, int64_t end, struct bucket *b,
    char *why, size_t whylen);

#endif

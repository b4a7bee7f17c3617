/*
 * A window's ranking, read from the summary buckets (bucket.h) that the
 * aggregator keeps beside the RRDs, so that ranking ports over a day or a
 * year reads a few hundred small files instead of 131,072 RRDs.  A
 * window's mean for a key is exact (CONTRACTS.md contract 4): the sum of
 * its per-interval averages over the window's reported intervals divided
 * by their number, 0 for intervals without the key.  Nothing here writes.
 */
#ifndef TEITEN_WINDOW_H
#define TEITEN_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "sensbucket.h"

/* A window [start, end), keys ranked by their mean, best first. */
struct window {
	int64_t start, end;
	uint64_t nintervals; /* intervals that sensors reported */
	double sensors; /* mean number of reporting sensors */
	size_t n;
	uint32_t *idx; /* key indices (keyidx.h) */
	double *mean; /* packets per sensor per interval */
	double total; /* sum of all keys' means */
	/*
	 * After window_sketches(): per ranked key, its distinct sources and
	 * targets over the window (NaN: no sketch of it), and over all keys;
	 * and the window's intervals that sensors sent sketches for.
	 */
	double *sources, *targets;
	double all_sources, all_targets;
	uint64_t nsketched;
};

/*
 * Read the window [start, end) from hourly buckets when it is on whole
 * hours, at most 15 days long and its buckets not yet pruned; else from
 * daily buckets, when it runs from midnight to midnight in DATADIR's
 * zone, which must be the zone in use (zone.h).  A window that neither
 * answers exactly is refused with the reason.  Every bucket read is
 * checked (bucket.h); a damaged one is an error whose reason names it.
 * Returns 0, or -1 with a reason.
 */
int summary_window(const char *datadir, int64_t start, int64_t end,
    struct window *, char *err, size_t errlen);
/*
 * Fill w's sources and targets from the sketches of the same buckets
 * (hllbucket.h): the union over the window, never a sum.  Returns 0, or
 * -1 with a reason (a damaged .hll file, named).
 */
int window_sketches(const char *datadir, struct window *w, char *err,
    size_t errlen);
/*
 * The per-sensor sums of [start, end) (sensbucket.h), from the buckets
 * summary_window() reads for it, into b (initialised by the caller, freed
 * with sensbucket_free): per sensor, the intervals it reported and its
 * packets per key over the window.  Returns 0, or -1 with a reason (a
 * damaged .sens file, named).
 */
int window_sensors(const char *datadir, int64_t start, int64_t end,
    struct sensbucket *b, char *err, size_t errlen);
/*
 * The ranked keys' positions ordered by distinct sources, most first
 * (unknown last; ties by rank), in a new array of w->n (caller frees).
 */
size_t *window_by_sources(const struct window *w);
/* 1 if summary_window() reads [start, end) from hourly buckets, else 0. */
int window_hourly(const char *datadir, int64_t start, int64_t end);
void window_free(struct window *);
/*
 * NULL if w could have come from summary_window(): counts in range, every
 * number finite and non-negative, keys in rank order.  Else the reason.
 */
const char *window_check(const struct window *);
/*
 * The start of the oldest summary bucket in DATADIR, INT64_MIN if none:
 * where the data that windows can read begins.
 */
int64_t summary_first(const char *datadir);
/* The mean of one key in a window, 0 if absent. */
double window_mean(const struct window *, uint32_t idx);
/* The share of ranked key i in all keys' means, 0 for an empty window. */
double window_share(const struct window *, size_t i);
/* Rank (1-based) of a key in a window, or 0 if absent. */
size_t window_rank(const struct window *, uint32_t idx);

#endif

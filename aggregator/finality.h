/*
 * When an interval is final (doc/CONTRACTS.md contract 7), on the
 * aggregator's clock, and which sensors reported the intervals already
 * final, so that a record sent again for one is known as a duplicate.
 * The caller numbers its sensors from 0 and tells this module what each
 * has reported; it owns the sets it passes in, this module those it
 * returns.
 */
#ifndef TEITEN_FINALITY_H
#define TEITEN_FINALITY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A set of sensors by index, growing as sensors appear. */
struct sset {
	uint8_t *bits;
	size_t bytes;
};

int sset_has(const struct sset *, size_t);
void sset_add(struct sset *, size_t);

struct finality;

/*
 * Fills an empty set with the sensors that reported the final interval
 * start, for one forgotten or never known (read from the archive).
 */
typedef void (*finality_load_fn)(int64_t start, struct sset *, void *);

/* Intervals up to last_final (INT64_MIN: none) are final already. */
struct finality *finality_new(uint32_t len, unsigned grace, unsigned active,
    int64_t last_final, finality_load_fn, void *arg);
void finality_free(struct finality *);
/* Sensor idx is known, not heard from yet: it holds nothing back. */
void finality_track(struct finality *, uint32_t idx);
/* Sensor idx is active as of now and has reported start. */
void finality_heard(struct finality *, uint32_t idx, int64_t start, time_t now);
/*
 * Whether the open interval start, whose first record came at first, is
 * final at now: never before its end; then once every sensor heard from
 * within active seconds has reported it or a later one, or grace seconds
 * after the later of its end and first.
 */
int
finality_due(const struct finality *, int64_t start, time_t first, time_t now);
/* Whether start is final already (a record for it is late). */
int finality_is_final(const struct finality *, int64_t start);
/* The newest final interval, INT64_MIN if none. */
int64_t finality_last(const struct finality *);
/* Interval start is final now, reported by seen (taken; left empty). */
void finality_mark(struct finality *, int64_t start, struct sset *seen);
/*
 * The sensors that reported the final interval start (the caller may add
 * to them); the 4096 newest are kept in memory, older ones loaded again.
 */
struct sset *finality_seen(struct finality *, int64_t start);

#endif

/*
 * The aggregator's view of intervals: accepts decoded records (at most one
 * per sensor and interval), sums them per key, and decides when an
 * interval is final (DESIGN.md contract 7): every sensor active in the
 * recent past has reported it or a later one, or the grace period since
 * its first record has passed.  Final intervals leave in time order as RRD
 * jobs with the averages of contract 4.  Records for an interval already
 * final are archived and counted as late; rebuild brings them in.
 */
#ifndef TEITEN_INGEST_H
#define TEITEN_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "archive.h"
#include "frame.h"
#include "rrdw.h"

struct ingest;

/* Receives each final interval; takes ownership of the job. */
typedef void (*ingest_final_fn)(struct rrd_job *, void *);

struct ingest_stats {
	uint64_t stored, duplicates, late, rejected;
	uint64_t finalized;
};

/*
 * Intervals up to last_final are final already.  With an archive, every
 * stored record is appended to it (the caller commits before acking).
 */
struct ingest *ingest_new(uint32_t len, unsigned grace, unsigned active,
    struct archive *, int64_t last_final, ingest_final_fn, void *arg);
void ingest_free(struct ingest *);
/*
 * One record as received from sensor (already authenticated).  Returns
 * the acknowledgement to send; *why says why a record was rejected.
 */
enum frame_ack
ingest_record(struct ingest *, const char *sensor, const uint8_t *raw,
    size_t len, time_t now, int64_t *start, const char **why);
/* Reload the archived intervals after last_final (start-up after a crash). */
int ingest_recover(struct ingest *, time_t now);
/* Finalize what is final at now; with force, everything open. */
void ingest_tick(struct ingest *, time_t now, int force);
void ingest_stats(const struct ingest *, struct ingest_stats *);
size_t ingest_open_intervals(const struct ingest *);

#endif

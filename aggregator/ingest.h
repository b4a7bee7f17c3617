/*
 * The aggregator's view of intervals: accepts decoded records (at most one per
 * sensor and interval), sums them per key, and decides when an interval is
 * final (doc/CONTRACTS.md contract 7), on the aggregator's own clock: never
 * before the interval has ended, then as soon as every sensor active in the
 * recent past has reported it or a later one, or once the grace period has
 * passed since the later of its end and its first record.  Final intervals
 * leave in time order as RRD jobs with the averages of doc/CONTRACTS.md
 * contract 4.  Records dated too far ahead of the clock, or before 2000, are
 * refused; a sensor may hold only so many intervals open.  Records for an
 * interval already final are archived, counted as late and reported through
 * the late callback, which re-derives that interval.  The rules themselves
 * are finality.h's (when final) and average.h's (what it averages to).
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
/*
 * Told of each late record archived, before it counts as stored: the final
 * interval it belongs to.  -1: the record is not acknowledged.
 */
typedef int (*ingest_late_fn)(int64_t start, const char *sensor, void *);

/* The earliest interval start accepted: 2000-01-01T00:00:00Z. */
#define INGEST_EPOCH 946684800

struct ingest_stats {
	uint64_t stored, duplicates, late, rejected;
	uint64_t refused[REFUSE_REASONS]; /* by enum frame_refusal */
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
 * skew: how far (seconds) an interval may start ahead of the clock; by
 * default one interval plus 60 s.  A sensor may hold (grace + skew) /
 * length + 2 intervals open (ingest_open_max), as many as a sensor on
 * time ever does; once open intervals hold more than 64 MiB, a sensor
 * over that cap is refused (REFUSE_OPEN, temporary) until some are final.
 */
void ingest_set_skew(struct ingest *, unsigned skew);
unsigned ingest_open_max(const struct ingest *);
/* The 64 MiB above; 0 applies the cap at all times. */
void ingest_set_open_budget(struct ingest *, size_t bytes);
#define INGEST_OPEN_BUDGET ((size_t)64 << 20)
void ingest_set_late(struct ingest *, ingest_late_fn, void *);
/*
 * The fleet's sketch key id (RECORD_KEYID bytes, copied), or NULL: then
 * no sketch is kept, counts are.  A sensor's record of version 2 whose
 * key id differs is rejected; one read back from the archive (taken
 * under another key) counts without its sketches.
 */
void ingest_set_sketch_key(struct ingest *, const uint8_t *id);

/* What became of one record. */
struct ingest_verdict {
	enum frame_ack ack;
	int reason; /* enum frame_refusal with ACK_REFUSED, else 0 */
	int64_t start; /* the record's interval, 0 if undecodable */
	const char *why; /* with ACK_REJECTED or ACK_REFUSED */
	int late; /* stored, for an interval already final */
	/* The record's packets (all classes) and capture drops, if decoded. */
	uint64_t packets, drops;
};

/*
 * One record as received from sensor (already authenticated) at now on
 * the aggregator's clock.  Returns 0 with the verdict, or -1 when it could
 * not be archived (nothing changed; do not acknowledge).
 */
int ingest_record(struct ingest *, const char *sensor, const uint8_t *raw,
    size_t len, time_t now, struct ingest_verdict *);
/* Reload the archived intervals after last_final (start-up after a crash). */
int ingest_recover(struct ingest *, time_t now);
/*
 * The faults of each sensor (late, refused, deferred, rejected records)
 * counted since the last call, as a job for the interval of the
 * aggregator's clock that starts at start: they are dated by arrival, as
 * the records they count may carry any time.
 */
struct rrd_job *ingest_faults(struct ingest *, int64_t start);
/* Finalize what is final at now; with force, everything open. */
void ingest_tick(struct ingest *, time_t now, int force);
void ingest_stats(const struct ingest *, struct ingest_stats *);
size_t ingest_open_intervals(const struct ingest *);
/* One log line per sensor with refused records, by reason. */
void ingest_log_refusals(const struct ingest *);
/* The newest final interval, INT64_MIN if none. */
int64_t ingest_last_final(const struct ingest *);

#endif

/*
 * The RRD writer thread, the only writer of DATADIR/rrd and
 * DATADIR/summary: final intervals queue up here and are written in order
 * off the network loop; a job whose writes fail is retried, with the jobs
 * after it waiting, and DATADIR/last_final moves past an interval only once
 * all its writes succeeded.  Late records (for intervals already written)
 * are applied by a catch-up that derives both trees again from the archive
 * and swaps them in.
 */
#ifndef TEITEN_RRDQ_H
#define TEITEN_RRDQ_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "frame.h"
#include "rrdw.h"
#include "summary.h"

struct rrdq;

/* The rules records were taken with, for deriving them again. */
struct rrdq_conf {
	const char *datadir;
	uint32_t len;
	unsigned grace, active, skew;
	/* A catch-up starts once no late record came for this many seconds. */
	unsigned settle;
	/*
	 * What the jobs waiting behind a failing one may hold: past it, a job
	 * keeps only its interval and is derived again from the archive when
	 * written, so that a file unwritable for days costs no memory.
	 */
	size_t queue_budget;
	/* The fleet's sketch key id (RECORD_KEYID bytes), or NULL. */
	const uint8_t *sketch_keyid;
	int no_sensor_sums; /* the summaries keep no per-sensor sums */
};
#define RRDQ_QUEUE_BUDGET ((size_t)32 << 20)

/* Each job goes to the RRDs, then to the window summary. */
struct rrdq *
rrdq_start(struct rrdw *, struct summary *, const struct rrdq_conf *);
/* Queue a job (the queue takes ownership). */
void rrdq_push(struct rrdq *, struct rrd_job *);
/*
 * A late record of interval start was archived (any thread): logged,
 * rate-limited, and applied by the next catch-up.
 */
int rrdq_late(struct rrdq *, int64_t start, const char *sensor);
/*
 * Derive both trees again from the whole archive, beside the live ones,
 * as the next catch-up, which starts now: `teiten-aggregator rebuild`
 * asked it of the running daemon (request id).  Its progress and outcome
 * go to DATADIR/rebuilt (datadir.h); a failed one is tried again with
 * the catch-up.  Meanwhile final intervals go on being written.
 */
void rrdq_rebuild_ask(struct rrdq *, int64_t id);
/*
 * Write everything queued (a job still failing is left to the next start,
 * which finalizes it again from the archive), stop the thread, free the
 * queue.  A catch-up not yet done is also left to the next start.
 */
void rrdq_stop(struct rrdq *);
size_t rrdq_pending(struct rrdq *);

/* The writer's state, from any thread (the metrics). */
struct rrdq_backlog {
	size_t jobs; /* queued: final intervals and rows of faults */
	size_t intervals; /* of which final intervals */
	size_t bytes; /* what the queued jobs hold */
	int64_t written; /* the newest interval all written, or INT64_MIN */
	uint64_t late_records; /* waiting for a catch-up */
	size_t late_intervals;
};
void rrdq_backlog(struct rrdq *, struct rrdq_backlog *);

/* What a derivation read and wrote. */
struct rrdq_derived {
	size_t records, bad;
	size_t refused[REFUSE_REASONS];
	uint64_t intervals;
	int64_t last; /* the newest interval written, INT64_MIN if none */
	size_t failed; /* RRD files and summary buckets not written */
};

/*
 * `teiten-aggregator rebuild`: write every archived interval into w and
 * sum as a catch-up derives it, taking each record with the rules for one
 * arriving now; then clear DATADIR/catchup and move DATADIR/last_final to
 * the newest.  -1 if a file, summary bucket or marker was not written.
 * progress, unless NULL, is called with arg after each archived interval:
 * done of the total listed when the rebuild began.
 */
typedef void (*rrdq_progress_fn)(uint64_t done, uint64_t total, void *arg);
int rrdq_rebuild(struct archive *, const struct rrdq_conf *, struct rrdw *,
    struct summary *, struct rrdq_derived *, rrdq_progress_fn, void *arg);

#endif

/*
 * The RRD writer thread: final intervals queue up here and are written in
 * order off the network loop, and into the window summary; after each one, DATADIR/last_final records
 * how far the RRDs go, so that a restart re-finalizes only what follows.
 */
#ifndef TEITEN_RRDQ_H
#define TEITEN_RRDQ_H

#include <stdint.h>

#include "rrdw.h"
#include "summary.h"

struct rrdq;

/* Each job goes to the RRDs, then to the window summary. */
struct rrdq *rrdq_start(struct rrdw *, struct summary *, const char *datadir);
/* Queue a job (the queue takes ownership). */
void rrdq_push(struct rrdq *, struct rrd_job *);
/* Write everything queued, stop the thread, free the queue. */
void rrdq_stop(struct rrdq *);
size_t rrdq_pending(struct rrdq *);

/* DATADIR/last_final, or INT64_MIN if absent. */
int64_t rrdq_last_final(const char *datadir);
int rrdq_save_last_final(const char *datadir, int64_t);
/*
 * DATADIR/generation, 0 if absent: a rebuild increments it, so that what
 * was derived from the RRDs and summaries before (teiten-graph's PNGs and
 * cached windows) is known to be stale.
 */
int64_t rrdq_generation(const char *datadir);
int rrdq_save_generation(const char *datadir, int64_t);

#endif

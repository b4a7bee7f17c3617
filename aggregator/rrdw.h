/*
 * Writes final intervals to the RRDs of doc/CONTRACTS.md contract 5: one file
 * per key seen so far (DATADIR/rrd/<proto>/<key>.rrd, DS "avg", "sources",
 * "targets"), written for every final interval from the first one it was
 * seen in, 0 included; DATADIR/rrd/sensors.rrd (DS "reporting", "sources",
 * "sketched"); files of an older layout get the missing DS when first
 * opened (rrd_tune), their rows kept; and per sensor
 * DATADIR/rrd/sensor/<id>.rrd (DS "reported", "packets", "drops"); and
 * DATADIR/faults/<id>.rrd (struct rrd_fault) for every sensor that ever had
 * one, outside DATADIR/rrd as a catch-up does not derive it.  A row is stamped
 * start + step.  Updates go through librrd directly, or as one rrdcached BATCH
 * per interval.  Blocking: call it off the network loop.
 */
#ifndef TEITEN_RRDW_H
#define TEITEN_RRDW_H

#include <stddef.h>
#include <stdint.h>

#include "hll.h"
#include "record.h"

struct rrd_health {
	char id[RECORD_ID_MAX + 1];
	uint64_t packets; /* packets seen by the sensor */
	uint64_t drops; /* capture and spool drops */
};

/*
 * What one sensor's record of the interval counted per key (key indices
 * ascending, packets > 0): the summary keeps their sums per sensor
 * (sensbucket.h) for the site's sensor pages.
 */
struct rrd_sensor_keys {
	char id[RECORD_ID_MAX + 1];
	size_t n;
	uint32_t *idx;
	uint64_t *packets;
};

/*
 * A sensor's faults since the job before (DATADIR/faults/<id>.rrd):
 * records that came late, were refused for their time, were asked to
 * wait (the open interval cap) and could not be decoded.
 */
struct rrd_fault {
	char id[RECORD_ID_MAX + 1];
	uint64_t late, refused, deferred, rejected;
};

/*
 * One final interval: averages per key index, ascending, with the
 * fleet's distinct sources and targets of each key (NAN: unknown, as no
 * sensor that sent the key's packets sent sketches).  Or, with
 * faults_only, one interval of the aggregator's clock and the faults
 * that arrived in it: those files alone are written, once (what cannot
 * be written is added to the next row).
 */
struct rrd_job {
	int faults_only;
	int64_t start;
	uint32_t len;
	uint32_t nsensors;
	/*
	 * The sensors whose records carried sketches, and the fleet's
	 * distinct sources over all keys (NAN when nsketched is 0).  Keys
	 * not in idx read 0 sources when nsketched > 0, else unknown.
	 */
	uint32_t nsketched;
	double all_sources;
	size_t nvalues;
	uint32_t *idx;
	double *avg;
	double *sources, *targets; /* distinct, per value */
	/*
	 * The fleet's sketches of distinct sources and targets (record
	 * version 2), owned by the job: per value, or NULL arrays when no
	 * reporting sensor sent sketches (a NULL entry: none for that key);
	 * and over all keys.  The summary keeps their unions (hllbucket.h).
	 */
	struct hll **src, **dst;
	struct hll *all_src, *all_dst;
	size_t nhealth;
	struct rrd_health *health;
	size_t nsens;
	struct rrd_sensor_keys *sens; /* one per reporting sensor, by id */
	size_t nfault;
	struct rrd_fault *fault; /* sorted by id */
};

struct rrdw;

struct rrdw *rrdw_new(const char *datadir, uint32_t step, const char *cached,
    char *err, size_t errlen);
void rrdw_free(struct rrdw *);
/*
 * Write one interval; returns the number of files that failed.  Writing
 * it again writes only those: a file already at or past the interval is
 * left as it is.  Each failing file is logged once, and again when it
 * catches up.
 */
size_t rrdw_write(struct rrdw *, const struct rrd_job *);
/*
 * Many intervals at once (catch-up, rebuild, a backlog): while holding,
 * rrdw_write() keeps each file's updates, and rrdw_flush() writes each
 * file's with one librrd call, in time order; rrdw_write() also flushes
 * once RRDW_HOLD_MAX bytes are held (their buffers may take up to twice
 * that).  Failures are counted when written, by rrdw_flush() or the
 * rrdw_write() that flushed; the files' last updates are then read back,
 * so that writing the same jobs again without holding writes only what
 * is missing.  A caller stops at the first job that reports a failure,
 * since a later job would move its files past it.  rrdw_hold(w, 0)
 * flushes and frees what was held.  Faults-only jobs are never held, and
 * nothing is held through rrdcached, which gathers writes itself (each
 * interval stays one BATCH).
 */
#define RRDW_HOLD_MAX ((size_t)256 << 20)
size_t rrdw_hold(struct rrdw *, int on);
size_t rrdw_flush(struct rrdw *);
/* DATADIR/rrd. */
const char *rrdw_root(const struct rrdw *);
/*
 * Replacing the tree (late records, rrdq.c): rrdw_release before, which
 * has rrdcached write and forget every file; rrdw_reload after.
 */
void rrdw_release(struct rrdw *);
void rrdw_reload(struct rrdw *);
void rrd_job_free(struct rrd_job *);
/* Free what a job holds per key and per sensor, keeping its start. */
void rrd_job_hollow(struct rrd_job *);

#endif

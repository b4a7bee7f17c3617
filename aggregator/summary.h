/*
 * The write side of the window sums (bucket.h, window.h): for every final
 * interval the RRD writer adds each key's average into an hourly and a
 * daily bucket and counts the interval.  Only the daemon links this.
 * Daily buckets are cut at the midnights of the zone in use (zone.h),
 * which the daemon sets to DATADIR's (datadir_zone()) before opening.
 */
#ifndef TEITEN_SUMMARY_H
#define TEITEN_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "rrdw.h"

struct summary;

struct summary *summary_open(const char *datadir, char *err, size_t errlen);
void summary_free(struct summary *);
/*
 * Add one final interval; an interval already added is skipped, so that
 * a failed add (-1, the file named in the log) can simply be retried.
 */
int summary_add(struct summary *, const struct rrd_job *);
/*
 * Whether the buckets get their per-sensor sums (sensbucket.h), on
 * unless turned off: each bucket's .sens is rewritten every interval,
 * which a large fleet may not want to pay for.
 */
void summary_sensor_sums(struct summary *, int on);
/* DATADIR/summary; after it was replaced by another tree, reload. */
const char *summary_dir(const struct summary *);
void summary_reload(struct summary *);

#endif

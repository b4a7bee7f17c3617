/*
 * The layout of the aggregator's data directory, in one place:
 *
 *   DATADIR/archive/                       the records received (archive.c)
 *   DATADIR/rrd/{tcp,udp,icmp,icmp6}/<key>.rrd   one per key
 *   DATADIR/rrd/sensors.rrd                how many sensors reported
 *   DATADIR/rrd/sensor/<id>.rrd            each sensor's health
 *   DATADIR/faults/<id>.rrd                each sensor's faults: outside rrd/,
 *                                          which a catch-up replaces
 *   DATADIR/summary/{hour,day}/<start>.sum window sums (bucket.h),
 *                                          .hll, .sens beside (hllbucket.h,
 *                                          sensbucket.h)
 *   DATADIR/catchup.d/                     a catch-up's fresh rrd/ and
 *                                          summary/, swapped in when done
 *   DATADIR/step, last_final, generation, catchup, timezone   markers
 *   DATADIR/rebuild, rebuilt               a rebuild asked of the daemon
 *   DATADIR/lock                           who changes DATADIR (dirlock.h)
 *
 * What a caller may rely on: the path builders only format (no file is
 * touched) and work on any root with this layout, catchup.d included; a
 * path longer than len is cut short, and DATADIR_PATH_MAX holds every path
 * under a DATADIR shorter than 3800 bytes.  A marker holds one decimal
 * number; it is written to <marker>.tmp, fsync'd and renamed over, so a
 * reader sees the old number or the new one, never part of one.  Failed
 * writes are logged with the path.  The writes (datadir_save_*,
 * datadir_clear_catchup) are in datadir_save.c, which only the daemon
 * links; teiten-graph gets the layout and the reads.
 */
#ifndef TEITEN_DATADIR_H
#define TEITEN_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define DATADIR_PATH_MAX 4096

enum datadir_marker {
	DATADIR_STEP, /* the interval length the RRDs were made with */
	DATADIR_LAST_FINAL, /* the newest interval in the RRDs and summaries */
	DATADIR_GENERATION, /* bumped as derived data is rewritten */
	DATADIR_CATCHUP, /* present while late records wait */
	DATADIR_TIMEZONE, /* the zone whose midnights cut the daily buckets */
	DATADIR_REBUILD, /* the number of the last rebuild asked */
	DATADIR_REBUILT, /* how the daemon's rebuild goes (datadir_rebuilt) */
	DATADIR_MARKERS
};

/* The summary bucket lengths, SUMMARY_HOUR and SUMMARY_DAY. */
enum datadir_sum { DATADIR_SUM_HOUR, DATADIR_SUM_DAY, DATADIR_SUMS };

/* "tcp", "udp", "icmp", "icmp6": the directory of each protocol's keys. */
const char *datadir_proto(enum proto);

/* Each path builder writes its path into the buffer given (buf, len). */
void
datadir_marker_path(const char *datadir, enum datadir_marker m, char *, size_t);
void datadir_archive_dir(const char *datadir, char *, size_t);
void datadir_rrd_dir(const char *datadir, char *, size_t);
void datadir_proto_dir(const char *datadir, enum proto, char *, size_t);
/* idx as keyidx.h makes it: DATADIR/rrd/<proto>/<key>.rrd */
void datadir_key_rrd(const char *datadir, uint32_t idx, char *, size_t);
void datadir_sensors_rrd(const char *datadir, char *, size_t);
void datadir_sensor_dir(const char *datadir, char *, size_t);
void datadir_sensor_rrd(const char *datadir, const char *id, char *, size_t);
void datadir_faults_dir(const char *datadir, char *, size_t);
void datadir_faults_rrd(const char *datadir, const char *id, char *, size_t);
void datadir_summary_dir(const char *datadir, char *, size_t);
void datadir_sum_dir(const char *datadir, enum datadir_sum, char *, size_t);
void datadir_sum_bucket(const char *datadir, enum datadir_sum, int64_t start,
    char *, size_t);
/* The bucket's sketches (hllbucket.h): <start>.hll beside <start>.sum. */
void datadir_sketch_bucket(const char *datadir, enum datadir_sum, int64_t start,
    char *, size_t);
/* The bucket's per-sensor sums (sensbucket.h): <start>.sens beside it. */
void datadir_sens_bucket(const char *datadir, enum datadir_sum, int64_t start,
    char *, size_t);
void datadir_catchup_tree(const char *datadir, char *, size_t);

/* DATADIR/last_final, or INT64_MIN if absent. */
int64_t datadir_last_final(const char *datadir);
int datadir_save_last_final(const char *datadir, int64_t);
/*
 * DATADIR/generation, 0 if absent: a rebuild or a catch-up increments it,
 * so that what was derived from the RRDs and summaries before
 * (teiten-graph's PNGs and cached windows) is known to be stale.
 */
int64_t datadir_generation(const char *datadir);
int datadir_save_generation(const char *datadir, int64_t);
/*
 * DATADIR/catchup exists while late records wait to be applied, so that
 * a restart applies them; a rebuild applies them too.  It holds the first
 * late interval.
 */
int datadir_has_catchup(const char *datadir);
int datadir_save_catchup(const char *datadir, int64_t);
int datadir_clear_catchup(const char *datadir);
/*
 * `teiten-aggregator rebuild` beside a running daemon writes a request
 * number to DATADIR/rebuild and sends it SIGUSR2; the daemon writes
 * DATADIR/rebuilt as "NUMBER STATE DONE TOTAL": archived intervals DONE
 * of TOTAL derived for that request, STATE "deriving", "done" or
 * "failed".  datadir_rebuild() is 0 if absent; datadir_rebuilt() -1 if
 * absent or not of that form.
 */
enum datadir_rebuilt_state { REBUILT_DERIVING, REBUILT_DONE, REBUILT_FAILED };
struct datadir_rebuilt {
	int64_t id;
	enum datadir_rebuilt_state state;
	uint64_t done, total;
};
int64_t datadir_rebuild(const char *datadir);
const char *datadir_rebuilt_state(enum datadir_rebuilt_state);
int datadir_save_rebuild(const char *datadir, int64_t id);
int datadir_rebuilt(const char *datadir, struct datadir_rebuilt *);
int datadir_save_rebuilt(const char *datadir, const struct datadir_rebuilt *);

/*
 * DATADIR/step: 0 and *step if it holds a step in seconds (1 to
 * INTERVAL_MAX); else -1 with errno ENOENT if absent, EINVAL if it holds
 * none, or what reading it failed with.
 */
int datadir_step(const char *datadir, uint32_t *step);
int datadir_save_step(const char *datadir, uint32_t);
/*
 * DATADIR/timezone: the IANA name of the zone whose midnights cut the
 * daily summary buckets, "UTC" if absent (as every DATADIR was before).
 * 0, or -1 with errno EINVAL if it holds no name, or what reading failed
 * with.
 */
int datadir_zone(const char *datadir, char *buf, size_t len);
int datadir_save_zone(const char *datadir, const char *zone);

#endif

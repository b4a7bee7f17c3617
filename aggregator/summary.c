/*
 * Window sums, the write side; see summary.h and, for the file format,
 * bucket.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "human.h"
#include "bucket.h"
#include "hllbucket.h"
#include "datadir.h"
#include "interval.h"
#include "keyidx.h"
#include "log.h"
#include "sensbucket.h"
#include "summary.h"
#include "xmalloc.h"
#include "zone.h"

struct summary {
	char *datadir;
	char *dir; /* DATADIR/summary */
	struct bucket hour, day;
	struct hllbucket sketch[DATADIR_SUMS]; /* beside hour and day */
	struct sensbucket sens[DATADIR_SUMS]; /* likewise */
	int failing[DATADIR_SUMS]; /* the bucket's last write failed */
	int no_sens; /* no per-sensor sums */
};

static int
bucket_write(const char *path, const struct bucket *b)
{
	struct sum_head h;
	struct sum_entry e;
	char tmp[4300];
	uint32_t i;
	FILE *f;
	int ok;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SUM_MAGIC, 4);
	h.version = SUM_VERSION;
	h.start = b->start;
	h.last = b->last;
	h.nintervals = b->nintervals;
	h.sensors = b->sensors;
	h.step = b->step;
	for (i = 0; i < KEYIDX_COUNT; i++)
		h.n += b->sum[i] != 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL)
		return -1;
	ok = fwrite(&h, sizeof(h), 1, f) == 1;
	memset(&e, 0, sizeof(e));
	for (i = 0; ok && i < KEYIDX_COUNT; i++) {
		if (b->sum[i] == 0)
			continue;
		e.idx = i;
		e.sum = b->sum[i];
		ok = fwrite(&e, sizeof(e), 1, f) == 1;
	}
	if (fclose(f) == EOF || !ok || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* path's new content, by a temporary name renamed over it. */
static int
file_replace(const char *path, const uint8_t *buf, size_t len)
{
	char tmp[4300];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL)
		return -1;
	ok = fwrite(buf, 1, len, f) == len;
	if (fclose(f) == EOF || !ok || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * The job's sketches into the bucket's: unions, so that adding an
 * interval twice would change nothing but the count, which last guards.
 */
static int
sketch_add(struct summary *s, struct hllbucket *sb, enum datadir_sum kind,
    int64_t start, int64_t end, const struct rrd_job *j)
{
	char path[4200], why[128];
	uint8_t *buf;
	size_t i, len;
	int rc;

	datadir_sketch_bucket(s->datadir, kind, start, path, sizeof(path));
	if (sb->start != start) {
		hllbucket_clear(sb);
		if (hllbucket_read(path, start, end, sb, why, sizeof(why)) ==
		    -1) {
			log_warnx("summary %s: %s; rebuild to repair it", path,
			    why);
			hllbucket_clear(sb);
			return -1;
		}
		sb->start = start;
	}
	if (j->all_src == NULL || j->start <= sb->last)
		return 0;
	hllbucket_merge(&sb->all_src, j->all_src);
	hllbucket_merge(&sb->all_dst, j->all_dst);
	for (i = 0; j->src != NULL && i < j->nvalues; i++) {
		if (j->src[i] == NULL)
			continue;
		hllbucket_merge(&sb->src[j->idx[i]], j->src[i]);
		hllbucket_merge(&sb->dst[j->idx[i]], j->dst[i]);
	}
	sb->nintervals++;
	sb->last = j->start;
	buf = hllbucket_encode(sb, &len);
	rc = file_replace(path, buf, len);
	free(buf);
	if (rc == -1) {
		log_warn("summary %s", path);
		/* Read the file again: the retry must add the interval. */
		hllbucket_clear(sb);
	}
	return rc;
}

/*
 * The job's per-sensor counts into the bucket's sums: an interval is
 * added once, as last guards, so that a retry adds nothing twice.
 */
static int
sens_add(struct summary *s, struct sensbucket *sb, enum datadir_sum kind,
    int64_t start, int64_t end, const struct rrd_job *j)
{
	struct sens_sensor *ss;
	char path[4200], why[128];
	uint8_t *buf;
	size_t i, len;
	int rc;

	if (s->no_sens)
		return 0;
	datadir_sens_bucket(s->datadir, kind, start, path, sizeof(path));
	if (sb->start != start) {
		sensbucket_clear(sb);
		if (sensbucket_read(path, start, end, sb, why, sizeof(why)) ==
		    -1) {
			log_warnx("summary %s: %s; rebuild to repair it", path,
			    why);
			sensbucket_clear(sb);
			return -1;
		}
		sb->start = start;
	}
	if (j->start <= sb->last || j->nhealth == 0)
		return 0;
	for (i = 0; i < j->nhealth; i++) {
		ss = sensbucket_sensor(sb, j->health[i].id);
		ss->reported++;
		ss->packets += j->health[i].packets;
		ss->drops += j->health[i].drops;
	}
	for (i = 0; i < j->nsens; i++)
		sens_add_keys(sensbucket_sensor(sb, j->sens[i].id),
		    j->sens[i].n, j->sens[i].idx, j->sens[i].packets);
	sb->nintervals++;
	sb->last = j->start;
	buf = sensbucket_encode(sb, &len);
	rc = file_replace(path, buf, len);
	free(buf);
	if (rc == -1) {
		log_warn("summary %s", path);
		/* Read the file again: the retry must add the interval. */
		sensbucket_clear(sb);
	}
	return rc;
}

struct summary *
summary_open(const char *datadir, char *err, size_t errlen)
{
	struct summary *s = xcalloc(1, sizeof(*s));
	char path[DATADIR_PATH_MAX];
	int i;

	s->datadir = xstrdup(datadir);
	datadir_summary_dir(datadir, path, sizeof(path));
	s->dir = xstrdup(path);
	/* The summary directory, then each kind's. */
	for (i = -1; i < DATADIR_SUMS; i++) {
		if (i >= 0)
			datadir_sum_dir(datadir, i, path, sizeof(path));
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			summary_free(s);
			return NULL;
		}
	}
	s->hour.sum = xcalloc(KEYIDX_COUNT, sizeof(double));
	s->day.sum = xcalloc(KEYIDX_COUNT, sizeof(double));
	s->hour.start = s->day.start = INT64_MIN;
	for (i = 0; i < DATADIR_SUMS; i++) {
		hllbucket_init(&s->sketch[i]);
		sensbucket_init(&s->sens[i]);
	}
	return s;
}

void
summary_free(struct summary *s)
{
	if (s == NULL)
		return;
	free(s->hour.sum);
	free(s->day.sum);
	hllbucket_free(&s->sketch[DATADIR_SUM_HOUR]);
	hllbucket_free(&s->sketch[DATADIR_SUM_DAY]);
	sensbucket_free(&s->sens[DATADIR_SUM_HOUR]);
	sensbucket_free(&s->sens[DATADIR_SUM_DAY]);
	free(s->datadir);
	free(s->dir);
	free(s);
}

/* Hourly buckets are for the short windows only. */
static void
summary_prune(struct summary *s, int64_t now_hour)
{
	char path[DATADIR_PATH_MAX + 300], sub[DATADIR_PATH_MAX];
	struct dirent *de;
	long long start;
	DIR *d;

	datadir_sum_dir(s->datadir, DATADIR_SUM_HOUR, sub, sizeof(sub));
	if ((d = opendir(sub)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (sscanf(de->d_name, "%lld.sum", &start) == 1 &&
		    start < now_hour - SUMMARY_HOUR_KEEP) {
			snprintf(path, sizeof(path), "%s/%s", sub, de->d_name);
			unlink(path);
		}
	closedir(d);
}

/*
 * The bucket of kind holding the interval that starts at t: its UTC hour,
 * or its day from midnight to midnight in the zone in use (zone.h), which
 * the daemon set to DATADIR's.
 */
static void
bucket_bounds(enum datadir_sum kind, int64_t t, int64_t *start, int64_t *end)
{
	struct civil c;

	if (kind == DATADIR_SUM_HOUR) {
		*start = interval_start(t, SUMMARY_HOUR);
		*end = *start + SUMMARY_HOUR;
		return;
	}
	c = zone_date(t, NULL);
	*start = zone_day_start(c);
	*end = zone_day_start(civil_add_days(c, 1));
}

static int
bucket_add(struct summary *s, struct bucket *b, enum datadir_sum kind,
    const struct rrd_job *j)
{
	int64_t start, end;
	char path[4200], why[128], ts[ISO8601_LEN];
	size_t i;

	bucket_bounds(kind, j->start, &start, &end);

	datadir_sum_bucket(s->datadir, kind, start, path, sizeof(path));
	if (b->start != start) {
		memset(b->sum, 0, KEYIDX_COUNT * sizeof(double));
		b->nintervals = 0;
		b->sensors = 0;
		b->last = INT64_MIN;
		b->start = start;
		if (bucket_read(path, start, end, b, why, sizeof(why)) == -1) {
			log_warnx("summary %s: %s; rebuild to repair it", path,
			    why);
			return -1;
		}
		if (kind == DATADIR_SUM_HOUR)
			summary_prune(s, start);
	}
	if (sketch_add(s, &s->sketch[kind], kind, start, end, j) == -1 ||
	    sens_add(s, &s->sens[kind], kind, start, end, j) == -1)
		return -1;
	if (j->start <= b->last)
		return 0; /* added before a restart or a retry */
	for (i = 0; i < j->nvalues; i++)
		b->sum[j->idx[i]] += j->avg[i];
	b->nintervals++;
	b->sensors += j->nsensors;
	b->last = j->start;
	b->step = j->len;
	if (bucket_write(path, b) == -1) {
		if (!s->failing[kind])
			log_warn("summary %s (interval %s; retried until "
				 "written)",
			    path, iso8601(j->start, ts));
		s->failing[kind] = 1;
		/* Read the file again: the retry must add the interval. */
		b->start = INT64_MIN;
		return -1;
	}
	if (s->failing[kind])
		log_info("summary %s: caught up (interval %s written)", path,
		    iso8601(j->start, ts));
	s->failing[kind] = 0;
	return 0;
}

int
summary_add(struct summary *s, const struct rrd_job *j)
{
	int rc = 0;

	if (bucket_add(s, &s->hour, DATADIR_SUM_HOUR, j) == -1)
		rc = -1;
	if (bucket_add(s, &s->day, DATADIR_SUM_DAY, j) == -1)
		rc = -1;
	return rc;
}

void
summary_sensor_sums(struct summary *s, int on)
{
	s->no_sens = !on;
}

const char *
summary_dir(const struct summary *s)
{
	return s->dir;
}

void
summary_reload(struct summary *s)
{
	s->hour.start = s->day.start = INT64_MIN;
	hllbucket_clear(&s->sketch[DATADIR_SUM_HOUR]);
	hllbucket_clear(&s->sketch[DATADIR_SUM_DAY]);
	sensbucket_clear(&s->sens[DATADIR_SUM_HOUR]);
	sensbucket_clear(&s->sens[DATADIR_SUM_DAY]);
}

/* A FIFO of RRD jobs, the thread that writes them, and catch-ups; see rrdq.h. */
#define _GNU_SOURCE /* renameat2 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "human.h"
#include "datadir.h"
#include "ingest.h"
#include "log.h"
#include "record.h"
#include "rrdq.h"
#include "xmalloc.h"

/* Seconds between attempts at a failing job or catch-up, doubling. */
#define RETRY_MIN 1
#define RETRY_MAX 30
#define CATCHUP_RETRY_MAX 600
/* At most one line per this many seconds as late records arrive. */
#define LATE_LOG_EVERY 10
/* A steady trickle of late records still gets a catch-up this often. */
#define LATE_MAX_SETTLES 12
#define LATE_SENSORS_SHOWN 8
/* A catch-up lets queued jobs through this often (seconds). */
#define CATCHUP_SLICE 0.5
#define CATCHUP_PROGRESS 10.0 /* seconds between progress lines */
#define REBUILT_EVERY 0.25 /* seconds between writes of DATADIR/rebuilt */
/* Final intervals written together when a backlog waits (rrdq_batch). */
#define BATCH_MAX 1024

struct qitem {
	struct rrd_job *job;
	int hollow; /* job has its start only: derive it when written */
	struct qitem *next;
};

struct late_count {
	char id[RECORD_ID_MAX + 1];
	uint64_t n;
};

/* Late records waiting for a catch-up. */
struct lateset {
	int64_t *start; /* distinct intervals, ascending */
	size_t n, cap;
	uint64_t records;
	struct late_count *sensors;
	size_t ns, caps;
	int all; /* DATADIR/catchup found at start: intervals unknown */
};

struct rrdq {
	struct rrdw *w;
	struct summary *sum;
	struct rrdq_conf conf;
	char *datadir;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct qitem *head, *tail;
	size_t n;
	size_t bytes; /* what the jobs queued hold */
	int hollowing; /* jobs are queued hollow (logged once) */
	int stopping;
	atomic_int abort; /* a catch-up under way gives up: stopping */
	int64_t written; /* the newest interval all written */
	/* The head job, or the catch-up, failed: when to try again. */
	double retry_at;
	unsigned backoff, attempts;
	double failing_since;
	double catchup_at; /* after a failed catch-up, not before */
	unsigned catchup_backoff;
	struct lateset late;
	double late_first, late_last, late_logged;
	/* A rebuild asked (rrdq_rebuild_ask), waiting for the next catch-up. */
	int rebuild_asked;
	int64_t rebuild_id;
	/* The writer's own: the catch-up under way serves this request. */
	int rebuilding;
	struct datadir_rebuilt rebuilt;
	double rebuilt_told;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
lateset_interval(struct lateset *s, int64_t start)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (s->start[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n && s->start[lo] == start)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->start = xreallocarray(s->start, s->cap, sizeof(*s->start));
	}
	memmove(s->start + lo + 1, s->start + lo,
	    (s->n - lo) * sizeof(*s->start));
	s->start[lo] = start;
	s->n++;
}

static void
lateset_count(struct lateset *s, const char *id, uint64_t n)
{
	size_t i;

	for (i = 0; i < s->ns; i++)
		if (strcmp(s->sensors[i].id, id) == 0)
			break;
	if (i == s->ns) {
		if (s->ns == s->caps) {
			s->caps = s->caps ? 2 * s->caps : 16;
			s->sensors = xreallocarray(s->sensors, s->caps,
			    sizeof(*s->sensors));
		}
		snprintf(s->sensors[i].id, sizeof(s->sensors[i].id), "%s", id);
		s->sensors[i].n = 0;
		s->ns++;
	}
	s->sensors[i].n += n;
	s->records += n;
}

static void
lateset_free(struct lateset *s)
{
	free(s->start);
	free(s->sensors);
	memset(s, 0, sizeof(*s));
}

/*
 * Put back what a catch-up took: after a failure all of it, after a
 * success the intervals it did not reach (above upto).
 */
static void
lateset_merge(struct lateset *dst, const struct lateset *src, int failed,
    int64_t upto)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (failed || src->start[i] > upto)
			lateset_interval(dst, src->start[i]);
	for (i = 0; failed && i < src->ns; i++)
		lateset_count(dst, src->sensors[i].id, src->sensors[i].n);
	dst->all |= failed && src->all;
}

/* "s2 30, s3 27, and 4 more sensors" */
static void
lateset_describe(const struct lateset *s, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < s->ns && i < LATE_SENSORS_SHOWN && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s %" PRIu64,
		    i ? ", " : "", s->sensors[i].id, s->sensors[i].n);
	if (s->ns > LATE_SENSORS_SHOWN && o < len)
		snprintf(buf + o, len - o, ", and %zu more sensors",
		    s->ns - LATE_SENSORS_SHOWN);
	if (s->ns == 0)
		snprintf(buf, len, "found pending at start");
}

int
rrdq_late(struct rrdq *q, int64_t start, const char *sensor)
{
	char ts[ISO8601_LEN];
	double now = mono();

	pthread_mutex_lock(&q->mu);
	/*
	 * Before the record is acknowledged: a restart catches up too.  If the
	 * marker cannot be written, the record is not acknowledged.
	 */
	if (q->late.n == 0 && !q->late.all) {
		if (datadir_save_catchup(q->datadir, start) == -1) {
			pthread_mutex_unlock(&q->mu);
			return -1;
		}
		q->late_first = now;
	}
	lateset_interval(&q->late, start);
	lateset_count(&q->late, sensor, 1);
	q->late_last = now;
	if (now - q->late_logged >= LATE_LOG_EVERY) {
		q->late_logged = now;
		log_info("late record from %s for interval %s (final "
			 "already): %" PRIu64 " late %s of %zu %s wait for a "
			 "catch-up",
		    sensor, iso8601(start, ts), q->late.records,
		    plural(q->late.records, "record", "records"), q->late.n,
		    plural(q->late.n, "interval", "intervals"));
	}
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

/* When the pending late records are due for a catch-up (mu held). */
static double
late_due(const struct rrdq *q)
{
	double quiet = q->late_last + q->conf.settle;
	double cap = q->late_first + (double)LATE_MAX_SETTLES * q->conf.settle;
	double due = quiet < cap ? quiet : cap;

	return due > q->catchup_at ? due : q->catchup_at;
}

/*
 * A derivation in progress: the archived intervals up to some point
 * written into w and sum, one interval at a time, so that it can pause
 * (the writer then writes the jobs queued meanwhile) and go on further.
 */
struct deriver {
	struct archive *a;
	struct ingest *g;
	struct rrdw *w;
	struct summary *sum;
	/* Where each final interval goes; by default into w and sum. */
	ingest_final_fn job;
	void *job_arg;
	struct rrdq_derived *d;
	int64_t done; /* intervals up to here are derived */
	int64_t *v; /* the archive's intervals, listed when needed */
	size_t n, pos;
	int64_t listed; /* upto when v was listed: v has every file to here */
	uint32_t len;
	rrdq_progress_fn progress; /* after each listed interval, or NULL */
	void *progress_arg;
};

/*
 * A final interval's RRD files, then its summary buckets: what the writer
 * does with each job, and a derivation with each interval.  Returns the
 * files not written; *sumfail is set if the summary was not.
 */
static size_t
job_write(struct rrdw *w, struct summary *sum, const struct rrd_job *j,
    int *sumfail)
{
	size_t failed = rrdw_write(w, j);

	*sumfail = summary_add(sum, j) == -1;
	return failed;
}

static void
derive_write(struct rrd_job *j, void *arg)
{
	struct deriver *dv = arg;
	int sumfail;

	dv->d->failed += job_write(dv->w, dv->sum, j, &sumfail);
	dv->d->failed += (size_t)sumfail;
	rrd_job_free(j);
}

static void
derive_final(struct rrd_job *j, void *arg)
{
	struct deriver *dv = arg;

	dv->job(j, dv->job_arg);
}

/* The same rules as for records arriving now, on this clock. */
static void
derive_one(const uint8_t *rec, size_t len, void *arg)
{
	struct deriver *dv = arg;
	struct ingest_verdict v;

	if (ingest_record(dv->g, NULL, rec, len, time(NULL), &v) == 0 &&
	    v.ack == ACK_STORED)
		dv->d->records++;
	else if (v.ack == ACK_REFUSED)
		dv->d->refused[v.reason]++;
	else
		dv->d->bad++;
}

static void
deriver_init(struct deriver *dv, struct archive *a,
    const struct rrdq_conf *conf, struct rrdw *w, struct summary *sum,
    struct rrdq_derived *d)
{
	memset(d, 0, sizeof(*d));
	d->last = INT64_MIN;
	dv->a = a;
	dv->w = w;
	dv->sum = sum;
	dv->job = derive_write;
	dv->job_arg = dv;
	dv->d = d;
	dv->done = INT64_MIN;
	dv->v = NULL;
	dv->n = dv->pos = 0;
	dv->listed = INT64_MIN;
	dv->len = conf->len;
	dv->progress = NULL;
	dv->progress_arg = NULL;
	dv->g = ingest_new(conf->len, conf->grace, conf->active, NULL,
	    INT64_MIN, derive_final, dv);
	ingest_set_skew(dv->g, conf->skew);
	ingest_set_sketch_key(dv->g, conf->sketch_keyid);
	/* Each file written once per many intervals, not once each. */
	if (w != NULL)
		d->failed += rrdw_hold(w, 1);
}

static void
deriver_free(struct deriver *dv)
{
	if (dv->w != NULL)
		dv->d->failed += rrdw_hold(dv->w, 0);
	ingest_free(dv->g);
	free(dv->v);
}

/*
 * Derive interval t (a missing file is an interval without records);
 * -1 if the archive could not be read, what of it was read derived all
 * the same.
 */
static int
deriver_one(struct deriver *dv, int64_t t)
{
	char ts[ISO8601_LEN];
	int rc = 0;

	if (archive_scan(dv->a, t, derive_one, dv) == -1) {
		log_warnx("interval %s: archive unreadable", iso8601(t, ts));
		rc = -1;
	}
	/* One interval at a time: each is final once read. */
	ingest_tick(dv->g, 0, 1);
	dv->done = t;
	return rc;
}

static int
deriver_paused(double until, const atomic_int *stop)
{
	return (until > 0 && mono() > until) ||
	    (stop != NULL && atomic_load(stop));
}

/*
 * Derive the intervals after dv->done up to upto, until until (monotonic
 * seconds, 0 for no limit) or *stop; returns 1 once all are done.
 */
static int
deriver_run(struct deriver *dv, int64_t upto, double until,
    const atomic_int *stop)
{
	struct ingest_stats st;
	int64_t t;
	int all = 1;

	/* Listed again only at its end: a large archive lists slowly. */
	if (dv->pos == dv->n ||
	    (dv->listed == INT64_MIN && upto != INT64_MIN)) {
		free(dv->v);
		dv->v = archive_intervals(dv->a, &dv->n);
		dv->pos = 0;
		dv->listed = upto;
	}
	for (; dv->pos < dv->n && (t = dv->v[dv->pos]) <= upto; dv->pos++) {
		if (t <= dv->done)
			continue;
		if (deriver_paused(until, stop)) {
			all = 0;
			break;
		}
		(void)deriver_one(dv, t);
		if (dv->progress != NULL)
			dv->progress(dv->pos + 1, dv->n, dv->progress_arg);
	}
	/*
	 * Intervals written since the listing are not in it; each is one
	 * length after the one before, so they are looked up by name.
	 */
	if (all && dv->listed != INT64_MIN && dv->listed != INT64_MAX) {
		t = dv->done > dv->listed ? dv->done : dv->listed;
		while (t <= upto - (int64_t)dv->len) {
			if (deriver_paused(until, stop)) {
				all = 0;
				break;
			}
			t += dv->len;
			(void)deriver_one(dv, t);
		}
	}
	if (all && dv->w != NULL)
		dv->d->failed += rrdw_flush(dv->w);
	ingest_stats(dv->g, &st);
	dv->d->intervals = st.finalized;
	dv->d->last = ingest_last_final(dv->g);
	return all;
}

/*
 * The catch-up's derivation, of every archived interval, into w and sum;
 * then the markers as a catch-up and the writer leave them: no late
 * record waits, and last_final is the newest interval written.
 */
int
rrdq_rebuild(struct archive *a, const struct rrdq_conf *conf, struct rrdw *w,
    struct summary *sum, struct rrdq_derived *d, rrdq_progress_fn progress,
    void *arg)
{
	struct deriver dv;

	deriver_init(&dv, a, conf, w, sum, d);
	dv.progress = progress;
	dv.progress_arg = arg;
	deriver_run(&dv, INT64_MAX, 0, NULL);
	deriver_free(&dv);
	if (d->failed > 0)
		return -1;
	/* What it derived includes every late record. */
	if (datadir_clear_catchup(conf->datadir) == -1)
		return -1;
	if (d->last != INT64_MIN &&
	    datadir_save_last_final(conf->datadir, d->last) == -1)
		return -1;
	return 0;
}

static int
rmtree_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	if (remove(path) == -1) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

static int
rmtree(const char *path)
{
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	return nftw(path, rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/*
 * Swap two directory trees in one step, so that readers see the old one
 * or the new one; afterwards fresh holds the old tree.
 */
static int
tree_swap(const char *fresh, const char *live)
{
	char old[4200];

	if (renameat2(AT_FDCWD, fresh, AT_FDCWD, live, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS) {
		log_warn("catch-up: exchanging %s and %s", fresh, live);
		return -1;
	}
	/* A filesystem that cannot exchange: a moment without the tree. */
	snprintf(old, sizeof(old), "%s.old", fresh);
	if (rename(live, old) == -1) {
		log_warn("catch-up: replacing %s", live);
		return -1;
	}
	if (rename(fresh, live) == -1) {
		/* The live tree goes back; the caller removes fresh only. */
		log_warn("catch-up: replacing %s", live);
		if (rename(old, live) == -1)
			fatal("catch-up: %s is left at %s", live, old);
		return -1;
	}
	/* Where the caller removes what the catch-up leaves. */
	if (rename(old, fresh) == -1)
		log_warn("catch-up: %s left behind", old);
	return 0;
}

static void rrdq_job(struct rrdq *, struct qitem *);

/*
 * Derive up to the newest interval written, in slices; between slices
 * the jobs queued meanwhile are written to the live trees (so that
 * last_final goes on), and the derivation then follows them.  Once it
 * has caught up with the live trees, they are written no more: what the
 * last slice let through is derived, the trees swapped, and the queue
 * goes to the new ones.  Without that pause a stream of final intervals
 * as fast as the writer (a backlog) would be chased for ever.  Returns 0,
 * -1 if files could not be written, -2 if stopping.
 */
static int
catchup_derive(struct rrdq *q, struct deriver *dv, int64_t *upto)
{
	struct qitem *it;
	char t1[ISO8601_LEN], t2[ISO8601_LEN];
	double told = mono();
	int64_t w;
	int all, draining = 1;

	for (;;) {
		all = deriver_run(dv, *upto, mono() + CATCHUP_SLICE, &q->abort);
		if (atomic_load(&q->abort))
			return -2;
		if (dv->d->failed > 0)
			return -1;
		/* A long catch-up says that it moves, and how far. */
		if (mono() - told >= CATCHUP_PROGRESS && dv->d->intervals > 0) {
			told = mono();
			log_info("catch-up: %" PRIu64
				 " %s derived, up to interval %s of %s",
			    dv->d->intervals,
			    plural(dv->d->intervals, "interval", "intervals"),
			    iso8601(dv->d->last, t1), iso8601(*upto, t2));
		}
		if (all)
			draining = 0;
		while (draining) {
			pthread_mutex_lock(&q->mu);
			it = q->head != NULL && q->retry_at <= mono() ? q->head
								      : NULL;
			pthread_mutex_unlock(&q->mu);
			if (it == NULL)
				break;
			rrdq_job(q, it);
		}
		pthread_mutex_lock(&q->mu);
		w = q->written;
		pthread_mutex_unlock(&q->mu);
		if (all && w == *upto)
			return 0;
		*upto = w;
	}
}

/* A rebuild's progress in DATADIR/rebuilt, for the command that waits. */
static void
rebuilt_save(struct rrdq *q, enum datadir_rebuilt_state st)
{
	q->rebuilt.state = st;
	q->rebuilt_told = mono();
	(void)datadir_save_rebuilt(q->datadir, &q->rebuilt);
}

static void
rebuilt_progress(uint64_t done, uint64_t total, void *arg)
{
	struct rrdq *q = arg;

	q->rebuilt.done = done;
	q->rebuilt.total = total;
	if (mono() - q->rebuilt_told >= REBUILT_EVERY)
		rebuilt_save(q, REBUILT_DERIVING);
}

/*
 * Derive DATADIR/rrd and DATADIR/summary again beside the live ones and
 * swap them in; the writer (this thread) is the only one who writes
 * either, and brings the new trees up to what it wrote to the old ones
 * meanwhile.  *upto: where to start, then where it ended.
 */
static int
catchup_build(struct rrdq *q, int64_t *upto, struct rrdq_derived *d)
{
	char fresh[DATADIR_PATH_MAX], path[DATADIR_PATH_MAX], err[512];
	struct deriver dv;
	struct archive *a;
	struct summary *s;
	struct rrdw *w;
	int rc = -1;

	datadir_catchup_tree(q->datadir, fresh, sizeof(fresh));
	if (rmtree(fresh) == -1)
		return -1;
	if ((a = archive_open(q->datadir, err, sizeof(err))) == NULL) {
		log_warnx("catch-up: %s", err);
		return -1;
	}
	w = rrdw_new(fresh, q->conf.len, NULL, err, sizeof(err));
	s = w ? summary_open(fresh, err, sizeof(err)) : NULL;
	if (s != NULL)
		summary_sensor_sums(s, !q->conf.no_sensor_sums);
	if (w != NULL && s != NULL) {
		deriver_init(&dv, a, &q->conf, w, s, d);
		if (q->rebuilding) {
			dv.progress = rebuilt_progress;
			dv.progress_arg = q;
		}
		rc = catchup_derive(q, &dv, upto);
		deriver_free(&dv);
		if (rc == -1)
			log_warnx("catch-up: %zu files not written in %s",
			    d->failed, fresh);
	} else
		log_warnx("catch-up: %s", err);
	rrdw_free(w);
	summary_free(s);
	archive_free(a);
	if (rc == 0) {
		rrdw_release(q->w);
		datadir_rrd_dir(fresh, path, sizeof(path));
		rc = tree_swap(path, rrdw_root(q->w));
		rrdw_reload(q->w);
	}
	if (rc == 0) {
		datadir_summary_dir(fresh, path, sizeof(path));
		rc = tree_swap(path, summary_dir(q->sum));
		summary_reload(q->sum);
	}
	if (rc == 0)
		rc = datadir_save_generation(q->datadir,
		    datadir_generation(q->datadir) + 1);
	(void)rmtree(fresh);
	return rc;
}

static void
retry_later(struct rrdq *q, double now)
{
	q->backoff = q->backoff ? 2 * q->backoff : RETRY_MIN;
	if (q->backoff > RETRY_MAX)
		q->backoff = RETRY_MAX;
	q->retry_at = now + q->backoff;
	if (q->attempts++ == 0)
		q->failing_since = now;
}

static void
retry_done(struct rrdq *q)
{
	q->backoff = 0;
	q->attempts = 0;
	q->retry_at = 0;
}

static void
rrdq_catchup(struct rrdq *q)
{
	struct rrdq_derived d;
	struct lateset took;
	char who[512], ts[ISO8601_LEN];
	int64_t upto;
	double t0 = mono();
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	took = q->late;
	memset(&q->late, 0, sizeof(q->late));
	upto = q->written;
	q->rebuilding = q->rebuild_asked;
	q->rebuild_asked = 0;
	memset(&q->rebuilt, 0, sizeof(q->rebuilt));
	q->rebuilt.id = q->rebuild_id;
	pthread_mutex_unlock(&q->mu);
	lateset_describe(&took, who, sizeof(who));
	if (q->rebuilding) {
		log_info("rebuild %" PRId64 ": deriving the RRDs and summaries "
			 "up to interval %s again from the archive, beside "
			 "the live ones",
		    q->rebuilt.id, iso8601(upto, ts));
		rebuilt_save(q, REBUILT_DERIVING);
	} else
		log_info("catch-up: applying %" PRIu64
			 " late %s of %zu %s (%s): deriving the RRDs and "
			 "summaries up to interval %s again from the archive",
		    took.records, plural(took.records, "record", "records"),
		    took.n, plural(took.n, "interval", "intervals"), who,
		    iso8601(upto, ts));
	memset(&d, 0, sizeof(d));
	if (upto != INT64_MIN)
		rc = catchup_build(q, &upto, &d);
	if (q->rebuilding && rc != -2)
		rebuilt_save(q, rc == 0 ? REBUILT_DONE : REBUILT_FAILED);
	pthread_mutex_lock(&q->mu);
	/* Failed: the next catch-up serves it (and any newer one). */
	if (q->rebuilding && rc == -1) {
		if (!q->rebuild_asked || q->rebuilt.id > q->rebuild_id)
			q->rebuild_id = q->rebuilt.id;
		q->rebuild_asked = 1;
	}
	q->rebuilding = 0;
	if (rc < 0) {
		lateset_merge(&q->late, &took, 1, upto);
		/* Each try derives everything again: back off further. */
		q->catchup_backoff = q->catchup_backoff == 0
		    ? RETRY_MAX
		    : 2 * q->catchup_backoff;
		if (q->catchup_backoff > CATCHUP_RETRY_MAX)
			q->catchup_backoff = CATCHUP_RETRY_MAX;
		q->catchup_at = mono() + q->catchup_backoff;
		if (rc == -1)
			log_warnx("catch-up failed; tried again in %us",
			    q->catchup_backoff);
		else
			log_info("catch-up given up: stopping");
	} else {
		lateset_merge(&q->late, &took, 0, upto);
		q->catchup_backoff = 0;
		if (q->late.n == 0 && !q->late.all)
			(void)datadir_clear_catchup(q->datadir);
		log_info("catch-up done in %.1f s: %" PRIu64 " %s from %zu %s "
			 "written again, up to interval %s; %zu late %s "
			 "still wait",
		    mono() - t0, d.intervals,
		    plural(d.intervals, "interval", "intervals"), d.records,
		    plural(d.records, "record", "records"), iso8601(upto, ts),
		    q->late.n, plural(q->late.n, "interval", "intervals"));
	}
	pthread_mutex_unlock(&q->mu);
	lateset_free(&took);
}

/* Stopping with a job that cannot be written: the archive holds it. */
static void
rrdq_drop_queue(struct rrdq *q)
{
	struct qitem *it;
	char ts[ISO8601_LEN];

	log_warnx("stopping with %zu %s from %s not in the RRDs: the next "
		  "start finalizes them again from the archive",
	    q->n, plural(q->n, "interval", "intervals"),
	    iso8601(q->head->job->start, ts));
	while ((it = q->head) != NULL) {
		q->head = it->next;
		rrd_job_free(it->job);
		free(it);
	}
	q->tail = NULL;
	q->n = 0;
	q->bytes = 0;
}

static size_t
job_bytes(const struct rrd_job *j)
{
	size_t n = sizeof(*j) +
	    j->nvalues * (sizeof(*j->idx) + 3 * sizeof(*j->avg)) +
	    j->nhealth * sizeof(*j->health) + j->nfault * sizeof(*j->fault),
	       i;

	if (j->all_src != NULL)
		n += hll_bytes(j->all_src) + hll_bytes(j->all_dst);
	n += j->nsens * sizeof(*j->sens);
	for (i = 0; i < j->nsens; i++)
		n += j->sens[i].n *
		    (sizeof(*j->sens[i].idx) + sizeof(*j->sens[i].packets));
	for (i = 0; j->src != NULL && i < j->nvalues; i++)
		if (j->src[i] != NULL)
			n += hll_bytes(j->src[i]) + hll_bytes(j->dst[i]) +
			    2 * sizeof(*j->src);
	return n;
}

static void
fill_final(struct rrd_job *j, void *arg)
{
	struct rrd_job **out = arg;

	if (*out != NULL)
		rrd_job_free(*out);
	*out = j;
}

/*
 * A hollow job gets its averages again from the archive, by the rules of
 * a catch-up; it then holds what a catch-up would write.  -1 if the
 * archive cannot be read (tried again later).
 */
static int
rrdq_fill(struct rrdq *q, struct qitem *it)
{
	struct rrd_job *out = NULL, *j = it->job;
	struct rrdq_derived d;
	struct deriver dv;
	struct archive *a;
	char err[512], ts[ISO8601_LEN];
	int rc = -1;

	if ((a = archive_open(q->datadir, err, sizeof(err))) == NULL) {
		log_warnx("interval %s: %s", iso8601(j->start, ts), err);
		return -1;
	}
	deriver_init(&dv, a, &q->conf, NULL, NULL, &d);
	dv.job = fill_final;
	dv.job_arg = &out;
	if (deriver_one(&dv, j->start) == 0) {
		if (out != NULL && out->start == j->start) {
			pthread_mutex_lock(&q->mu);
			it->job = out;
			it->hollow = 0;
			q->bytes += job_bytes(out) - job_bytes(j);
			pthread_mutex_unlock(&q->mu);
			rrd_job_free(j);
			out = NULL;
			rc = 0;
		} else
			log_warnx("interval %s: not in the archive",
			    iso8601(j->start, ts));
	}
	if (out != NULL)
		rrd_job_free(out);
	deriver_free(&dv);
	archive_free(a);
	return rc;
}

/* The head job is done with. */
static void
rrdq_pop(struct rrdq *q, struct qitem *it)
{
	pthread_mutex_lock(&q->mu);
	q->bytes -= job_bytes(it->job);
	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	pthread_mutex_unlock(&q->mu);
	rrd_job_free(it->job);
	free(it);
}

/*
 * Write the head job: its RRD files, its summary buckets, then
 * DATADIR/last_final.  If any of these fails, the job stays at the head
 * and is written again later; the parts that succeeded are skipped then.
 */
static void
rrdq_job(struct rrdq *q, struct qitem *it)
{
	const struct rrd_job *j = it->job;
	char t1[ISO8601_LEN], t2[ISO8601_LEN];
	size_t failed;
	int sumfail, lfail = 0;

	if (j->faults_only) {
		/* Written once: rrdw keeps what failed for the next row. */
		(void)rrdw_write(q->w, j);
		rrdq_pop(q, it);
		return;
	}
	if (it->hollow && rrdq_fill(q, it) == -1) {
		pthread_mutex_lock(&q->mu);
		retry_later(q, mono());
		if (q->stopping)
			rrdq_drop_queue(q);
		pthread_mutex_unlock(&q->mu);
		return;
	}
	j = it->job;
	failed = job_write(q->w, q->sum, j, &sumfail);

	if (failed == 0 && !sumfail)
		lfail = datadir_save_last_final(q->datadir, j->start) == -1;
	pthread_mutex_lock(&q->mu);
	if (failed > 0 || sumfail || lfail) {
		retry_later(q, mono());
		if (q->attempts == 1)
			log_warnx("interval %s: %zu RRD %s%s%s not "
				  "written; retried, last_final stays at "
				  "%s and later intervals wait",
			    iso8601(j->start, t1), failed,
			    plural(failed, "file", "files"),
			    sumfail ? ", the window summary" : "",
			    lfail ? ", last_final" : "",
			    iso8601(q->written, t2));
		if (q->stopping)
			rrdq_drop_queue(q);
		pthread_mutex_unlock(&q->mu);
		return;
	}
	if (q->attempts > 0)
		log_info("interval %s: written after %u attempts in "
			 "%.0f s; the RRDs caught up",
		    iso8601(j->start, t1), q->attempts + 1,
		    mono() - q->failing_since);
	retry_done(q);
	q->written = j->start;
	pthread_mutex_unlock(&q->mu);
	rrdq_pop(q, it);
}

/*
 * Several final intervals waiting (a backlog after an outage, a replay):
 * their RRD updates are held and each file written once for all of them
 * (rrdw_hold), their summaries added in the same pass, then last_final
 * set to the newest.  Returns 0 with the jobs popped; -1 if fewer than
 * two could be taken, or anything failed: then the head is written alone
 * as ever (rrdq_job), which skips what the batch wrote and retries the
 * rest.
 */
static int
rrdq_batch(struct rrdq *q)
{
	struct qitem *v[BATCH_MAX], *it;
	size_t n = 0, i, failed = 0;
	int sumfail, bad = 0;

	pthread_mutex_lock(&q->mu);
	for (it = q->head; it != NULL && n < BATCH_MAX &&
	     !it->job->faults_only && q->attempts == 0;
	     it = it->next)
		v[n++] = it;
	pthread_mutex_unlock(&q->mu);
	if (n < 2)
		return -1;
	failed += rrdw_hold(q->w, 1);
	for (i = 0; i < n; i++) {
		if (v[i]->hollow && rrdq_fill(q, v[i]) == -1)
			break;
		failed += job_write(q->w, q->sum, v[i]->job, &sumfail);
		bad |= sumfail;
		/* A job after a failure would move its files past it. */
		if (failed > 0 || bad)
			break;
	}
	n = i;
	failed += rrdw_hold(q->w, 0);
	if (n == 0 || failed > 0 || bad ||
	    datadir_save_last_final(q->datadir, v[n - 1]->job->start) == -1)
		return -1;
	log_debug("intervals %" PRId64 " to %" PRId64 ": %zu written together",
	    v[0]->job->start, v[n - 1]->job->start, n);
	pthread_mutex_lock(&q->mu);
	q->written = v[n - 1]->job->start;
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < n; i++)
		rrdq_pop(q, v[i]);
	return 0;
}

enum { DO_JOB, DO_CATCHUP, DO_EXIT };

/*
 * Wait for work (mu held).  Jobs come first: a catch-up starts once the
 * queue is empty, so that it covers every final interval.
 */
static int
rrdq_next(struct rrdq *q)
{
	struct timespec ts;
	double now, wake;

	for (;;) {
		now = mono();
		wake = -1;
		if (q->head != NULL) {
			if (q->stopping || q->retry_at <= now)
				return DO_JOB;
			wake = q->retry_at;
		} else if (q->stopping)
			return DO_EXIT;
		else if (q->late.n > 0 || q->late.all) {
			if ((wake = late_due(q)) <= now)
				return DO_CATCHUP;
		}
		if (wake < 0) {
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		ts.tv_sec = (time_t)wake;
		ts.tv_nsec = (long)((wake - (double)ts.tv_sec) * 1e9);
		(void)pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	}
}

static void *
rrdq_main(void *arg)
{
	struct rrdq *q = arg;
	int what;

	for (;;) {
		pthread_mutex_lock(&q->mu);
		what = rrdq_next(q);
		pthread_mutex_unlock(&q->mu);
		if (what == DO_EXIT)
			return NULL;
		if (what == DO_CATCHUP)
			rrdq_catchup(q);
		else if (rrdq_batch(q) == -1)
			rrdq_job(q, q->head); /* only this thread pops */
	}
}

struct rrdq *
rrdq_start(struct rrdw *w, struct summary *sum, const struct rrdq_conf *conf)
{
	struct rrdq *q = xcalloc(1, sizeof(*q));
	pthread_condattr_t ca;
	char path[DATADIR_PATH_MAX];

	q->w = w;
	q->sum = sum;
	q->conf = *conf;
	q->datadir = xstrdup(conf->datadir);
	q->conf.datadir = q->datadir;
	q->written = datadir_last_final(q->datadir);
	if (datadir_has_catchup(q->datadir)) {
		datadir_marker_path(q->datadir, DATADIR_CATCHUP, path,
		    sizeof(path));
		log_info("%s: late records of the last run were not applied "
			 "yet; catching up",
		    path);
		q->late.all = 1;
		q->late_first = q->late_last = mono() - q->conf.settle;
	}
	pthread_mutex_init(&q->mu, NULL);
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&q->cv, &ca) != 0)
		fatalx("pthread_cond_init");
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&q->thread, NULL, rrdq_main, q)) != 0)
		fatal("pthread_create");
	return q;
}

void
rrdq_push(struct rrdq *q, struct rrd_job *j)
{
	struct qitem *it = xcalloc(1, sizeof(*it));
	char ts[ISO8601_LEN];

	it->job = j;
	pthread_mutex_lock(&q->mu);
	if (!j->faults_only && q->head != NULL &&
	    q->bytes + job_bytes(j) > q->conf.queue_budget) {
		if (!q->hollowing)
			log_warnx("RRD writer queue over %zu MiB: interval %s "
				  "and those after it wait as their start "
				  "only, derived from the archive when written",
			    q->conf.queue_budget >> 20, iso8601(j->start, ts));
		q->hollowing = 1;
		rrd_job_hollow(j);
		it->hollow = 1;
	} else if (q->head == NULL)
		q->hollowing = 0;
	q->bytes += job_bytes(j);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
rrdq_rebuild_ask(struct rrdq *q, int64_t id)
{
	pthread_mutex_lock(&q->mu);
	/* One rebuild not begun yet serves every request made before it. */
	if (!q->rebuild_asked || id > q->rebuild_id)
		q->rebuild_id = id;
	q->rebuild_asked = 1;
	/*
	 * As the marker of late records found at start: a late record that
	 * comes meanwhile (then marked by none of its own) or a restart
	 * before the rebuild is done are covered by a whole catch-up.
	 */
	if (!q->late.all && q->late.n == 0)
		(void)datadir_save_catchup(q->datadir, 0);
	/* As a catch-up of intervals unknown, due now: no settling, no backoff. */
	q->late.all = 1;
	q->late_first = q->late_last = mono() - q->conf.settle;
	q->catchup_at = 0;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t
rrdq_pending(struct rrdq *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void
rrdq_backlog(struct rrdq *q, struct rrdq_backlog *b)
{
	struct qitem *it;

	memset(b, 0, sizeof(*b));
	pthread_mutex_lock(&q->mu);
	/* At most what the queue budget holds: a walk costs little. */
	for (it = q->head; it != NULL; it = it->next)
		if (!it->job->faults_only)
			b->intervals++;
	b->jobs = q->n;
	b->bytes = q->bytes;
	b->written = q->written;
	b->late_records = q->late.records;
	b->late_intervals = q->late.n;
	pthread_mutex_unlock(&q->mu);
}

void
rrdq_stop(struct rrdq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	atomic_store(&q->abort, 1);
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	if (q->late.n > 0 || q->late.all)
		log_info("stopping with %" PRIu64 " late %s of %zu %s not "
			 "applied yet: the next start catches up",
		    q->late.records,
		    plural(q->late.records, "record", "records"), q->late.n,
		    plural(q->late.n, "interval", "intervals"));
	lateset_free(&q->late);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->datadir);
	free(q);
}

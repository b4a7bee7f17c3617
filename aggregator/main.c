/*
 * teiten-aggregator: receive sensor records, archive them durably, average
 * them per interval across sensors and write the RRDs; or, as
 * "teiten-aggregator rebuild", regenerate every RRD from the archive.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "aggmetrics.h"
#include "archive.h"
#include "check.h"
#include "config.h"
#include "datadir.h"
#include "dirlock.h"
#include "fleet.h"
#include "human.h"
#include "ingest.h"
#include "keyfile.h"
#include "keygen.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "options.h"
#include "preflight.h"
#include "progress.h"
#include "rebuild_live.h"
#include "rrdq.h"
#include "rrdw.h"
#include "server.h"
#include "sketchkey.h"
#include "xmalloc.h"
#include "zone.h"

struct agg {
	struct agg_conf conf;
	struct event_base *base;
	struct archive *archive;
	struct rrdw *rrdw;
	struct summary *summary;
	struct rrdq *rrdq;
	struct ingest *ingest;
	struct server *server;
	struct fleet *fleet;
	struct metrics *metrics; /* NULL unless metrics = ADDR:PORT */
	struct aggmetrics am; /* what the metrics read */
	struct event *tick, *ev_int, *ev_term, *ev_hup, *ev_usr1, *ev_usr2;
	int lockfd; /* DATADIR's lock (dirlock.h), held to the end */
	time_t summary_at; /* the last summary line, or the start */
	uint64_t fsync_n; /* archive commits at the last summary line */
	double fsync_sum; /* and the seconds they took */
	struct event *watchdog; /* NULL unless systemd asked for one */
	int64_t faults_at; /* the interval of this clock faults go to */
	struct sketchkey sk; /* with sketch_key_file */
};

/*
 * Before DATADIR is made or changed: the configuration, the keys and the
 * listening address, so that a start that fails leaves nothing behind.
 * Returns the keyring (NULL for a rebuild); *sk gets the sketch key.
 */
static struct keyring *
agg_check_start(const struct agg_conf *c, struct sketchkey *sk)
{
	struct keyring *kr = NULL;
	char err[1024], have[ZONE_NAME_MAX];

	if (check_zone(c->timezone, c->interval, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	if (c->sketch_key_file != NULL &&
	    sketchkey_load(c->sketch_key_file, sk, err, sizeof(err)) == -1)
		errx(1, "sketch_key_file %s", err);
	if (!c->rebuild) {
		if ((kr = keyring_load(c->keys, err, sizeof(err))) == NULL)
			errx(1, "%s", err);
		if (preflight_bind(c->listen, err, sizeof(err)) == -1)
			errx(1, "%s", err);
		if (c->metrics != NULL &&
		    preflight_metrics(c->metrics, err, sizeof(err)) == -1)
			errx(1, "%s", err);
	}
	if (check_step(c->datadir, c->interval, err, sizeof(err)) == -1 ||
	    (!c->rebuild &&
		check_daily_zone(c->datadir, c->timezone, have, sizeof(have),
		    err, sizeof(err)) == -1))
		errx(1, "%s", err);
	return kr;
}

/*
 * Only one process changes DATADIR.  A rebuild while the daemon runs is
 * asked of the daemon; then -1, with rc set to what main returns.
 */
static int
agg_lock_or_ask(const struct agg_conf *c, int *rc)
{
	char err[DATADIR_PATH_MAX + 256];
	struct dirlock_holder h;
	int fd;

	if ((fd = dirlock_take(c->datadir,
		 c->rebuild ? DIRLOCK_REBUILD : DIRLOCK_STARTING, &h, err,
		 sizeof(err))) != -1)
		return fd;
	if (errno != EWOULDBLOCK)
		errx(1, "%s", err);
	if (h.pid == 0)
		errx(1,
		    "%s is in use by another process (its lock holds no "
		    "process id)",
		    c->datadir);
	if (!c->rebuild)
		errx(1,
		    "%s is in use by process %ld (another "
		    "teiten-aggregator, or a rebuild)",
		    c->datadir, (long)h.pid);
	*rc = rebuild_live(c->datadir, &h);
	return -1;
}

/* DATADIR's step and zone, once it exists and they are known good. */
static void
agg_save_markers(const struct agg_conf *c)
{
	char have[ZONE_NAME_MAX], err[1024];
	uint32_t step;

	if (datadir_step(c->datadir, &step) == -1 &&
	    datadir_save_step(c->datadir, c->interval) == -1)
		errx(1, "%s: cannot write the step", c->datadir);
	/* A rebuild saves its zone once the old summaries are gone. */
	if (c->rebuild)
		return;
	if (check_daily_zone(c->datadir, c->timezone, have, sizeof(have), err,
		sizeof(err)) == -1)
		errx(1, "%s", err);
	if (strcmp(have, c->timezone) != 0 &&
	    datadir_save_zone(c->datadir, c->timezone) == -1)
		errx(1, "%s: cannot write the time zone", c->datadir);
}

/* Only the writer thread writes RRDs and summaries, failures retried. */
static void
agg_final(struct rrd_job *j, void *arg)
{
	struct agg *a = arg;

	char t[ISO8601_LEN];

	if (a->rrdq == NULL)
		fatalx("interval %s final before the writer started",
		    iso8601(j->start, t));
	rrdq_push(a->rrdq, j);
}

/* Late records go to the writer, which derives their intervals again. */
static int
agg_late(int64_t start, const char *sensor, void *arg)
{
	struct agg *a = arg;

	return rrdq_late(a->rrdq, start, sensor);
}

static void
agg_rrdq_conf(const struct agg *a, struct rrdq_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->datadir = a->conf.datadir;
	rc->len = a->conf.interval;
	rc->grace = a->conf.grace;
	rc->active = a->conf.active;
	rc->skew = a->conf.skew;
	rc->settle = a->conf.late_settle;
	rc->queue_budget = (size_t)a->conf.queue_budget << 20;
	rc->sketch_keyid = a->conf.sketch_key_file ? a->sk.id : NULL;
	rc->no_sensor_sums = a->conf.no_sensor_sums;
}

/*
 * The summary line's words, and the status line's (SIGUSR1): sensors,
 * records since the last summary (reset: a new one starts), the writer's
 * backlog and the newest final interval.
 */
static void
agg_status(struct agg *a, char *buf, size_t len, int reset)
{
	const struct metrics_hist *fs = server_fsync(a->server);
	struct fleet_window w;
	char span[32], last[ISO8601_LEN];
	int64_t lf = ingest_last_final(a->ingest);
	size_t backlog = rrdq_pending(a->rrdq);
	uint64_t commits = fs->n - a->fsync_n;
	time_t now = time(NULL);

	fleet_window(a->fleet, &w, reset);
	if (lf == INT64_MIN)
		snprintf(last, sizeof(last), "none");
	else
		iso8601(lf, last);
	human_duration(now - a->summary_at, span, sizeof(span));
	snprintf(buf, len,
	    "%zu %s connected, %zu reporting, %zu known; in the last %s: "
	    "%" PRIu64 " %s stored, %" PRIu64 " late, %" PRIu64
	    " refused, %" PRIu64 " archive %s taking %.1f ms on average; "
	    "RRD writer backlog %zu %s; newest final interval %s",
	    w.connected, plural(w.connected, "sensor", "sensors"), w.reporting,
	    w.known, span, w.stored, plural(w.stored, "record", "records"),
	    w.late, w.refused, commits, plural(commits, "commit", "commits"),
	    commits > 0 ? 1e3 * (fs->sum - a->fsync_sum) / (double)commits
			: 0.0,
	    backlog, plural(backlog, "interval", "intervals"), last);
	if (reset) {
		a->summary_at = now;
		a->fsync_n = fs->n;
		a->fsync_sum = fs->sum;
	}
}

/* The metrics' per-sensor series, from the sensor table. */
struct agg_each {
	aggmetrics_sensor_fn fn;
	void *arg;
};

static void
agg_sensor_one(const struct fleet_sensor *f, void *arg)
{
	const struct agg_each *e = arg;
	struct aggmetrics_sensor m = {f->id, f->stored, f->late, f->refused,
	    f->duplicate, f->rejected, f->packets, f->drops, f->last_record,
	    f->sessions};

	e->fn(&m, e->arg);
}

static void
agg_sensors(void *ctx, aggmetrics_sensor_fn fn, void *arg)
{
	struct agg_each e = {fn, arg};

	fleet_foreach(ctx, agg_sensor_one, &e);
}

static void
agg_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct agg *a = arg;
	char line[512];

	time_t now = time(NULL);
	int64_t cur = (int64_t)now - (int64_t)now % a->conf.interval;

	(void)fd;
	(void)what;
	ingest_tick(a->ingest, now, 0);
	fleet_tick(a->fleet, now);
	if (a->conf.log_summary > 0 &&
	    now - a->summary_at >= (time_t)a->conf.log_summary) {
		agg_status(a, line, sizeof(line), 1);
		log_info("summary: %s", line);
	}
	/* After a pause, the faults of all of it go to the last interval. */
	if (cur > a->faults_at) {
		rrdq_push(a->rrdq,
		    ingest_faults(a->ingest, cur - (int64_t)a->conf.interval));
		a->faults_at = cur;
	}
}

static void
agg_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct agg *a = arg;

	(void)what;
	log_info("%s: stopping", strsignal((int)sig));
	notify_stopping();
	event_base_loopbreak(a->base);
}

static void
agg_on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct agg *a = arg;
	char line[512];

	(void)sig;
	(void)what;
	agg_status(a, line, sizeof(line), 0);
	log_info("status: %s", line);
}

/* `teiten-aggregator rebuild` asks (rebuild_live.h). */
static void
agg_on_usr2(evutil_socket_t sig, short what, void *arg)
{
	struct agg *a = arg;
	int64_t id = datadir_rebuild(a->conf.datadir);

	(void)sig;
	(void)what;
	log_info("rebuild %" PRId64 " asked: the RRDs and summaries are "
		 "derived again beside the live ones, sensors still served",
	    id);
	rrdq_rebuild_ask(a->rrdq, id);
}

static void
agg_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct agg *a = arg;
	struct keyring *kr;
	char err[512];
	size_t n;

	(void)sig;
	(void)what;
	if ((kr = keyring_load(a->conf.keys, err, sizeof(err))) == NULL) {
		log_warnx("keys not reloaded: %s", err);
		return;
	}
	log_info("%s: %zu sensor %s loaded", a->conf.keys, keyring_count(kr),
	    plural(keyring_count(kr), "key", "keys"));
	notify_status("listening on %s, %zu sensor keys", a->conf.listen,
	    keyring_count(kr));
	if ((n = server_set_keys(a->server, kr)) > 0)
		log_info("%zu %s ended: key removed or changed", n,
		    plural(n, "session", "sessions"));
}

static void
agg_report(struct agg *a)
{
	struct ingest_stats is;
	struct server_stats ss;

	ingest_stats(a->ingest, &is);
	log_info("records: %" PRIu64 " stored (%" PRIu64 " late), %" PRIu64
		 " duplicate, %" PRIu64 " rejected, %" PRIu64
		 " refused (%" PRIu64 " ahead of this clock, %" PRIu64
		 " before 2000, %" PRIu64
		 " over the open interval cap); %" PRIu64 " %s final, %zu open",
	    is.stored, is.late, is.duplicates, is.rejected,
	    is.refused[REFUSE_FUTURE] + is.refused[REFUSE_PAST] +
		is.refused[REFUSE_OPEN],
	    is.refused[REFUSE_FUTURE], is.refused[REFUSE_PAST],
	    is.refused[REFUSE_OPEN], is.finalized,
	    plural(is.finalized, "interval", "intervals"),
	    ingest_open_intervals(a->ingest));
	ingest_log_refusals(a->ingest);
	if (a->server == NULL)
		return;
	server_stats(a->server, &ss);
	log_info("connections: %" PRIu64 " accepted, %" PRIu64
		 " unknown sensor, %" PRIu64 " bad MAC or replay, %" PRIu64
		 " bad frame, %" PRIu64 " timed out, %" PRIu64
		 " over the limit, %" PRIu64
		 " evicted unauthenticated, %" PRIu64
		 " ended on a key change, %" PRIu64
		 " paused for unread acks, %" PRIu64
		 " replaced by a newer session; %" PRIu64 " %s",
	    ss.accepted, ss.unknown_sensor, ss.bad_mac, ss.bad_frame,
	    ss.timeouts, ss.too_many, ss.evicted, ss.revoked, ss.paused,
	    ss.replaced, ss.commits, plural(ss.commits, "commit", "commits"));
}

/*
 * One descriptor a sensor: take all the hard limit allows.  Returns the
 * soft limit now, and in *was the one before.
 */
static rlim_t
agg_raise_nofile(rlim_t *was)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	*was = rl.rlim_cur;
	if (rl.rlim_cur >= rl.rlim_max)
		return rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("cannot raise the open file limit");
		return *was;
	}
	return rl.rlim_cur;
}

/* The connection table sized to max_connections and the open files. */
static void
agg_conn_limit(struct agg *a, rlim_t nofile, rlim_t was)
{
	char why[256];
	size_t n;

	if (check_max_conns(a->conf.max_conns, nofile, &n, why, sizeof(why)) ==
	    -1)
		log_warnx("%s", why);
	server_set_max_conns(a->server, n);
	if (nofile != was)
		log_info("open file limit raised from %ju to %ju: at most %zu "
			 "connections",
		    (uintmax_t)was, (uintmax_t)nofile, n);
	else
		log_info("open file limit %ju: at most %zu connections",
		    (uintmax_t)nofile, n);
}

/* Standard input and output on /dev/null, as daemon(3) would leave them. */
static void
agg_null_stdio(void)
{
	int fd;

	if ((fd = open(_PATH_DEVNULL, O_RDWR)) == -1)
		err(1, "%s", _PATH_DEVNULL);
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1)
		err(1, "dup2");
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * Without -f: detach and log to syslog.  Where no syslog daemon listens,
 * syslog(3) would drop every line unseen: detach all the same, but keep
 * standard error and log there, after a line that says so.
 */
static void
agg_detach(const struct agg *a)
{
	int to_stderr = a->conf.foreground || !log_syslog_reachable();

	if (!a->conf.foreground) {
		if (to_stderr)
			log_warnx("no syslog daemon listens on %s: logging to "
				  "standard error",
			    _PATH_LOG);
		if (daemon(0, to_stderr) == -1)
			err(1, "daemon");
		if (to_stderr)
			agg_null_stdio();
	}
	log_init("teiten-aggregator", to_stderr, a->conf.verbose);
}

static void
agg_serve(struct agg *a, struct keyring *kr)
{
	struct timeval sec = {1, 0};
	struct rrdq_conf rc;
	char why[512], status[300];
	rlim_t was, nofile;

	nofile = agg_raise_nofile(&was);
	if ((a->server = server_new(a->base, a->conf.listen, a->ingest,
		 a->archive, a->conf.auth_timeout, why, sizeof(why))) == NULL)
		errx(1, "%s", why);
	server_set_keys(a->server, kr);
	a->fleet = fleet_new(a->conf.interval);
	server_set_fleet(a->server, a->fleet);
	if (a->conf.metrics != NULL &&
	    (a->metrics = metrics_new(a->base, a->conf.metrics, aggmetrics_fill,
		 &a->am, why, sizeof(why))) == NULL)
		errx(1, "%s", why);
	agg_detach(a);
	/* daemon(3) forked: the lock is this process's now, and says so. */
	if (dirlock_set(a->lockfd, DIRLOCK_STARTING) == -1)
		fatal("%s: writing the lock", a->conf.datadir);
	agg_conn_limit(a, nofile, was);
	event_reinit(a->base);
	agg_rrdq_conf(a, &rc);
	a->rrdq = rrdq_start(a->rrdw, a->summary, &rc);
	a->am.ingest = a->ingest;
	a->am.server = a->server;
	a->am.rrdq = a->rrdq;
	a->am.sensors = agg_sensors;
	a->am.sensors_ctx = a->fleet;
	ingest_set_late(a->ingest, agg_late, a);
	ingest_recover(a->ingest, time(NULL));
	a->faults_at =
	    (int64_t)time(NULL) - (int64_t)time(NULL) % a->conf.interval;
	a->tick = event_new(a->base, -1, EV_PERSIST, agg_on_tick, a);
	a->ev_int = evsignal_new(a->base, SIGINT, agg_on_stop, a);
	a->ev_term = evsignal_new(a->base, SIGTERM, agg_on_stop, a);
	a->ev_hup = evsignal_new(a->base, SIGHUP, agg_on_hup, a);
	a->ev_usr1 = evsignal_new(a->base, SIGUSR1, agg_on_usr1, a);
	a->ev_usr2 = evsignal_new(a->base, SIGUSR2, agg_on_usr2, a);
	a->summary_at = time(NULL);
	if (a->tick == NULL || a->ev_int == NULL || a->ev_term == NULL ||
	    a->ev_hup == NULL || a->ev_usr1 == NULL || a->ev_usr2 == NULL ||
	    event_add(a->tick, &sec) == -1 ||
	    evsignal_add(a->ev_int, NULL) == -1 ||
	    evsignal_add(a->ev_term, NULL) == -1 ||
	    evsignal_add(a->ev_hup, NULL) == -1 ||
	    evsignal_add(a->ev_usr1, NULL) == -1 ||
	    evsignal_add(a->ev_usr2, NULL) == -1)
		fatalx("cannot set up the event loop");
	/* It answers SIGUSR2 now: `rebuild` may ask it. */
	if (dirlock_set(a->lockfd, DIRLOCK_DAEMON) == -1)
		fatal("%s: writing the lock", a->conf.datadir);
	signal(SIGPIPE, SIG_IGN);
	log_info("listening on %s, %zu %s, interval %us, grace %us, "
		 "data in %s%s%s",
	    a->conf.listen, keyring_count(kr),
	    plural(keyring_count(kr), "sensor", "sensors"), a->conf.interval,
	    a->conf.grace, a->conf.datadir,
	    a->conf.rrdcached ? ", RRDs through rrdcached " : "",
	    a->conf.rrdcached ? a->conf.rrdcached : "");
	if (a->metrics != NULL)
		log_info("metrics on http://%s/metrics", a->conf.metrics);
	/* Bound, and the writer and the recovered intervals are in place. */
	snprintf(status, sizeof(status), "listening on %s, %zu sensor keys",
	    a->conf.listen, keyring_count(kr));
	notify_ready(status);
	a->watchdog = notify_watchdog(a->base);
	if (event_base_dispatch(a->base) == -1)
		fatalx("event loop failed");
	metrics_free(a->metrics);
	a->metrics = NULL;
	/* The interval under way gets its row now; a restart adds to the next. */
	rrdq_push(a->rrdq, ingest_faults(a->ingest, a->faults_at));
	fleet_flush(a->fleet, time(NULL));
	rrdq_stop(a->rrdq);
	agg_report(a);
	server_free(a->server);
	a->server = NULL;
	fleet_free(a->fleet);
	a->fleet = NULL;
	event_free(a->tick);
	event_free(a->ev_int);
	event_free(a->ev_term);
	event_free(a->ev_hup);
	event_free(a->ev_usr1);
	event_free(a->ev_usr2);
	if (a->watchdog != NULL)
		event_free(a->watchdog);
}

/* Remove what a rebuild regenerates: RRDs and window summaries. */
static void
agg_clear_rrds(const char *datadir)
{
	char path[DATADIR_PATH_MAX], file[DATADIR_PATH_MAX + 300];
	struct dirent *de;
	int i;
	DIR *d;

	/* Each protocol's keys, the sensors' health, both summary kinds. */
	for (i = 0; i < PROTO_COUNT + 1 + DATADIR_SUMS; i++) {
		if (i < PROTO_COUNT)
			datadir_proto_dir(datadir, i, path, sizeof(path));
		else if (i == PROTO_COUNT)
			datadir_sensor_dir(datadir, path, sizeof(path));
		else
			datadir_sum_dir(datadir, i - PROTO_COUNT - 1, path,
			    sizeof(path));
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (strstr(de->d_name, ".rrd") == NULL &&
			    strstr(de->d_name, ".sum") == NULL)
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
			if (unlink(file) == -1)
				err(1, "%s", file);
		}
		closedir(d);
	}
	datadir_sensors_rrd(datadir, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		err(1, "%s", path);
}

/* Archived intervals derived so far, for the progress line. */
struct agg_rebuilt {
	uint64_t done, total;
};

static void
agg_rebuild_progress(uint64_t done, uint64_t total, void *arg)
{
	struct agg_rebuilt *r = arg;
	char left[32];

	r->done = done;
	r->total = total;
	/* All read: the RRD updates held (rrdw_hold) are written now. */
	if (done == total) {
		progress_show("rebuild: %" PRIu64 " of %" PRIu64
			      " archived intervals read, writing the files",
		    done, total);
		return;
	}
	if (!progress_due())
		return;
	progress_left(left, sizeof(left), done, total);
	progress_show("rebuild: %" PRIu64 " of %" PRIu64
		      " archived intervals (%d%%), %s left",
	    done, total, (int)(done * 100 / total), left);
}

/* The catch-up's derivation (rrdq_rebuild), into the cleared trees. */
static int
agg_rebuild(struct agg *a)
{
	struct agg_rebuilt done = {0, 0};
	struct rrdq_conf rc;
	struct rrdq_derived d;
	int r;

	agg_rrdq_conf(a, &rc);
	/* On a terminal only: a log or a pipe gets the lines below. */
	(void)progress_start();
	r = rrdq_rebuild(a->archive, &rc, a->rrdw, a->summary, &d,
	    agg_rebuild_progress, &done);
	progress_end("rebuild: %" PRIu64 " of %" PRIu64
		     " archived intervals (%d%%) in %.1f s",
	    done.done, done.total,
	    done.total > 0 ? (int)(done.done * 100 / done.total) : 100,
	    progress_elapsed());
	log_info("rebuilt %" PRIu64 " %s from %zu %s (%zu not "
		 "used: duplicate or of another interval length)",
	    d.intervals, plural(d.intervals, "interval", "intervals"),
	    d.records, plural(d.records, "record", "records"), d.bad);
	if (d.refused[REFUSE_PAST] + d.refused[REFUSE_FUTURE] > 0)
		log_warnx("skipped %zu records dated before 2000-01-01 and %zu "
			  "starting more than %us after this clock's now",
		    d.refused[REFUSE_PAST], d.refused[REFUSE_FUTURE],
		    a->conf.skew);
	if (d.failed > 0)
		log_warnx("%zu RRD files or summary buckets not written",
		    d.failed);
	return r;
}

int
main(int argc, char **argv)
{
	struct agg a;
	struct keyring *kr;
	char err[512], path[DATADIR_PATH_MAX], tbuf[ISO8601_LEN];
	int64_t last_final;
	int rc = 0;

	if (argc > 1 && strcmp(argv[1], "keygen") == 0) {
		/* getopt names argv[0] in its messages: the program. */
		argv[1] = argv[0];
		return keygen_main(argc - 1, argv + 1);
	}
	memset(&a, 0, sizeof(a));
	/*
	 * `rebuild` signals the daemon holding DATADIR's lock once it says
	 * it answers (dirlock.h); a stray SIGUSR2 before that, or in a
	 * stopped-daemon rebuild, must not kill.
	 */
	signal(SIGUSR2, SIG_IGN);
	agg_options(&a.conf, argc, argv);
	log_init("teiten-aggregator", 1, a.conf.verbose);
	if (sodium_init() < 0)
		errx(1, "libsodium cannot initialise");
	log_libevent();
	if (a.conf.test) {
		if ((rc = check_config(&a.conf)) == 0)
			printf("configuration OK (%s)\n",
			    a.conf.config ? a.conf.config
					  : "no file: " CONFIG_DEFAULT
					    " is absent");
		agg_conf_free(&a.conf);
		return rc == 0 ? 0 : 1;
	}
	kr = agg_check_start(&a.conf, &a.sk);
	if ((a.lockfd = agg_lock_or_ask(&a.conf, &rc)) == -1) {
		keyring_free(kr);
		agg_conf_free(&a.conf);
		return rc;
	}
	if ((a.archive = archive_open(a.conf.datadir, err, sizeof(err))) ==
	    NULL)
		errx(1, "%s", err);
	agg_save_markers(&a.conf);
	if (a.conf.rebuild) {
		/* First: whatever happens next, old derived data is stale. */
		if (datadir_save_generation(a.conf.datadir,
			datadir_generation(a.conf.datadir) + 1) == -1)
			errx(1, "%s: cannot write the generation",
			    a.conf.datadir);
		agg_clear_rrds(a.conf.datadir);
		/* The summaries made next are cut at this zone's midnights. */
		if (datadir_save_zone(a.conf.datadir, a.conf.timezone) == -1)
			errx(1, "%s: cannot write the time zone",
			    a.conf.datadir);
	}
	if ((a.rrdw = rrdw_new(a.conf.datadir, a.conf.interval,
		 a.conf.rrdcached, err, sizeof(err))) == NULL)
		errx(1, "%s", err);
	if ((a.summary = summary_open(a.conf.datadir, err, sizeof(err))) ==
	    NULL)
		errx(1, "%s", err);
	summary_sensor_sums(a.summary, !a.conf.no_sensor_sums);
	last_final =
	    a.conf.rebuild ? INT64_MIN : datadir_last_final(a.conf.datadir);
	/* What an older version let in from a fast clock: rebuild repairs. */
	if (last_final != INT64_MIN &&
	    last_final > (int64_t)time(NULL) + a.conf.skew) {
		datadir_marker_path(a.conf.datadir, DATADIR_LAST_FINAL, path,
		    sizeof(path));
		errx(1,
		    "%s (%s) is in the future: the RRDs hold a "
		    "record dated ahead of this clock; run \"teiten-aggregator "
		    "rebuild\", which leaves it out",
		    path, iso8601(last_final, tbuf));
	}
	a.ingest = ingest_new(a.conf.interval, a.conf.grace, a.conf.active,
	    a.conf.rebuild ? NULL : a.archive, last_final, agg_final, &a);
	ingest_set_skew(a.ingest, a.conf.skew);
	ingest_set_open_budget(a.ingest, (size_t)a.conf.open_budget << 20);
	ingest_set_sketch_key(a.ingest,
	    a.conf.sketch_key_file ? a.sk.id : NULL);
	if (a.conf.sketch_key_file == NULL)
		log_info("no sketch_key_file: records' sketches are not kept, "
			 "sources and targets read unknown");
	if (a.conf.rebuild)
		rc = agg_rebuild(&a) == -1;
	else {
		if ((a.base = event_base_new()) == NULL)
			errx(1, "cannot create an event base");
		agg_serve(&a, kr);
		event_base_free(a.base);
	}
	ingest_free(a.ingest);
	rrdw_free(a.rrdw);
	summary_free(a.summary);
	archive_free(a.archive);
	agg_conf_free(&a.conf);
	close(a.lockfd);
	return rc;
}

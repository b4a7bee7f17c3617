/*
 * RRD writing; see rrdw.h.  Each file's last update time is kept in memory
 * (read once from the file), so that an interval is never written twice
 * after a restart and a gap in the data is written as unknown: with a
 * heartbeat of two steps, an update after a gap would otherwise smear its
 * value back over the missing intervals.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rrd.h>

#include "human.h"
#include "bytes.h"
#include "datadir.h"
#include "hostport.h"
#include "keyidx.h"
#include "log.h"
#include "rrdw.h"
#include "xmalloc.h"

#define LAST_UNREAD INT64_MIN
/* A key file's DS: avg, sources, targets (rrdw_keys). */
#define KEY_DS 3

enum { F_ABSENT, F_PRESENT };

/*
 * A file's updates held back (rrdw_hold): "time:values" arguments, each
 * NUL-terminated, for one rrd_update_r() call; start: the first interval.
 */
struct held {
	char *buf;
	size_t len, cap, nargs;
	int64_t start;
	char *why; /* set by held_apply() when the write failed */
};

/* Last update times of the files that are not per key. */
struct lastmap {
	char **names;
	int64_t *last;
	struct held **held; /* while holding, else NULL entries */
	size_t n, cap;
};

struct rrdw {
	char *datadir;
	char *root; /* DATADIR/rrd */
	uint32_t step;
	char *cached; /* rrdcached address, or NULL */
	int cfd; /* connection to rrdcached, or -1 */
	uint8_t state[KEYIDX_COUNT];
	int64_t last[KEYIDX_COUNT];
	struct lastmap other;
	char *batch; /* rrdcached BATCH lines of one interval */
	size_t blen, bcap, nbatch;
	size_t *bline; /* where each line starts */
	size_t capbline;
	int64_t bstart; /* the interval batched */
	int holding; /* rrdw_hold() */
	struct held **hkey; /* by key index, allocated on the first hold */
	size_t hbytes; /* held in all */
	size_t failed;
	/* Files whose last write failed: named once, and again on catching up. */
	char **failing;
	size_t nfailing, capfailing;
	/*
	 * Intervals written in the current row of the longest archive (a
	 * UTC day when the step divides 86400).  Jobs come in time order.
	 */
	int64_t row; /* its start, or LAST_UNREAD before the first job */
	int64_t *done;
	uint8_t *dsk; /* of each: some sensor sent sketches */
	size_t ndone, capdone;
	/*
	 * DATADIR/faults, outside the tree that a catch-up replaces: faults
	 * are seen as records arrive and cannot be derived from the archive.
	 * Every sensor with a file there gets a row per interval, 0 included.
	 */
	char *faults;
	struct rrd_fault *fids; /* by id; counts: those not written yet */
	size_t nfids, capfids;
};

static int
mkdir_p(const char *path)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static void
key_path(const struct rrdw *w, uint32_t idx, char *buf, size_t len)
{
	datadir_key_rrd(w->datadir, idx, buf, len);
}

/* Mark the key files that exist; their last update is read when needed. */
static void
rrdw_scan(struct rrdw *w)
{
	char dir[DATADIR_PATH_MAX];
	struct dirent *de;
	unsigned key;
	char tail[8];
	DIR *d;
	int p;

	for (p = 0; p < PROTO_COUNT; p++) {
		datadir_proto_dir(w->datadir, p, dir, sizeof(dir));
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (sscanf(de->d_name, "%u.%7s", &key, tail) == 2 &&
			    strcmp(tail, "rrd") == 0 && key < proto_nkeys(p))
				w->state[keyidx(p, key)] = F_PRESENT;
		closedir(d);
	}
}

/* The sensor's entry in w->fids, added if new. */
static struct rrd_fault *
fid_get(struct rrdw *w, const char *id)
{
	size_t lo = 0, hi = w->nfids, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(w->fids[mid].id, id)) == 0)
			return &w->fids[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (w->nfids == w->capfids) {
		w->capfids = w->capfids ? 2 * w->capfids : 16;
		w->fids = xreallocarray(w->fids, w->capfids, sizeof(*w->fids));
	}
	memmove(w->fids + lo + 1, w->fids + lo,
	    (w->nfids - lo) * sizeof(*w->fids));
	memset(&w->fids[lo], 0, sizeof(w->fids[lo]));
	snprintf(w->fids[lo].id, sizeof(w->fids[lo].id), "%s", id);
	w->nfids++;
	return &w->fids[lo];
}

/* The sensors that have a faults file. */
static void
faults_scan(struct rrdw *w)
{
	struct dirent *de;
	size_t n;
	DIR *d;

	if ((d = opendir(w->faults)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] != '.' && n > 4 && n - 4 <= RECORD_ID_MAX &&
		    strcmp(de->d_name + n - 4, ".rrd") == 0) {
			de->d_name[n - 4] = '\0';
			(void)fid_get(w, de->d_name);
		}
	}
	closedir(d);
}

/* One line from rrdcached, without its newline. */
static int
cached_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			buf[n] = '\0';
			return 0;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	return -1;
}

/* "unix:/path", "/path", or "host:port" as rrdcached's -l takes them. */
static int
cached_connect(const char *addr)
{
	struct addrinfo hints, *res, *ai;
	struct sockaddr_un sun;
	char host[256], port[8];
	const char *path = NULL;
	int fd = -1;

	if (strncmp(addr, "unix:", 5) == 0)
		path = addr + 5;
	else if (addr[0] == '/')
		path = addr;
	if (path != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if (hostport_split(addr, host, sizeof(host), port, sizeof(port)) ==
	    -1) {
		snprintf(host, sizeof(host), "%s", addr);
		snprintf(port, sizeof(port), "42217");
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * A command and its status line ("N message"); with BATCH, the errors
 * follow as N lines.  Returns N, or -1 when rrdcached cannot be reached.
 */
static long
cached_command(struct rrdw *w, const char *cmd, size_t len)
{
	char line[512];

	if (w->cfd == -1 && (w->cfd = cached_connect(w->cached)) == -1)
		return -1;
	if (write_all(w->cfd, cmd, len) == -1 ||
	    cached_line(w->cfd, line, sizeof(line)) == -1) {
		close(w->cfd);
		w->cfd = -1;
		return -1;
	}
	return strtol(line, NULL, 10);
}

struct rrdw *
rrdw_new(const char *datadir, uint32_t step, const char *cached, char *err,
    size_t errlen)
{
	struct rrdw *w = xcalloc(1, sizeof(*w));
	char path[DATADIR_PATH_MAX];
	size_t i;
	int p;

	w->datadir = xstrdup(datadir);
	datadir_rrd_dir(datadir, path, sizeof(path));
	w->root = xstrdup(path);
	w->step = step;
	w->cfd = -1;
	if (mkdir_p(datadir) == -1 || mkdir_p(w->root) == -1)
		goto fail;
	for (p = 0; p < PROTO_COUNT; p++) {
		datadir_proto_dir(datadir, p, path, sizeof(path));
		if (mkdir_p(path) == -1)
			goto fail;
	}
	datadir_sensor_dir(datadir, path, sizeof(path));
	if (mkdir_p(path) == -1)
		goto fail;
	for (i = 0; i < KEYIDX_COUNT; i++)
		w->last[i] = LAST_UNREAD;
	w->row = LAST_UNREAD;
	rrdw_scan(w);
	datadir_faults_dir(datadir, path, sizeof(path));
	w->faults = xstrdup(path);
	faults_scan(w);
	if (cached != NULL) {
		w->cached = xstrdup(cached);
		/*
		 * Ask rrdcached to write what it holds before last update
		 * times are read; it answers at once, and files it has not
		 * written yet are flushed again per file where it matters.
		 */
		if (cached_command(w, "FLUSHALL\n", 9) < 0) {
			snprintf(err, errlen, "rrdcached %s: cannot connect",
			    cached);
			rrdw_free(w);
			return NULL;
		}
	}
	return w;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	rrdw_free(w);
	return NULL;
}

void
rrdw_free(struct rrdw *w)
{
	size_t i;

	if (w == NULL)
		return;
	(void)rrdw_hold(w, 0); /* writes and frees what is held, if any */
	if (w->cfd != -1)
		close(w->cfd);
	for (i = 0; i < w->other.n; i++)
		free(w->other.names[i]);
	free(w->other.names);
	free(w->other.last);
	free(w->other.held);
	free(w->hkey);
	for (i = 0; i < w->nfailing; i++)
		free(w->failing[i]);
	free(w->failing);
	free(w->batch);
	free(w->bline);
	free(w->done);
	free(w->dsk);
	free(w->fids);
	free(w->faults);
	free(w->cached);
	free(w->datadir);
	free(w->root);
	free(w);
}

/* Row counts for 2 days of steps, 100 days of hours, 5 years of days. */
static int
rrdw_create(struct rrdw *w, const char *path, const char *const *ds, int nds,
    int64_t start)
{
	char rra[3][64];
	const char *argv[8];
	uint32_t s = w->step;
	int argc = 0, i;

	for (i = 0; i < nds; i++)
		argv[argc++] = ds[i];
	/* Long steps get at least 400 rows, so a week graph has its points. */
	snprintf(rra[0], sizeof(rra[0]), "RRA:AVERAGE:0.5:1:%u",
	    (2 * 86400 + s - 1) / s < 400 ? 400 : (2 * 86400 + s - 1) / s);
	argv[argc++] = rra[0];
	if (s < 3600) {
		snprintf(rra[1], sizeof(rra[1]), "RRA:AVERAGE:0.5:%u:%u",
		    3600 / s, 100 * 86400 / (3600 / s * s));
		argv[argc++] = rra[1];
	}
	if (s < 86400) {
		snprintf(rra[2], sizeof(rra[2]), "RRA:AVERAGE:0.5:%u:%u",
		    86400 / s, 1827 * 86400 / (86400 / s * s));
		argv[argc++] = rra[2];
	}
	if (w->cached != NULL) {
		/*
		 * rrdcached remembers a file's last update time; after a
		 * rebuild removed the file it would refuse the new one's.
		 */
		char cmd[4200];
		int len = snprintf(cmd, sizeof(cmd), "FORGET %s\n", path);

		(void)cached_command(w, cmd, (size_t)len); /* -1: not held */
	}
	rrd_clear_error();
	if (rrd_create_r(path, s, (time_t)start, argc, argv) != 0) {
		/* A file cut short by a full disk would never read again. */
		(void)unlink(path);
		return -1;
	}
	return 0;
}

static ssize_t
failing_find(const struct rrdw *w, const char *path)
{
	size_t i;

	for (i = 0; i < w->nfailing; i++)
		if (strcmp(w->failing[i], path) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * A file not written for interval start: named the first time, so that
 * an operator sees which files wait (the job is retried; see rrdq.c).
 */
static int
file_failed(struct rrdw *w, const char *path, int64_t start, const char *why)
{
	char ts[ISO8601_LEN];

	w->failed++;
	iso8601(start, ts);
	if (failing_find(w, path) != -1) {
		log_debug("rrd %s: %s (interval %s)", path, why, ts);
		return -1;
	}
	if (w->nfailing == w->capfailing) {
		w->capfailing = w->capfailing ? 2 * w->capfailing : 16;
		w->failing = xreallocarray(w->failing, w->capfailing,
		    sizeof(*w->failing));
	}
	w->failing[w->nfailing++] = xstrdup(path);
	log_warnx("rrd %s: %s (interval %s; retried until written)", path, why,
	    ts);
	return -1;
}

static int
file_ok(struct rrdw *w, const char *path, int64_t start)
{
	char ts[ISO8601_LEN];
	ssize_t i;

	if (w->nfailing == 0 || (i = failing_find(w, path)) == -1)
		return 0;
	log_info("rrd %s: caught up (interval %s written)", path,
	    iso8601(start, ts));
	free(w->failing[i]);
	w->failing[i] = w->failing[--w->nfailing];
	return 0;
}

static void
batch_add(struct rrdw *w, const char *path, const char *u1, const char *u2)
{
	size_t need = strlen(path) + strlen(u1) + (u2 ? strlen(u2) : 0) + 16;

	if (w->blen + need > w->bcap) {
		w->bcap = (w->bcap + need) * 2;
		w->batch = xreallocarray(w->batch, w->bcap, 1);
	}
	if (w->nbatch == w->capbline) {
		w->capbline = w->capbline ? 2 * w->capbline : 256;
		w->bline =
		    xreallocarray(w->bline, w->capbline, sizeof(*w->bline));
	}
	w->bline[w->nbatch] = w->blen;
	w->blen += (size_t)snprintf(w->batch + w->blen, w->bcap - w->blen,
	    "UPDATE %s %s%s%s\n", path, u1, u2 ? " " : "", u2 ? u2 : "");
	w->nbatch++;
}

static void
held_add(struct rrdw *w, struct held **hp, int64_t start, const char *arg)
{
	struct held *h = *hp;
	size_t need = strlen(arg) + 1;

	if (h == NULL) {
		h = *hp = xcalloc(1, sizeof(*h));
		h->start = start;
	}
	if (h->nargs == 0)
		h->start = start;
	if (h->len + need > h->cap) {
		h->cap = (h->len + need) * 2;
		h->buf = xreallocarray(h->buf, h->cap, 1);
	}
	memcpy(h->buf + h->len, arg, need);
	h->len += need;
	h->nargs++;
	w->hbytes += need + sizeof(char *);
}

/* "name" of "DS:name:GAUGE:...", into buf. */
static const char *
ds_name(const char *ds, char *buf, size_t len)
{
	const char *p = ds + 3, *e = strchr(p, ':');
	size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

	snprintf(buf, len, "%.*s", (int)n, p);
	return buf;
}

/*
 * Add DS ds[have..nds) to a file of an older layout, its rows kept:
 * librrd's tune (rrdtool 1.5 and later) writes the file again beside it
 * and renames it over.  rrdcached writes the updates it holds first,
 * which have the older layout's values.
 */
static int
file_upgrade(struct rrdw *w, const char *path, const char *const *ds, int nds,
    unsigned long have, char *why, size_t whylen)
{
	char *argv[2 + 8], added[128], name[64];
	int argc = 0, i;
	size_t o = 0;

	if (w->cached != NULL) {
		char cmd[4200];
		int len = snprintf(cmd, sizeof(cmd), "FLUSH %s\n", path);

		(void)cached_command(w, cmd, (size_t)len); /* may hold none */
	}
	argv[argc++] = xstrdup("tune");
	argv[argc++] = xstrdup(path);
	for (i = (int)have; i < nds && argc < 2 + 8; i++) {
		argv[argc++] = xstrdup(ds[i]);
		o += (size_t)snprintf(added + o, sizeof(added) - o, "%s%s",
		    o ? ", " : "", ds_name(ds[i], name, sizeof(name)));
	}
	rrd_clear_error();
	i = rrd_tune(argc, argv);
	if (i != 0)
		snprintf(why, whylen, "adding DS %s: %s", added,
		    rrd_get_error());
	else
		log_info("rrd %s: DS %s added, rows kept", path, added);
	rrd_clear_error();
	while (argc > 0)
		free(argv[--argc]);
	return i != 0 ? -1 : 0;
}

/*
 * A file's last update, read once: a file whose DS are the first of ds
 * gets the others (an older layout, upgraded in place); one whose DS are
 * not is refused, so that no value lands in another's column.
 */
static int
file_open(struct rrdw *w, const char *path, const char *const *ds, int nds,
    int64_t *last, char *why, size_t whylen)
{
	char **names = NULL, **lastds = NULL, name[64];
	unsigned long n = 0, i;
	time_t t;
	int rc = 0;

	rrd_clear_error();
	if (rrd_lastupdate_r(path, &t, &n, &names, &lastds) != 0) {
		snprintf(why, whylen, "%s", rrd_get_error());
		rrd_clear_error();
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++)
		if (i >= (unsigned long)nds ||
		    strcmp(names[i], ds_name(ds[i], name, sizeof(name))) != 0) {
			snprintf(why, whylen,
			    "DS %lu is \"%s\", not as doc/CONTRACTS.md "
			    "contract 5 says; rebuild to make it again",
			    i + 1, names[i]);
			rc = -1;
		}
	for (i = 0; i < n; i++) {
		rrd_freemem(names[i]);
		rrd_freemem(lastds[i]);
	}
	rrd_freemem(names);
	rrd_freemem(lastds);
	if (rc == 0 && n < (unsigned long)nds)
		rc = file_upgrade(w, path, ds, nds, n, why, whylen);
	*last = (int64_t)t;
	return rc;
}

/*
 * Write "values" (colon-separated, one per DS) for [start, start + step)
 * into path, creating it if *exists is 0.  *last moves only once the
 * file holds the row, so that a failed write is tried again, and a file
 * already at or past the row (written before a restart, or by the part
 * of a failed job that succeeded) is not written twice.
 */
static int
rrdw_series(struct rrdw *w, const char *path, int *exists, int64_t *last,
    struct held **held, const char *const *ds, int nds, int64_t start,
    const char *values)
{
	char gap[64], upd[256], why[512];
	const char *argv[2];
	int64_t end = start + w->step, t;
	int argc = 0, i;
	size_t o;

	if (!*exists) {
		if (rrdw_create(w, path, ds, nds, start) == -1) {
			return file_failed(w, path, start, rrd_get_error());
		}
		*exists = 1;
		*last = start;
	} else if (*last == LAST_UNREAD) {
		if (file_open(w, path, ds, nds, &t, why, sizeof(why)) == -1)
			return file_failed(w, path, start, why);
		*last = t;
	}
	if (end <= *last)
		return file_ok(w, path, start);
	if (*last < start) {
		o = (size_t)snprintf(gap, sizeof(gap), "%" PRId64 ":U", start);
		for (i = 1; i < nds && o < sizeof(gap) - 3; i++)
			o += (size_t)snprintf(gap + o, sizeof(gap) - o, ":U");
		argv[argc++] = gap;
	}
	snprintf(upd, sizeof(upd), "%" PRId64 ":%s", end, values);
	argv[argc++] = upd;
	if (w->holding && w->cached == NULL) {
		/* Written by rrdw_flush(), which sees to failures. */
		for (i = 0; i < argc; i++)
			held_add(w, held, start, argv[i]);
		*last = end;
		return 1;
	}
	if (w->cached != NULL) {
		/* Errors come back with the batch (rrdw_flush_batch). */
		batch_add(w, path, argv[0], argc > 1 ? argv[1] : NULL);
		*last = end;
		return 1;
	}
	rrd_clear_error();
	if (rrd_update_r(path, NULL, argc, argv) == 0) {
		*last = end;
		(void)file_ok(w, path, start);
		return 1;
	}
	snprintf(why, sizeof(why), "%s", rrd_get_error());
	rrd_clear_error();
	if ((t = (int64_t)rrd_last_r(path)) >= end) {
		*last = t; /* there already */
		(void)file_ok(w, path, start);
		return 1;
	}
	*last = LAST_UNREAD; /* read back how far it went */
	return file_failed(w, path, start, why);
}

static size_t
lastmap_slot(struct lastmap *m, const char *name, int *found)
{
	size_t lo = 0, hi = m->n, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(m->names[mid], name)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

/* A file that is not per key: its last time from the map.  As rrdw_series. */
static int
rrdw_other(struct rrdw *w, const char *path, const char *const *ds, int nds,
    int64_t start, const char *values)
{
	struct lastmap *m = &w->other;
	struct stat st;
	int found, exists;
	size_t i = lastmap_slot(m, path, &found);

	if (!found) {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->names =
			    xreallocarray(m->names, m->cap, sizeof(*m->names));
			m->last =
			    xreallocarray(m->last, m->cap, sizeof(*m->last));
			m->held =
			    xreallocarray(m->held, m->cap, sizeof(*m->held));
		}
		memmove(m->names + i + 1, m->names + i,
		    (m->n - i) * sizeof(*m->names));
		memmove(m->last + i + 1, m->last + i,
		    (m->n - i) * sizeof(*m->last));
		memmove(m->held + i + 1, m->held + i,
		    (m->n - i) * sizeof(*m->held));
		m->names[i] = xstrdup(path);
		m->last[i] = LAST_UNREAD;
		m->held[i] = NULL;
		m->n++;
	}
	exists = m->last[i] != LAST_UNREAD || stat(path, &st) == 0;
	return rrdw_series(w, path, &exists, &m->last[i], &m->held[i], ds, nds,
	    start, values);
}

/* Seconds in a row of the longest archive: a day of steps, or one step. */
static int64_t
row_len(const struct rrdw *w)
{
	return w->step < 86400 ? (int64_t)(86400 / w->step) * w->step
			       : (int64_t)w->step;
}

static void
done_add(struct rrdw *w, int64_t start, int sketched)
{
	if (w->ndone > 0 && w->done[w->ndone - 1] >= start)
		return; /* written again after a restart */
	if (w->ndone == w->capdone) {
		w->capdone = w->capdone ? 2 * w->capdone : 64;
		w->done = xreallocarray(w->done, w->capdone, sizeof(*w->done));
		w->dsk = xreallocarray(w->dsk, w->capdone, sizeof(*w->dsk));
	}
	w->dsk[w->ndone] = sketched != 0;
	w->done[w->ndone++] = start;
}

/* The column of DS name in an rrd_fetch's names, or -1. */
static long
ds_column(char **names, unsigned long nds, const char *name)
{
	unsigned long i;

	for (i = 0; i < nds; i++)
		if (strcmp(names[i], name) == 0)
			return (long)i;
	return -1;
}

/*
 * The intervals of this row written before a restart: those sensors.rrd
 * holds.  Through rrdcached, FLUSH that file first: it waits until the
 * file is written, which FLUSHALL does not.
 */
static void
done_load(struct rrdw *w, int64_t before)
{
	char path[4096], **names = NULL;
	time_t start = (time_t)w->row, end = (time_t)before;
	unsigned long step = w->step, nds = 0, i, n;
	rrd_value_t *data = NULL;
	long rep, sk;

	datadir_sensors_rrd(w->datadir, path, sizeof(path));
	if (before <= w->row || access(path, F_OK) == -1)
		return;
	if (w->cached != NULL) {
		char cmd[4200];
		int len = snprintf(cmd, sizeof(cmd), "FLUSH %s\n", path);

		(void)cached_command(w, cmd, (size_t)len); /* may hold none */
	}
	rrd_clear_error();
	if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &nds, &names,
		&data) != 0) {
		log_warnx("rrd %s: %s", path, rrd_get_error());
		return;
	}
	/*
	 * Row i is stamped start + (i + 1) * step: interval start + i * step.
	 * A file of the older layout has no "sketched": none sent sketches.
	 */
	rep = ds_column(names, nds, "reporting");
	sk = ds_column(names, nds, "sketched");
	n = step == w->step && rep != -1 ? (unsigned long)(end - start) / step
					 : 0;
	for (i = 0; i < n; i++) {
		int64_t t = (int64_t)start + (int64_t)(i * step);
		rrd_value_t r = data[i * nds + (unsigned long)rep];
		rrd_value_t k =
		    sk != -1 ? data[i * nds + (unsigned long)sk] : 0;

		if (t >= w->row && t < before && r == r) /* known: written */
			done_add(w, t, k == k && k > 0);
	}
	for (i = 0; i < nds; i++)
		free(names[i]);
	free(names);
	free(data);
}

/*
 * Keep the list of intervals written in start's row; a new row starts
 * empty, since jobs come in time order.  Only the first job after start-up
 * reads the row's earlier intervals back.
 */
static void
row_track(struct rrdw *w, int64_t start)
{
	int64_t row = start - start % row_len(w);

	if (row == w->row)
		return;
	w->ndone = 0;
	if (w->row == LAST_UNREAD) {
		w->row = row;
		done_load(w, start);
	}
	w->row = row;
}

/*
 * A key seen for the first time reads 0, not unknown, in the intervals
 * written earlier in the same row (a UTC day): otherwise the hourly and
 * daily rows it first appears in would average only the part after it
 * appeared, and a campaign starting at 18:00 would show at four times its
 * daily mean.  Costs one value per interval written that day (at most
 * 1,440 at a 60 s step), in one call.  Written directly: rrdw_create made
 * rrdcached forget the file.  Returns 0, or -1 if the file could not be
 * created and filled (none is left; rrd_get_error() says why).
 */
static int
rrdw_create_key(struct rrdw *w, const char *path, const char *const *ds,
    int64_t start, int64_t *last)
{
	const char **argv;
	char *buf;
	size_t i, argc = 0, o = 0, each = 2 * 24;
	int64_t t0 = w->ndone && w->done[0] < start ? w->done[0] : start;
	int rc = 0;

	if (rrdw_create(w, path, ds, KEY_DS, t0) == -1)
		return -1;
	*last = t0;
	argv = xreallocarray(NULL, 2 * w->ndone + 1, sizeof(*argv));
	buf = xreallocarray(NULL, 2 * w->ndone + 1, each);
	for (i = 0; i < w->ndone && w->done[i] < start; i++) {
		if (*last < w->done[i]) { /* a gap: unknown */
			argv[argc++] = buf + o;
			o += (size_t)snprintf(buf + o, each,
				 "%" PRId64 ":U:U:U", w->done[i]) +
			    1;
		}
		*last = w->done[i] + w->step;
		/* No sources either, if any sensor could have told. */
		argv[argc++] = buf + o;
		o += (size_t)snprintf(buf + o, each, "%" PRId64 ":%s", *last,
			 w->dsk[i] ? "0:0:0" : "0:U:U") +
		    1;
	}
	rrd_clear_error();
	if (argc > 0 && rrd_update_r(path, NULL, (int)argc, argv) != 0) {
		/* Made again on the retry, zeros included. */
		(void)unlink(path);
		*last = LAST_UNREAD;
		rc = -1;
	}
	free(argv);
	free(buf);
	return rc;
}

/* A distinct count as an update value: "U" when unknown. */
static size_t
put_count(char *buf, size_t len, double v)
{
	if (isnan(v))
		return (size_t)snprintf(buf, len, "U");
	return (size_t)snprintf(buf, len, "%.17g", v);
}

/*
 * "avg:sources:targets" of key value v of j.  A key without packets has
 * none of either; that is known only if some sensor sent sketches.
 */
static void
key_values(const struct rrd_job *j, size_t v, int has, char *val, size_t len)
{
	size_t o;

	if (!has) {
		snprintf(val, len, "%s", j->nsketched > 0 ? "0:0:0" : "0:U:U");
		return;
	}
	/* %.17g: the double read back is the one computed. */
	o = (size_t)snprintf(val, len, "%.17g:", j->avg[v]);
	o += put_count(val + o, len - o, j->sources ? j->sources[v] : NAN);
	o += (size_t)snprintf(val + o, len - o, ":");
	(void)put_count(val + o, len - o, j->targets ? j->targets[v] : NAN);
}

static void
rrdw_keys(struct rrdw *w, const struct rrd_job *j)
{
	char ds[KEY_DS][64], path[4096], val[96];
	const char *dsv[KEY_DS] = {ds[0], ds[1], ds[2]};
	size_t v = 0;
	uint32_t i;
	int exists;

	snprintf(ds[0], sizeof(ds[0]), "DS:avg:GAUGE:%u:0:U", 2 * w->step);
	snprintf(ds[1], sizeof(ds[1]), "DS:sources:GAUGE:%u:0:U", 2 * w->step);
	snprintf(ds[2], sizeof(ds[2]), "DS:targets:GAUGE:%u:0:U", 2 * w->step);
	for (i = 0; i < KEYIDX_COUNT; i++) {
		int has = v < j->nvalues && j->idx[v] == i;

		if (!has && w->state[i] != F_PRESENT)
			continue;
		key_values(j, v, has, val, sizeof(val));
		v += has;
		key_path(w, i, path, sizeof(path));
		exists = w->state[i] == F_PRESENT;
		if (!exists) {
			/* A file not filled is still written from here on. */
			if (rrdw_create_key(w, path, dsv, j->start,
				&w->last[i]) == -1) {
				file_failed(w, path, j->start, rrd_get_error());
				continue;
			}
			exists = 1;
		}
		rrdw_series(w, path, &exists, &w->last[i],
		    w->hkey != NULL ? &w->hkey[i] : NULL, dsv, KEY_DS, j->start,
		    val);
		w->state[i] = exists ? F_PRESENT : F_ABSENT;
	}
}

static void
rrdw_health(struct rrdw *w, const struct rrd_job *j)
{
	char ds[3][64], path[4096], val[96];
	const char *dsv[3] = {ds[0], ds[1], ds[2]};
	size_t i, o;

	snprintf(ds[0], sizeof(ds[0]), "DS:reporting:GAUGE:%u:0:U",
	    2 * w->step);
	snprintf(ds[1], sizeof(ds[1]), "DS:sources:GAUGE:%u:0:U", 2 * w->step);
	snprintf(ds[2], sizeof(ds[2]), "DS:sketched:GAUGE:%u:0:U", 2 * w->step);
	datadir_sensors_rrd(w->datadir, path, sizeof(path));
	o = (size_t)snprintf(val, sizeof(val), "%u:", j->nsensors);
	o += put_count(val + o, sizeof(val) - o,
	    j->nsketched > 0 ? j->all_sources : NAN);
	snprintf(val + o, sizeof(val) - o, ":%u", j->nsketched);
	(void)rrdw_other(w, path, dsv, 3, j->start, val);
	snprintf(ds[0], sizeof(ds[0]), "DS:reported:GAUGE:%u:0:U", 2 * w->step);
	snprintf(ds[1], sizeof(ds[1]), "DS:packets:GAUGE:%u:0:U", 2 * w->step);
	snprintf(ds[2], sizeof(ds[2]), "DS:drops:GAUGE:%u:0:U", 2 * w->step);
	for (i = 0; i < j->nhealth; i++) {
		datadir_sensor_rrd(w->datadir, j->health[i].id, path,
		    sizeof(path));
		snprintf(val, sizeof(val), "1:%" PRIu64 ":%" PRIu64,
		    j->health[i].packets, j->health[i].drops);
		(void)rrdw_other(w, path, dsv, 3, j->start, val);
	}
}

/*
 * DATADIR/faults/<id>.rrd of every sensor that ever had a fault, a row
 * each interval.  Counts not written (a failed file, or a row written
 * before a restart) are added to the next row: no retry can count them
 * twice.
 */
static void
rrdw_faults(struct rrdw *w, const struct rrd_job *j)
{
	static const char *const names[4] = {"late", "refused", "deferred",
	    "rejected"};
	char ds[4][64], path[4096], val[96];
	const char *dsv[4] = {ds[0], ds[1], ds[2], ds[3]};
	struct rrd_fault *f;
	size_t i;
	int k;

	/* If it cannot be made, each file's failure names the reason. */
	if (j->nfault > 0)
		(void)mkdir_p(w->faults);
	for (i = 0; i < j->nfault; i++) {
		f = fid_get(w, j->fault[i].id);
		f->late += j->fault[i].late;
		f->refused += j->fault[i].refused;
		f->deferred += j->fault[i].deferred;
		f->rejected += j->fault[i].rejected;
	}
	for (k = 0; k < 4; k++)
		snprintf(ds[k], sizeof(ds[k]), "DS:%s:GAUGE:%u:0:U", names[k],
		    2 * w->step);
	for (i = 0; i < w->nfids; i++) {
		f = &w->fids[i];
		datadir_faults_rrd(w->datadir, f->id, path, sizeof(path));
		snprintf(val, sizeof(val),
		    "%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRIu64, f->late,
		    f->refused, f->deferred, f->rejected);
		if (rrdw_other(w, path, dsv, 4, j->start, val) == 1)
			f->late = f->refused = f->deferred = f->rejected = 0;
	}
}

/* Every file's last update is read again from the file when next needed. */
static void
rrdw_forget_lasts(struct rrdw *w)
{
	size_t i;

	for (i = 0; i < KEYIDX_COUNT; i++)
		w->last[i] = LAST_UNREAD;
	for (i = 0; i < w->other.n; i++)
		w->other.last[i] = LAST_UNREAD;
}

/* The file of batch line n (1-based, as rrdcached numbers them). */
static int
batch_path(const struct rrdw *w, long n, char *path, size_t len)
{
	const char *p, *e;

	if (n < 1 || (size_t)n > w->nbatch)
		return -1;
	p = w->batch + w->bline[n - 1] + strlen("UPDATE ");
	if ((e = strchr(p, ' ')) == NULL || (size_t)(e - p) >= len)
		return -1;
	memcpy(path, p, (size_t)(e - p));
	path[e - p] = '\0';
	return 0;
}

static void
batch_failed(struct rrdw *w, long n, const char *why)
{
	char path[4096];

	if (batch_path(w, n, path, sizeof(path)) == 0)
		file_failed(w, path, w->bstart, why);
	else
		w->failed++;
}

/* A batch without errors: the files that were failing caught up. */
static void
batch_ok(struct rrdw *w)
{
	char path[4096];
	size_t i;

	for (i = 0; w->nfailing > 0 && i < w->nbatch; i++)
		if (batch_path(w, (long)i + 1, path, sizeof(path)) == 0)
			file_ok(w, path, w->bstart);
}

/*
 * One BATCH for the interval: fewer round trips than a file each.  An
 * update refused as not newer than the file is one rrdcached holds
 * already (resent on a retry); any other error has every file's last
 * update read again, so that the retry resends what is missing.
 */
static void
rrdw_flush_batch(struct rrdw *w)
{
	char line[512], *msg;
	long n, errors, bad = 0;
	size_t i;

	if (w->nbatch == 0)
		return;
	if (cached_command(w, "BATCH\n", 6) != 0 ||
	    write_all(w->cfd, w->batch, w->blen) == -1 ||
	    write_all(w->cfd, ".\n", 2) == -1 ||
	    cached_line(w->cfd, line, sizeof(line)) == -1) {
		log_warnx("rrdcached %s: cannot send %zu updates", w->cached,
		    w->nbatch);
		for (i = 0; i < w->nbatch; i++)
			batch_failed(w, (long)i + 1, "rrdcached unreachable");
		bad = 1;
		if (w->cfd != -1)
			close(w->cfd);
		w->cfd = -1;
	} else if ((errors = strtol(line, NULL, 10)) > 0) {
		for (n = 0; n < errors; n++) {
			if (cached_line(w->cfd, line, sizeof(line)) == -1) {
				w->failed++;
				bad = 1;
				break;
			}
			if (strstr(line, "illegal attempt to update") != NULL)
				continue;
			msg = line;
			batch_failed(w, strtol(line, &msg, 10), msg);
			bad = 1;
		}
	}
	if (bad)
		rrdw_forget_lasts(w);
	else
		batch_ok(w);
	w->blen = 0;
	w->nbatch = 0;
}

/*
 * One file's held updates in one call.  librrd applies them in order and
 * stops at the first it cannot; the file's last update is then read back
 * when next needed, so that a retry writes what is missing; held_done()
 * logs the outcome.
 */
static void
held_apply(const char *path, struct held *h, int64_t *last)
{
	const char **argv;
	size_t i, o;

	argv = xreallocarray(NULL, h->nargs, sizeof(*argv));
	for (i = 0, o = 0; i < h->nargs; i++) {
		argv[i] = h->buf + o;
		o += strlen(h->buf + o) + 1;
	}
	rrd_clear_error();
	if (rrd_update_r(path, NULL, (int)h->nargs, argv) != 0) {
		h->why = xstrdup(rrd_get_error());
		rrd_clear_error();
		if ((int64_t)rrd_last_r(path) < *last)
			*last = LAST_UNREAD;
		else {
			free(h->why); /* there already */
			h->why = NULL;
		}
		rrd_clear_error();
	}
	free(argv);
}

static void
held_done(struct rrdw *w, const char *path, struct held *h)
{
	if (h->why != NULL)
		(void)file_failed(w, path, h->start, h->why);
	else
		(void)file_ok(w, path, h->start);
	free(h->why);
	h->why = NULL;
	h->len = h->nargs = 0;
}

/*
 * Written by this thread alone: writing files from two threads was slower
 * here (each librrd call maps and unmaps its file, and an unmap in a
 * process of several threads costs every core a TLB flush).
 */
size_t
rrdw_flush(struct rrdw *w)
{
	char path[4096];
	size_t before = w->failed, i;

	if (w->cached != NULL) {
		rrdw_flush_batch(w);
		return w->failed - before;
	}
	for (i = 0; w->hkey != NULL && i < KEYIDX_COUNT; i++)
		if (w->hkey[i] != NULL && w->hkey[i]->nargs > 0) {
			key_path(w, (uint32_t)i, path, sizeof(path));
			held_apply(path, w->hkey[i], &w->last[i]);
			held_done(w, path, w->hkey[i]);
		}
	for (i = 0; i < w->other.n; i++)
		if (w->other.held[i] != NULL && w->other.held[i]->nargs > 0) {
			held_apply(w->other.names[i], w->other.held[i],
			    &w->other.last[i]);
			held_done(w, w->other.names[i], w->other.held[i]);
		}
	w->hbytes = 0;
	return w->failed - before;
}

static void
held_free(struct held **hp)
{
	if (*hp == NULL)
		return;
	free((*hp)->buf);
	free(*hp);
	*hp = NULL;
}

size_t
rrdw_hold(struct rrdw *w, int on)
{
	size_t failed = rrdw_flush(w), i;

	/*
	 * Not through rrdcached: one file's updates of many intervals on
	 * many BATCH lines would be applied past one that failed.  rrdcached
	 * gathers the disk writes of many intervals itself.
	 */
	w->holding = on && w->cached == NULL;
	if (on && w->hkey == NULL)
		w->hkey = xcalloc(KEYIDX_COUNT, sizeof(*w->hkey));
	if (!on) {
		for (i = 0; w->hkey != NULL && i < KEYIDX_COUNT; i++)
			held_free(&w->hkey[i]);
		for (i = 0; i < w->other.n; i++)
			held_free(&w->other.held[i]);
	}
	return failed;
}

size_t
rrdw_write(struct rrdw *w, const struct rrd_job *j)
{
	size_t before = w->failed;
	char ts[ISO8601_LEN];

	if (j->len != w->step) {
		log_warnx("interval %s of %us in RRDs of step %us: not written",
		    iso8601(j->start, ts), j->len, w->step);
		return 1;
	}
	if (j->faults_only) {
		/* Written at once: a count held and then lost is lost. */
		int holding = w->holding;

		w->holding = 0;
		rrdw_flush(w);
		w->bstart = j->start;
		rrdw_faults(w, j);
		if (w->cached != NULL)
			rrdw_flush_batch(w);
		w->holding = holding;
		return w->failed - before;
	}
	w->bstart = j->start;
	row_track(w, j->start);
	rrdw_keys(w, j);
	rrdw_health(w, j);
	if (w->cached != NULL)
		rrdw_flush_batch(w);
	done_add(w, j->start, j->nsketched > 0);
	if (w->cached == NULL && w->hbytes > RRDW_HOLD_MAX)
		rrdw_flush(w);
	return w->failed - before;
}

void
rrd_job_hollow(struct rrd_job *j)
{
	size_t i;

	for (i = 0; j->src != NULL && i < j->nvalues; i++) {
		hll_free(j->src[i]);
		hll_free(j->dst[i]);
	}
	free(j->src);
	free(j->dst);
	hll_free(j->all_src);
	hll_free(j->all_dst);
	free(j->idx);
	free(j->avg);
	free(j->sources);
	free(j->targets);
	free(j->health);
	for (i = 0; i < j->nsens; i++) {
		free(j->sens[i].idx);
		free(j->sens[i].packets);
	}
	free(j->sens);
	j->sens = NULL;
	j->nsens = 0;
	j->src = j->dst = NULL;
	j->all_src = j->all_dst = NULL;
	j->idx = NULL;
	j->avg = NULL;
	j->sources = j->targets = NULL;
	j->health = NULL;
	j->nvalues = j->nhealth = 0;
}

void
rrd_job_free(struct rrd_job *j)
{
	rrd_job_hollow(j);
	free(j->fault);
	free(j);
}

const char *
rrdw_root(const struct rrdw *w)
{
	return w->root;
}

/* Through rrdcached: write what it holds for path, then forget the file. */
static void
cached_release(struct rrdw *w, const char *path)
{
	char cmd[4200];
	int len;

	len = snprintf(cmd, sizeof(cmd), "FLUSH %s\n", path);
	(void)cached_command(w, cmd, (size_t)len); /* may hold none */
	len = snprintf(cmd, sizeof(cmd), "FORGET %s\n", path);
	(void)cached_command(w, cmd, (size_t)len);
}

static void
release_dir(struct rrdw *w, const char *dir)
{
	char path[4400];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".rrd") != NULL) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			cached_release(w, path);
		}
	closedir(d);
}

/*
 * Before DATADIR/rrd is replaced by another tree: rrdcached must have
 * written every update it holds (else they would land in the new files)
 * and forget the files' last update times; what was known of the files
 * is forgotten too.
 */
void
rrdw_release(struct rrdw *w)
{
	char dir[DATADIR_PATH_MAX];
	size_t i;
	int p;

	(void)rrdw_hold(w, 0);

	if (w->cached != NULL) {
		release_dir(w, w->root);
		for (p = 0; p < PROTO_COUNT; p++) {
			datadir_proto_dir(w->datadir, p, dir, sizeof(dir));
			release_dir(w, dir);
		}
		datadir_sensor_dir(w->datadir, dir, sizeof(dir));
		release_dir(w, dir);
	}
	memset(w->state, F_ABSENT, sizeof(w->state));
	rrdw_forget_lasts(w);
	for (i = 0; i < w->other.n; i++)
		free(w->other.names[i]);
	w->other.n = 0;
	w->row = LAST_UNREAD;
	w->ndone = 0;
}

void
rrdw_reload(struct rrdw *w)
{
	rrdw_scan(w);
}

/*
 * The static site; see site.h.  Files in DIR:
 *
 *   index.html, style.css            the page, one section per window
 *   <window>-{top1-5,top6-10,icmp,sensors}.png
 *   top-<window>.json, .csv          each window's top SITE_TOP table
 *   key/<proto>-<key>.html           one page per key listed in a table
 *   key/<proto>-<key>-<window>.png
 *   .state                           what each PNG was made from
 *   .cache/<start>-<end>.win         window rankings (wincache.h)
 *
 * Rendering PNGs is what costs; the pages and exports are rewritten every
 * run.  .state holds, per PNG, a signature of everything the image shows:
 * window bounds, RRD step, keys and colours, the datadir's generation and
 * the newest final interval clamped to the window's end.  Final intervals
 * after a window's end do not change its graph, and windows end on whole
 * hours or days, so a run every five minutes renders the day and week
 * graphs once an hour and the longer ones once a day.  The RRDs change
 * only as final intervals are added (DATADIR/last_final moves) or by
 * `teiten-aggregator rebuild`, which bumps DATADIR/generation.
 *
 * Every file is written under a temporary name beside it and renamed, so
 * a reader sees the old file or the new one, never half of one.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datadir.h"
#include "graph.h"
#include "interval.h"
#include "keyidx.h"
#include "keyname.h"
#include "log.h"
#include "site.h"
#include "span.h"
#include "window.h"
#include "textout.h"
#include "wincache.h"
#include "xmalloc.h"

#define STATE_NAME ".state"
#define CACHE_DIR ".cache" /* window rankings, wincache.h */
#define STATE_MAGIC "teiten-site-state 1"
#define GRAPH_KEYS 5 /* keys per top graph */
#define NWINDOW_KEYS (3 * GRAPH_KEYS) /* top 1-5, 6-10, ICMP */
#define SIG_MAX 512
#define RENDER_PROCS 4
#define NAME_MAX_ 64

/* One PNG: its name under DIR, signature, and pixel size once known. */
struct png {
	char *name, *sig;
	unsigned w, h;
};

struct state {
	struct png *v;
	size_t n, cap;
};

/* A PNG to draw: the index of its entry in the current state, and what. */
struct job {
	size_t png;
	struct span span;
	int sensors; /* the sensors graph, not keys */
	uint32_t idx[GRAPH_KEYS];
	unsigned slot[GRAPH_KEYS];
	size_t n;
	char title[96];
};

struct site {
	const char *datadir, *outdir;
	uint32_t step;
	int64_t end, last_final;
	struct span span[SPAN_COUNT], prev[SPAN_COUNT];
	struct window win[SPAN_COUNT], pwin[SPAN_COUNT];
	uint32_t *keys; /* every key in some table, ascending */
	size_t nkeys;
	uint32_t cidx[SPAN_COUNT * NWINDOW_KEYS]; /* keys in window graphs */
	unsigned cslot[SPAN_COUNT * NWINDOW_KEYS]; /* and their colours */
	size_t ncol;
	struct state old, cur;
	struct job *jobs; /* PNGs to draw */
	size_t njobs, capjobs;
	int64_t generation; /* DATADIR/generation: a rebuild changes it */
	char *err;
	size_t errlen;
};

/* A file being written: FILE on tmp, renamed to path when complete. */
struct out {
	FILE *f;
	char path[4096], tmp[4200];
};

/* How a key moved against the previous window of the same length. */
enum move { MOVE_NONE, MOVE_NEW, MOVE_RANK };

struct change {
	enum move move;
	size_t prev_rank; /* 1-based, when MOVE_RANK */
	long delta; /* places gained: prev_rank - rank */
};

static int site_fail(struct site *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
site_fail(struct site *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(st->err, st->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- writing files ---------------------------------------------------- */

static int
out_open(struct site *st, struct out *o, const char *rel)
{
	snprintf(o->path, sizeof(o->path), "%s/%s", st->outdir, rel);
	/* The pid keeps two overlapping runs off each other's temp file. */
	snprintf(o->tmp, sizeof(o->tmp), "%s.%ld.tmp", o->path, (long)getpid());
	if ((o->f = fopen(o->tmp, "w")) == NULL)
		return site_fail(st, "%s: %s", o->tmp, strerror(errno));
	return 0;
}

/*
 * The stream's error flag is sticky, so checking it once at the end
 * covers every fprintf before it.
 */
static int
out_close(struct site *st, struct out *o)
{
	int bad = ferror(o->f), saved;

	if (fclose(o->f) == EOF || bad) {
		saved = bad ? EIO : errno;
		unlink(o->tmp);
		return site_fail(st, "%s: %s", o->tmp, strerror(saved));
	}
	if (rename(o->tmp, o->path) == -1) {
		saved = errno;
		unlink(o->tmp);
		return site_fail(st, "%s: %s", o->path, strerror(saved));
	}
	return 0;
}

/* ---- the PNG state ---------------------------------------------------- */

static void
state_add(struct state *s, const char *name, const char *sig)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n].name = xstrdup(name);
	s->v[s->n].sig = xstrdup(sig);
	s->v[s->n].w = s->v[s->n].h = 0;
	s->n++;
}

static void
state_free(struct state *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].sig);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
png_cmp(const void *a, const void *b)
{
	return strcmp(((const struct png *)a)->name,
	    ((const struct png *)b)->name);
}

static void
state_sort(struct state *s)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), png_cmp);
}

static struct png *
state_find(const struct state *s, const char *name)
{
	struct png key;

	if (s->n == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, s->v, s->n, sizeof(*s->v), png_cmp);
}

/*
 * A missing state file only means rendering everything again, so it is
 * not an error, nor is a damaged one: its graphs are drawn again, with a
 * warning naming it.  A line whose name or signature was damaged matches
 * no graph of this run, which draws that graph again.
 */
static void
state_load(struct site *st)
{
	char path[4200], *line = NULL, *tab;
	size_t cap = 0, bad = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", st->outdir, STATE_NAME);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("site state %s", path);
		return;
	}
	if (getline(&line, &cap, f) <= 0 || strcmp(line, STATE_MAGIC "\n") != 0)
		log_warnx("site state %s: not a state file; drawing every "
			  "graph again",
		    path);
	else
		while ((len = getline(&line, &cap, f)) > 0) {
			line[strcspn(line, "\n")] = '\0';
			if ((tab = strchr(line, '\t')) == NULL || tab == line ||
			    tab[1] == '\0') {
				bad++;
				continue;
			}
			*tab = '\0';
			state_add(&st->old, line, tab + 1);
		}
	if (ferror(f))
		log_warn("site state %s", path);
	else if (bad > 0)
		log_warnx("site state %s: %zu damaged lines ignored; their "
			  "graphs are drawn again",
		    path, bad);
	free(line);
	fclose(f);
	state_sort(&st->old);
}

static int
state_save(struct site *st)
{
	struct out o;
	size_t i;

	if (out_open(st, &o, STATE_NAME) == -1)
		return -1;
	fputs(STATE_MAGIC "\n", o.f);
	for (i = 0; i < st->cur.n; i++)
		fprintf(o.f, "%s\t%s\n", st->cur.v[i].name, st->cur.v[i].sig);
	return out_close(st, &o);
}

/*
 * Width and height from the IHDR chunk, which a PNG must start with; 0 x 0
 * unless the file also ends with the IEND chunk, so that a truncated one
 * counts as missing.
 */
static void
png_size(const char *path, unsigned *w, unsigned *h)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n'};
	static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D',
	    0xae, 0x42, 0x60, 0x82};
	unsigned char b[24], e[12];
	FILE *f;

	*w = *h = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return;
	if (fread(b, 1, sizeof(b), f) == sizeof(b) && memcmp(b, sig, 8) == 0 &&
	    memcmp(b + 12, "IHDR", 4) == 0 &&
	    fseek(f, -(long)sizeof(e), SEEK_END) == 0 &&
	    fread(e, 1, sizeof(e), f) == sizeof(e) &&
	    memcmp(e, iend, sizeof(e)) == 0) {
		*w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 |
		    (unsigned)b[18] << 8 | b[19];
		*h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 |
		    (unsigned)b[22] << 8 | b[23];
	}
	fclose(f);
}

/* ---- graphs ------------------------------------------------------------ */

static void
graph_sig(const struct site *st, const struct span *sp, const uint32_t *idx,
    const unsigned *slot, size_t n, char *sig, size_t len)
{
	int64_t last = st->last_final < sp->end ? st->last_final : sp->end;
	char label[32];
	size_t i, o;

	o = (size_t)snprintf(sig, len,
	    "%" PRId64 " %" PRId64 " %" PRId64 " %u g%" PRId64, sp->start,
	    sp->end, last, (unsigned)st->step, st->generation);
	if (idx == NULL)
		snprintf(sig + o, len - o, " sensors");
	for (i = 0; idx != NULL && i < n && o < len; i++) {
		key_label(idx[i], label, sizeof(label));
		o += (size_t)snprintf(sig + o, len - o, " %s%s", label,
		    key_palette(slot[i]));
	}
}

static unsigned site_slot(const struct site *, uint32_t);

/*
 * Queue name (a key graph, or the sensors graph when idx is NULL) for
 * rendering unless the last run made it from the same inputs and it is
 * still there.
 */
static int
site_png(struct site *st, const char *name, const struct span *sp,
    const uint32_t *idx, size_t n, const char *title)
{
	char sig[SIG_MAX], path[4200];
	unsigned slot[GRAPH_KEYS] = {0};
	const struct png *old;
	struct job *j;
	size_t i;

	for (i = 0; i < n && i < GRAPH_KEYS; i++)
		slot[i] = site_slot(st, idx[i]);
	graph_sig(st, sp, idx, slot, n, sig, sizeof(sig));
	snprintf(path, sizeof(path), "%s/%s", st->outdir, name);
	state_add(&st->cur, name, sig);
	old = state_find(&st->old, name);
	/* Kept only while it is still a PNG: a damaged one is drawn again. */
	if (old != NULL && strcmp(old->sig, sig) == 0) {
		png_size(path, &st->cur.v[st->cur.n - 1].w,
		    &st->cur.v[st->cur.n - 1].h);
		if (st->cur.v[st->cur.n - 1].w > 0)
			return 0;
	}
	if (st->njobs == st->capjobs) {
		st->capjobs = st->capjobs ? 2 * st->capjobs : 64;
		st->jobs =
		    xreallocarray(st->jobs, st->capjobs, sizeof(*st->jobs));
	}
	j = &st->jobs[st->njobs++];
	memset(j, 0, sizeof(*j));
	j->png = st->cur.n - 1;
	j->span = *sp;
	j->sensors = idx == NULL;
	j->n = n < GRAPH_KEYS ? n : GRAPH_KEYS;
	for (i = 0; i < j->n; i++) {
		j->idx[i] = idx[i];
		j->slot[i] = slot[i];
	}
	snprintf(j->title, sizeof(j->title), "%s", title ? title : "");
	return 0;
}

/* Draw one queued PNG under a temporary name and rename it into place. */
static int
render_job(struct site *st, const struct job *j)
{
	char path[4200], tmp[4300];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", st->outdir,
	    st->cur.v[j->png].name);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (j->sensors)
		rc = graph_sensors(st->datadir, st->step, &j->span, tmp,
		    st->err, st->errlen);
	else
		rc = graph_keys(st->datadir, st->step, &j->span, j->idx,
		    j->slot, j->n, j->title, tmp, st->err, st->errlen);
	if (rc == -1 || rename(tmp, path) == -1) {
		if (rc == 0)
			site_fail(st, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A rendering process: its share of the jobs, its first error to fd. */
static void __attribute__((noreturn))
render_worker(struct site *st, size_t k, size_t nproc, int fd)
{
	size_t i, len;

	for (i = k; i < st->njobs; i += nproc) {
		if (render_job(st, &st->jobs[i]) == -1) {
			/* One line, written at once (PIPE_BUF): not mixed. */
			len = strlen(st->err);
			if (len >= PIPE_BUF / 4)
				len = PIPE_BUF / 4 - 1;
			st->err[len++] = '\n';
			_exit(write(fd, st->err, len) == (ssize_t)len ? 1 : 2);
		}
	}
	_exit(0);
}

/*
 * Draw the queued PNGs in one process per CPU (up to RENDER_PROCS):
 * rrd_graph is not thread-safe, and PNG encoding is most of a site's
 * cost, so on the day all the long windows change this halves the time
 * on two cores.  Worker k draws jobs k, k + nproc, ...; a worker's first
 * error comes back over a pipe.
 */
static int
render_jobs(struct site *st)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nproc = ncpu > 1 ? (size_t)ncpu : 1, k, i;
	pid_t pid[RENDER_PROCS], w;
	struct sigaction dfl, old;
	int fd[2], status, rc = 0, failed = 0;
	char *msg;
	ssize_t r;

	if (nproc > RENDER_PROCS)
		nproc = RENDER_PROCS;
	if (nproc > st->njobs)
		nproc = st->njobs;
	if (nproc <= 1) {
		for (i = 0; i < st->njobs; i++)
			if (render_job(st, &st->jobs[i]) == -1)
				return -1;
		goto sizes;
	}
	if (pipe(fd) == -1)
		return site_fail(st, "pipe: %s", strerror(errno));
	/* A parent that ignores SIGCHLD would leave nothing to wait for. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(SIGCHLD, &dfl, &old) == -1) {
		close(fd[0]);
		close(fd[1]);
		return site_fail(st, "sigaction: %s", strerror(errno));
	}
	fflush(NULL); /* nothing buffered is written twice */
	for (k = 1; k < nproc; k++) {
		if ((pid[k] = fork()) == -1) {
			rc = site_fail(st, "fork: %s", strerror(errno));
			nproc = k;
			break;
		}
		if (pid[k] == 0) {
			close(fd[0]);
			render_worker(st, k, nproc, fd[1]);
		}
	}
	close(fd[1]);
	for (i = 0; rc == 0 && i < st->njobs; i += nproc)
		if (render_job(st, &st->jobs[i]) == -1)
			rc = -1;
	for (k = 1; k < nproc; k++) {
		while (
		    (w = waitpid(pid[k], &status, 0)) == -1 && errno == EINTR)
			;
		if (w == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	(void)sigaction(SIGCHLD, &old, NULL);
	if (rc == 0 && failed > 0) {
		/* Every worker has exited: the pipe holds all there is. */
		msg = xcalloc(1, PIPE_BUF);
		r = read(fd[0], msg, PIPE_BUF - 1);
		if (r > 0 && strchr(msg, '\n') != NULL)
			*strchr(msg, '\n') = '\0';
		site_fail(st, "%s", r > 0 ? msg : "a rendering process failed");
		free(msg);
		rc = -1;
	}
	close(fd[0]);
	if (rc == -1)
		return -1;
sizes:
	for (i = 0; i < st->njobs; i++) {
		struct png *p = &st->cur.v[st->jobs[i].png];
		char path[4200];

		snprintf(path, sizeof(path), "%s/%s", st->outdir, p->name);
		png_size(path, &p->w, &p->h);
	}
	return 0;
}

static int
is_port(uint32_t idx)
{
	enum proto p = keyidx_proto(idx);

	return p == PROTO_TCP || p == PROTO_UDP;
}

/*
 * The keys ranked from first to first + GRAPH_KEYS - 1 (0-based) among
 * those that are ports (want_port) or ICMP types (!want_port).
 */
static size_t
pick_keys(const struct window *w, int want_port, size_t first, uint32_t *out)
{
	size_t i, seen = 0, n = 0;

	for (i = 0; i < w->n && n < GRAPH_KEYS; i++) {
		if (is_port(w->idx[i]) != want_port)
			continue;
		if (seen++ >= first)
			out[n++] = w->idx[i];
	}
	return n;
}

static const struct {
	const char *suffix, *title;
	int port;
	size_t first;
} window_graphs[] = {
    {"top1-5", "top 1-5 TCP/UDP ports", 1, 0},
    {"top6-10", "top 6-10 TCP/UDP ports", 1, GRAPH_KEYS},
    {"icmp", "top ICMP and ICMPv6 types", 0, 0},
};
#define NWINDOW_GRAPHS (sizeof(window_graphs) / sizeof(window_graphs[0]))
_Static_assert(NWINDOW_GRAPHS *GRAPH_KEYS <= NWINDOW_KEYS,
    "cidx holds every key of a window's graphs");

/*
 * Colours: a key keeps one colour in every graph of the site, its key
 * page included, and no two lines of one graph share a colour as long as
 * a key shares graphs with fewer than KEY_PALETTE others.  Keys take
 * their default slot (keyname.h) unless a key already coloured shares a
 * graph with them and holds it; then the next free slot.  Keys are taken
 * in the order they first appear, day window first, best rank first.
 */
static void
colour_keys(struct site *st)
{
	uint32_t g[SPAN_COUNT * NWINDOW_GRAPHS][GRAPH_KEYS];
	size_t gn[SPAN_COUNT * NWINDOW_GRAPHS], ng = 0, i, j, a, b, c;
	int k, taken[KEY_PALETTE];
	unsigned s;

	st->ncol = 0;
	for (k = 0; k < SPAN_COUNT; k++)
		for (i = 0; i < NWINDOW_GRAPHS; i++, ng++)
			gn[ng] = pick_keys(&st->win[k], window_graphs[i].port,
			    window_graphs[i].first, g[ng]);
	for (a = 0; a < ng; a++)
		for (b = 0; b < gn[a]; b++) {
			uint32_t idx = g[a][b];

			for (c = 0; c < st->ncol && st->cidx[c] != idx; c++)
				;
			if (c < st->ncol)
				continue; /* coloured already */
			memset(taken, 0, sizeof(taken));
			for (i = 0; i < ng; i++) {
				for (j = 0; j < gn[i] && g[i][j] != idx; j++)
					;
				if (j == gn[i])
					continue; /* not together */
				for (j = 0; j < gn[i]; j++)
					for (c = 0; c < st->ncol; c++)
						if (st->cidx[c] == g[i][j])
							taken[st->cslot[c]] = 1;
			}
			s = key_colour_slot(idx);
			for (c = 0; c < KEY_PALETTE && taken[s]; c++)
				s = (s + 1) % KEY_PALETTE;
			if (c == KEY_PALETTE) /* more neighbours than colours */
				s = key_colour_slot(idx);
			st->cidx[st->ncol] = idx;
			st->cslot[st->ncol++] = s;
		}
}

static unsigned
site_slot(const struct site *st, uint32_t idx)
{
	size_t i;

	for (i = 0; i < st->ncol; i++)
		if (st->cidx[i] == idx)
			return st->cslot[i];
	return key_colour_slot(idx);
}

static int
render_window(struct site *st, enum span_kind k)
{
	uint32_t idx[GRAPH_KEYS];
	char name[NAME_MAX_];
	size_t g, n;

	for (g = 0; g < NWINDOW_GRAPHS; g++) {
		n = pick_keys(&st->win[k], window_graphs[g].port,
		    window_graphs[g].first, idx);
		snprintf(name, sizeof(name), "%s-%s.png", span_name(k),
		    window_graphs[g].suffix);
		if (site_png(st, name, &st->span[k], idx, n,
			window_graphs[g].title) == -1)
			return -1;
	}
	snprintf(name, sizeof(name), "%s-sensors.png", span_name(k));
	return site_png(st, name, &st->span[k], NULL, 0, NULL);
}

/* "tcp-445": file names never hold a '/'. */
static void
key_slug(uint32_t idx, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", proto_name(keyidx_proto(idx)),
	    keyidx_key(idx));
}

static int
render_key(struct site *st, uint32_t idx)
{
	char slug[32], name[NAME_MAX_], title[96];
	int k;

	key_slug(idx, slug, sizeof(slug));
	key_title(idx, title, sizeof(title));
	for (k = 0; k < SPAN_COUNT; k++) {
		snprintf(name, sizeof(name), "key/%s-%s.png", slug,
		    span_name(k));
		if (site_png(st, name, &st->span[k], &idx, 1, title) == -1)
			return -1;
	}
	return 0;
}

static int
render_all(struct site *st)
{
	size_t i;
	int k;

	colour_keys(st);
	for (k = 0; k < SPAN_COUNT; k++)
		if (render_window(st, k) == -1)
			return -1;
	for (i = 0; i < st->nkeys; i++)
		if (render_key(st, st->keys[i]) == -1)
			return -1;
	if (render_jobs(st) == -1)
		return -1;
	state_sort(&st->cur);
	return state_save(st);
}

/* ---- rankings ------------------------------------------------------------ */

static size_t
top_n(const struct window *w)
{
	return w->n < SITE_TOP ? w->n : SITE_TOP;
}

/*
 * Against the previous window of the same length: places gained or lost,
 * "new" when the key was not in that window's top SITE_TOP, and no
 * change at all when that window has no reported interval (nothing to
 * compare with, rather than every key being new).
 */
static void
rank_change(const struct window *prev, uint32_t idx, size_t rank,
    struct change *c)
{
	size_t r = window_rank(prev, idx);

	memset(c, 0, sizeof(*c));
	if (prev->nintervals == 0)
		c->move = MOVE_NONE;
	else if (r == 0 || r > SITE_TOP)
		c->move = MOVE_NEW;
	else {
		c->move = MOVE_RANK;
		c->prev_rank = r;
		c->delta = (long)r - (long)rank;
	}
}

/* "+3", "-2", "0", "new", or "" as in the exports. */
static void
change_text(const struct change *c, char *buf, size_t len)
{
	if (c->move == MOVE_NONE)
		snprintf(buf, len, "%s", "");
	else if (c->move == MOVE_NEW)
		snprintf(buf, len, "new");
	else
		snprintf(buf, len, c->delta > 0 ? "+%ld" : "%ld", c->delta);
}

static int
idx_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every key listed in some window's table, once. */
static void
collect_keys(struct site *st)
{
	size_t i, n = 0;
	int k;

	st->keys = xcalloc(SPAN_COUNT * SITE_TOP, sizeof(*st->keys));
	for (k = 0; k < SPAN_COUNT; k++)
		for (i = 0; i < top_n(&st->win[k]); i++)
			st->keys[n++] = st->win[k].idx[i];
	if (n > 0)
		qsort(st->keys, n, sizeof(*st->keys), idx_cmp);
	for (i = 0; i < n; i++)
		if (st->nkeys == 0 || st->keys[st->nkeys - 1] != st->keys[i])
			st->keys[st->nkeys++] = st->keys[i];
}

static int
site_window(struct site *st, const struct span *sp, struct window *w)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/" CACHE_DIR, st->outdir);
	return wincache_window(st->datadir, dir, st->generation, st->last_final,
	    sp->start, sp->end, w, st->err, st->errlen);
}

static int
load_windows(struct site *st)
{
	int k;

	for (k = 0; k < SPAN_COUNT; k++) {
		span_make(k, st->end, &st->span[k]);
		span_previous(&st->span[k], &st->prev[k]);
		if (site_window(st, &st->span[k], &st->win[k]) == -1 ||
		    site_window(st, &st->prev[k], &st->pwin[k]) == -1)
			return -1;
	}
	collect_keys(st);
	return 0;
}

/* ---- exports ----------------------------------------------------------- */

/*
 * The fields of `teiten-graph top --json`, then the rank change; -1 for
 * a number JSON cannot hold.
 */
static int
json_row(FILE *f, const struct site *st, enum span_kind k, size_t i)
{
	const struct window *w = &st->win[k];
	struct change c;
	char ch[32];

	rank_change(&st->pwin[k], w->idx[i], i + 1, &c);
	change_text(&c, ch, sizeof(ch));
	fputs(i ? ",\n  {" : "\n  {", f);
	if (top_json_fields(f, w, i) == -1)
		return -1;
	fputs(", ", f);
	if (c.move == MOVE_RANK)
		fprintf(f, "\"prev_rank\": %zu, \"change\": \"%s\"}",
		    c.prev_rank, ch);
	else if (c.move == MOVE_NEW)
		fputs("\"prev_rank\": null, \"change\": \"new\"}", f);
	else
		fputs("\"prev_rank\": null, \"change\": null}", f);
	return 0;
}

static int
csv_row(FILE *f, const struct site *st, enum span_kind k, size_t i)
{
	const struct window *w = &st->win[k];
	struct change c;
	char label[32], ch[32];

	rank_change(&st->pwin[k], w->idx[i], i + 1, &c);
	change_text(&c, ch, sizeof(ch));
	key_label(w->idx[i], label, sizeof(label));
	fprintf(f, "%zu,%s,", i + 1, label);
	csv_text(f, key_service(w->idx[i]));
	fputc(',', f);
	if (out_number(f, w->mean[i]) == -1)
		return -1;
	fputc(',', f);
	if (out_number(f, window_share(w, i)) == -1)
		return -1;
	fputc(',', f);
	if (c.move == MOVE_RANK)
		fprintf(f, "%zu", c.prev_rank);
	fprintf(f, ",%s\r\n", ch);
	return 0;
}

/* A refused number: the file is left unwritten and the run fails. */
static int
export_refused(struct site *st, struct out *o, const struct window *w, size_t i)
{
	char label[32];

	key_label(w->idx[i], label, sizeof(label));
	fclose(o->f);
	unlink(o->tmp);
	return site_fail(st,
	    "%s: %s has no finite mean (a bug: please report "
	    "it)",
	    o->path, label);
}

static int
write_exports(struct site *st, enum span_kind k)
{
	struct out o;
	char name[NAME_MAX_];
	size_t i, n = top_n(&st->win[k]);

	snprintf(name, sizeof(name), "top-%s.json", span_name(k));
	if (out_open(st, &o, name) == -1)
		return -1;
	fputs("[", o.f);
	for (i = 0; i < n; i++)
		if (json_row(o.f, st, k, i) == -1)
			return export_refused(st, &o, &st->win[k], i);
	fputs(n ? "\n]\n" : "]\n", o.f);
	if (out_close(st, &o) == -1)
		return -1;
	snprintf(name, sizeof(name), "top-%s.csv", span_name(k));
	if (out_open(st, &o, name) == -1)
		return -1;
	fputs("rank,key,service,avg,share,prev_rank,change\r\n", o.f);
	for (i = 0; i < n; i++)
		if (csv_row(o.f, st, k, i) == -1)
			return export_refused(st, &o, &st->win[k], i);
	return out_close(st, &o);
}

/* ---- pages ------------------------------------------------------------- */

static const char style_css[] =
    ":root{color-scheme:light;--fg:#1b1f24;--mute:#57606a;--line:#d0d7de;"
    "--up:#b42318;--down:#1a7f37;--bg2:#f6f8fa}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0 auto;padding:0 12px 24px;max-width:1500px;color:var(--fg);"
    "background:#fff;font:15px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,sans-serif}\n"
    "header{border-bottom:1px solid var(--line);padding:8px 0}\n"
    "h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.2em;margin:1.2em 0 .2em}\n"
    "h1 small,h2 small{font-weight:normal;color:var(--mute);font-size:.75em}\n"
    "a{color:#0a58ca}\n"
    "nav a{display:inline-block;margin:0 .8em .3em 0}\n"
    ".meta,.note,footer{color:var(--mute);font-size:.9em}\n"
    ".cols{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\n"
    ".graphs{flex:1 1 560px;min-width:0}\n"
    ".top{flex:1 1 440px;min-width:0}\n"
    "figure{margin:0 0 10px}\n"
    "img{display:block;max-width:100%;height:auto;border:1px solid "
    "var(--line)}\n"
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\n"
    "table{border-collapse:collapse;width:100%;font-size:.9em}\n"
    "caption{text-align:left;font-weight:600;padding:4px 0}\n"
    "th,td{padding:3px 6px;border-bottom:1px solid var(--line);"
    "text-align:left;white-space:nowrap}\n"
    "thead th{background:var(--bg2)}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.svc{white-space:normal;color:var(--mute)}\n"
    "table.narrow{width:auto;min-width:min(100%,480px)}\n"
    ".grid{display:grid;gap:0 16px;grid-template-columns:"
    "repeat(auto-fill,minmax(min(100%,600px),1fr))}\n"
    ".sw{display:inline-block;width:.8em;height:.8em;margin-right:.4em;"
    "vertical-align:-.05em;border-radius:2px}\n"
    ".up{color:var(--up)}.down{color:var(--down)}.new{color:var(--up);"
    "font-weight:600}\n"
    "@media (max-width:600px){body{font-size:14px;padding:0 6px 16px}"
    "th,td{padding:3px 4px}}\n";

static int
write_css(struct site *st)
{
	struct out o;

	if (out_open(st, &o, "style.css") == -1)
		return -1;
	fputs(style_css, o.f);
	return out_close(st, &o);
}

static void
page_head(FILE *f, const char *title, const char *up)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" "
	      "content=\"width=device-width, initial-scale=1\">\n<title>",
	    f);
	html_text(f, title);
	/* An empty icon: browsers stop asking the server for favicon.ico. */
	fprintf(f,
	    "</title>\n<link rel=\"icon\" href=\"data:,\">\n"
	    "<link rel=\"stylesheet\" href=\"%sstyle.css\">\n</head>\n<body>\n",
	    up);
}

/* "Data up to ...": the end of the newest final interval. */
static void
data_time(FILE *f, const struct site *st)
{
	char when[32];

	if (st->last_final == INT64_MIN) {
		fputs("<p class=\"meta\">No final interval yet.</p>\n", f);
		return;
	}
	utc_minute(st->last_final + st->step, when, sizeof(when));
	fprintf(f,
	    "<p class=\"meta\">Data up to <time datetime=\"%.10sT%sZ\">%s "
	    "UTC</time> (end of the newest final interval of %u s).</p>\n",
	    when, when + 11, when, (unsigned)st->step);
}

static void
html_img(FILE *f, const struct site *st, const char *name, const char *up,
    const char *alt)
{
	const struct png *p = state_find(&st->cur, name);

	fprintf(f, "<figure><img src=\"%s%s\" alt=\"", up, name);
	html_text(f, alt);
	fputc('"', f);
	if (p != NULL && p->w > 0)
		fprintf(f, " width=\"%u\" height=\"%u\"", p->w, p->h);
	fputs("></figure>\n", f);
}

static void
fmt_avg(double v, char *buf, size_t len)
{
	snprintf(buf, len, v >= 100 ? "%.0f" : v >= 1 ? "%.2f" : "%.3g", v);
}

static void
window_title(const struct span *sp, char *buf, size_t len)
{
	char from[32], to[32];

	utc_minute(sp->start, from, sizeof(from));
	utc_minute(sp->end, to, sizeof(to));
	snprintf(buf, len, "%s \xe2\x80\x93 %s UTC", from, to);
}

/* The alt text of a top graph names its keys, in rank order. */
static void
graph_alt(const struct span *sp, const char *what, const uint32_t *idx,
    size_t n, char *buf, size_t len)
{
	char label[32];
	size_t i, o;

	o = (size_t)snprintf(buf, len, "Graph of %s over the last %s", what,
	    sp->name);
	for (i = 0; i < n && o < len; i++) {
		key_label(idx[i], label, sizeof(label));
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : ": ",
		    label);
	}
	if (n == 0 && o < len)
		snprintf(buf + o, len - o, " (no data)");
}

static void
index_graphs(FILE *f, const struct site *st, enum span_kind k)
{
	uint32_t idx[GRAPH_KEYS];
	char name[NAME_MAX_], alt[512];
	size_t g, n;

	fputs("<div class=\"graphs\">\n", f);
	for (g = 0; g < NWINDOW_GRAPHS; g++) {
		n = pick_keys(&st->win[k], window_graphs[g].port,
		    window_graphs[g].first, idx);
		snprintf(name, sizeof(name), "%s-%s.png", span_name(k),
		    window_graphs[g].suffix);
		graph_alt(&st->span[k], window_graphs[g].title, idx, n, alt,
		    sizeof(alt));
		html_img(f, st, name, "", alt);
	}
	snprintf(name, sizeof(name), "%s-sensors.png", span_name(k));
	snprintf(alt, sizeof(alt),
	    "Graph of the number of sensors reporting over the last %s",
	    span_name(k));
	html_img(f, st, name, "", alt);
	fputs("</div>\n", f);
}

static void
change_cell(FILE *f, const struct change *c)
{
	if (c->move == MOVE_NONE)
		fputs("<td title=\"no data in the previous window\">"
		      "\xe2\x80\x93</td>",
		    f);
	else if (c->move == MOVE_NEW)
		fputs("<td class=\"new\">new</td>", f);
	else if (c->delta > 0)
		fprintf(f,
		    "<td class=\"up\" title=\"was #%zu\">\xe2\x86\x91%ld</td>",
		    c->prev_rank, c->delta);
	else if (c->delta < 0)
		fprintf(f,
		    "<td class=\"down\" title=\"was "
		    "#%zu\">\xe2\x86\x93%ld</td>",
		    c->prev_rank, -c->delta);
	else
		fputs("<td title=\"same rank\">=</td>", f);
}

/* A per-interval mean in packets per sensor per unit seconds. */
static double
per_unit(const struct site *st, unsigned unit, double mean)
{
	return mean * unit / st->step;
}

static const char *
unit_short(unsigned unit)
{
	return unit == 60 ? "min" : unit == 3600 ? "hour" : "unit";
}

/* A key drawn in a graph gets a swatch of its line's colour. */
static void
table_row(FILE *f, const struct site *st, enum span_kind k, size_t i, int drawn)
{
	const struct window *w = &st->win[k];
	char label[32], slug[32], avg[32];
	struct change c;

	key_label(w->idx[i], label, sizeof(label));
	key_slug(w->idx[i], slug, sizeof(slug));
	fmt_avg(per_unit(st, st->span[k].unit, w->mean[i]), avg, sizeof(avg));
	fprintf(f, "<tr><td class=\"num\">%zu</td><td>", i + 1);
	if (drawn)
		fprintf(f,
		    "<span class=\"sw\" style=\"background:%s\" "
		    "title=\"its colour in the graphs\"></span>",
		    key_palette(site_slot(st, w->idx[i])));
	fprintf(f, "<a href=\"key/%s.html\">%s</a></td><td class=\"svc\">",
	    slug, label);
	html_text(f, key_service(w->idx[i]));
	fprintf(f,
	    "</td><td class=\"num\">%s</td><td class=\"num\">%.2f%%</td>", avg,
	    100 * window_share(w, i));
	rank_change(&st->pwin[k], w->idx[i], i + 1, &c);
	change_cell(f, &c);
	fputs("</tr>\n", f);
}

static void
index_table(FILE *f, const struct site *st, enum span_kind k)
{
	const char *name = span_name(k);
	size_t i, n = top_n(&st->win[k]), ports = 0, icmps = 0;

	fprintf(f,
	    "<div class=\"top\">\n<div class=\"scroll\">\n<table>\n"
	    "<caption>Top %d keys, last %s</caption>\n<thead><tr>"
	    "<th scope=\"col\" class=\"num\">#</th><th scope=\"col\">Key</th>"
	    "<th scope=\"col\">Service</th>"
	    "<th scope=\"col\" class=\"num\">Avg/%s</th>"
	    "<th scope=\"col\" class=\"num\">Share</th>"
	    "<th scope=\"col\">Change</th></tr></thead>\n<tbody>\n",
	    SITE_TOP, name, unit_short(st->span[k].unit));
	for (i = 0; i < n; i++) {
		/* drawn: among the top 10 ports or top 5 ICMP types */
		int port = is_port(st->win[k].idx[i]);
		size_t *seen = port ? &ports : &icmps;

		table_row(f, st, k, i, (*seen)++ < (port ? 2 : 1) * GRAPH_KEYS);
	}
	if (n == 0)
		fputs("<tr><td colspan=\"6\">No data in this "
		      "window.</td></tr>\n",
		    f);
	fprintf(f,
	    "</tbody>\n</table>\n</div>\n<p class=\"note\">Download: "
	    "<a href=\"top-%s.json\">JSON</a> \xc2\xb7 "
	    "<a href=\"top-%s.csv\">CSV</a></p>\n</div>\n",
	    name, name);
}

static void
index_section(FILE *f, const struct site *st, enum span_kind k)
{
	const struct window *w = &st->win[k];
	char range[96];

	window_title(&st->span[k], range, sizeof(range));
	fprintf(f, "<section id=\"%s\">\n<h2>Last %s <small>%s</small></h2>\n",
	    span_name(k), span_name(k), range);
	fprintf(f,
	    "<p class=\"meta\">%" PRIu64 " intervals reported, %.2f sensors "
	    "reporting on average.</p>\n<div class=\"cols\">\n",
	    w->nintervals, w->sensors);
	index_graphs(f, st, k);
	index_table(f, st, k);
	fputs("</div>\n</section>\n", f);
}

static void
index_footer(FILE *f, const struct site *st)
{
	fprintf(f,
	    "<footer>\n<p><b>Avg</b>: packets per sensor per minute (day) "
	    "or per hour (longer windows), as on the graphs: the mean over "
	    "the window's reported intervals of %u s, each the packets of "
	    "the sensors that reported it divided by their number; the JSON "
	    "and CSV exports give it per interval. <b>Share</b>: of "
	    "all packets with a port or ICMP type in the window. "
	    "<b>Change</b>: rank against the previous window of the same "
	    "length: \xe2\x86\x91 up and \xe2\x86\x93 down by that many "
	    "places, = same rank, <i>new</i> not in its top %d, "
	    "\xe2\x80\x93 no data then. Graphs are in UTC.</p>\n"
	    "</footer>\n",
	    (unsigned)st->step, SITE_TOP);
}

static int
write_index(struct site *st)
{
	struct out o;
	int k;

	if (out_open(st, &o, "index.html") == -1)
		return -1;
	page_head(o.f, "teiten: scans seen by the sensors", "");
	fputs("<header>\n<h1>teiten <small>Internet background radiation, "
	      "per destination port</small></h1>\n",
	    o.f);
	data_time(o.f, st);
	fputs("<nav>", o.f);
	for (k = 0; k < SPAN_COUNT; k++)
		fprintf(o.f, "<a href=\"#%s\">%s</a>", span_name(k),
		    span_name(k));
	fputs("</nav>\n</header>\n<main>\n", o.f);
	for (k = 0; k < SPAN_COUNT; k++)
		index_section(o.f, st, k);
	fputs("</main>\n", o.f);
	index_footer(o.f, st);
	fputs("</body>\n</html>\n", o.f);
	return out_close(st, &o);
}

static void
key_row(FILE *f, const struct site *st, enum span_kind k, uint32_t idx)
{
	const struct window *w = &st->win[k];
	size_t r = window_rank(w, idx);
	char avg[32];

	fmt_avg(r ? per_unit(st, 3600, w->mean[r - 1]) : 0, avg, sizeof(avg));
	fprintf(f, "<tr><th scope=\"row\"><a href=\"#%s\">%s</a></th>",
	    span_name(k), span_name(k));
	if (r == 0)
		fputs("<td class=\"num\">\xe2\x80\x93</td><td "
		      "class=\"num\">0</td>"
		      "<td class=\"num\">0%</td>",
		    f);
	else
		fprintf(f,
		    "<td class=\"num\">%zu</td><td class=\"num\">%s</td>"
		    "<td class=\"num\">%.2f%%</td>",
		    r, avg, 100 * window_share(w, r - 1));
	r = window_rank(&st->pwin[k], idx);
	if (r == 0)
		fputs("<td class=\"num\">\xe2\x80\x93</td></tr>\n", f);
	else
		fprintf(f, "<td class=\"num\">%zu</td></tr>\n", r);
}

static void
key_body(FILE *f, const struct site *st, uint32_t idx, const char *slug)
{
	char name[NAME_MAX_], range[96], alt[160], label[32];
	int k;

	key_label(idx, label, sizeof(label));
	fputs("<div class=\"scroll\">\n<table class=\"narrow\">\n<caption>Rank "
	      "among all keys "
	      "and average per window</caption>\n<thead><tr>"
	      "<th scope=\"col\">Window</th><th scope=\"col\" class=\"num\">"
	      "Rank</th><th scope=\"col\" class=\"num\">Avg/hour</th>"
	      "<th scope=\"col\" class=\"num\">Share</th>"
	      "<th scope=\"col\" class=\"num\">Rank before</th></tr></thead>\n"
	      "<tbody>\n",
	    f);
	for (k = 0; k < SPAN_COUNT; k++)
		key_row(f, st, k, idx);
	fputs("</tbody>\n</table>\n</div>\n<div class=\"grid\">\n", f);
	for (k = 0; k < SPAN_COUNT; k++) {
		window_title(&st->span[k], range, sizeof(range));
		fprintf(f,
		    "<section id=\"%s\">\n<h2>Last %s <small>%s</small>"
		    "</h2>\n",
		    span_name(k), span_name(k), range);
		snprintf(name, sizeof(name), "key/%s-%s.png", slug,
		    span_name(k));
		snprintf(alt, sizeof(alt), "Graph of %s over the last %s",
		    label, span_name(k));
		/* The page is in key/, beside its graphs. */
		html_img(f, st, name, "../", alt);
		fputs("</section>\n", f);
	}
	fputs("</div>\n", f);
}

static int
write_key(struct site *st, uint32_t idx)
{
	char slug[32], name[NAME_MAX_], title[96];
	struct out o;

	key_slug(idx, slug, sizeof(slug));
	key_title(idx, title, sizeof(title));
	snprintf(name, sizeof(name), "key/%s.html", slug);
	if (out_open(st, &o, name) == -1)
		return -1;
	page_head(o.f, title, "../");
	fputs("<header>\n<nav><a href=\"../index.html\">\xe2\x86\x90 All "
	      "ports</a></nav>\n<h1>",
	    o.f);
	html_text(o.f, title);
	fputs("</h1>\n", o.f);
	data_time(o.f, st);
	fputs("</header>\n<main>\n", o.f);
	key_body(o.f, st, idx, slug);
	fputs("</main>\n", o.f);
	index_footer(o.f, st);
	fputs("</body>\n</html>\n", o.f);
	return out_close(st, &o);
}

/* ---- the directory ----------------------------------------------------- */

static int
make_dirs(struct site *st)
{
	char path[4200];

	/* The caller names outdir in front of the reason. */
	if (mkdir(st->outdir, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "mkdir: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/key", st->outdir);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/" CACHE_DIR, st->outdir);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "%s: %s", path, strerror(errno));
	return 0;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Cached windows this run did not use will not be asked for again. */
static void
prune_cache(struct site *st)
{
	char dir[4200], name[64];
	struct dirent *de;
	int k, used;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/" CACHE_DIR, st->outdir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".win") &&
		    !has_suffix(de->d_name, ".tmp"))
			continue;
		for (k = 0, used = 0; k < SPAN_COUNT && !used; k++) {
			wincache_name(st->span[k].start, st->span[k].end, name,
			    sizeof(name));
			used = strcmp(name, de->d_name) == 0;
			wincache_name(st->prev[k].start, st->prev[k].end, name,
			    sizeof(name));
			used = used || strcmp(name, de->d_name) == 0;
		}
		if (!used)
			(void)unlinkat(dirfd(d), de->d_name, 0); /* harmless */
	}
	closedir(d);
}

/*
 * Pages and graphs of keys no longer in any table would show stale
 * numbers; they go once the new index no longer links them.
 */
static void
prune_keys(struct site *st)
{
	char name[NAME_MAX_ + 16], dir[4200];
	struct dirent *de;
	size_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/key", st->outdir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len >= NAME_MAX_)
			continue; /* not a name this file makes */
		snprintf(name, sizeof(name), "key/%.*s", (int)len, de->d_name);
		if (has_suffix(name, ".html"))
			/* key/tcp-445.html is current if its day graph is. */
			snprintf(name + len + 4 - 5, sizeof(name) - (len - 1),
			    "-%s.png", span_name(SPAN_DAY));
		else if (!has_suffix(name, ".png"))
			continue;
		if (state_find(&st->cur, name) == NULL)
			(void)unlinkat(dirfd(d), de->d_name, 0); /* harmless */
	}
	closedir(d);
}

static int
write_pages(struct site *st)
{
	size_t i;
	int k;

	if (write_css(st) == -1)
		return -1;
	for (k = 0; k < SPAN_COUNT; k++)
		if (write_exports(st, k) == -1)
			return -1;
	for (i = 0; i < st->nkeys; i++)
		if (write_key(st, st->keys[i]) == -1)
			return -1;
	/* Last, so that everything it links to is in place. */
	return write_index(st);
}

static void
site_free(struct site *st)
{
	int k;

	for (k = 0; k < SPAN_COUNT; k++) {
		window_free(&st->win[k]);
		window_free(&st->pwin[k]);
	}
	free(st->keys);
	free(st->jobs);
	state_free(&st->old);
	state_free(&st->cur);
}

int
site_generate(const char *datadir, uint32_t step, int64_t end,
    const char *outdir, char *err, size_t errlen)
{
	char path[DATADIR_PATH_MAX];
	struct site st;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	st.datadir = datadir;
	st.outdir = outdir;
	st.step = step;
	st.end = end;
	st.err = err;
	st.errlen = errlen;
	st.last_final = datadir_last_final(datadir);
	st.generation = datadir_generation(datadir);
	if (st.last_final != INT64_MIN &&
	    (st.last_final < 0 || st.last_final >= INTERVAL_SEC_LIMIT)) {
		datadir_marker_path(datadir, DATADIR_LAST_FINAL, path,
		    sizeof(path));
		return site_fail(&st, "%s: not a Unix time (damaged?)", path);
	}
	if (make_dirs(&st) == 0 && load_windows(&st) == 0) {
		state_load(&st);
		if (render_all(&st) == 0 && write_pages(&st) == 0) {
			prune_keys(&st);
			prune_cache(&st);
			rc = 0;
		}
	}
	site_free(&st);
	return rc;
}

/*
 * PNG graphs with librrd; see graph.h.  Each graph is one rrd_graph_v call
 * whose argument list is built here:
 *
 *   DEF:s=DATADIR/rrd/sensors.rrd:reporting:AVERAGE   (when it exists)
 *   DEF:d<i>=<key rrd>:avg:AVERAGE                     the line and average
 *   DEF:x<i>=<key rrd>:avg:AVERAGE:reduce=MAX          the maximum
 *   CDEF:v<i>=s,UN,d<i>,d<i>,UN,0,d<i>,IF,IF,UNIT,*,STEP,/   (w<i>: x<i>)
 *   CDEF:l<i>=TIME,END,GT,UNKN,v<i>,IF                      (k<i>: w<i>)
 *   VDEF:a<i>=l<i>,AVERAGE  VDEF:m<i>=k<i>,MAXIMUM
 *   LINE2:v<i>#colour:"tcp/445 microsoft-ds"  GPRINT a<i>, m<i>
 *     (a COMMENT of the span's exact mean for a<i> where the caller gave
 *     it: graph_keys_mean)
 *   PRINT a<i>, m<i> (%.17le: not drawn; graph_keys_legend reads them)
 *
 * The stored value is packets per sensor per interval; times UNIT / STEP it is
 * packets per sensor per span->unit seconds.  A key reads unknown before its
 * first interval (doc/CONTRACTS.md contract 5) but nobody scanned it then:
 * where sensors reported, unknown is drawn and averaged as 0, so the legend's
 * average is the window mean that window.h ranks by (sum over reported
 * intervals / their number).  rrd_graph averages rows into pixels (two
 * intervals a pixel on the day window), so the maximum comes from a second
 * DEF reduced with MAX: the busiest interval, or the busiest row of the
 * coarser RRA that longer windows read (an hour, or a day for the year).
 *
 * The legend covers the rows stamped in (start, end]: a row is stamped
 * with the end of its step.  rrd_fetch also returns the row stamped
 * end + step, the interval just after the window, which the VDEFs would
 * count (a past period's legend would include the next interval), so
 * l<i> and k<i> drop the rows stamped after END.  At the RRD step the
 * legend is then exactly the window's intervals; a coarser row that
 * straddles the window's start is counted, one that straddles its end
 * (a UTC day that a Japan quarter ends in) is not.  The line is drawn
 * from v<i>, unmasked, up to the graph's edge.
 *
 * A key whose RRD does not exist was never seen: it has no DEF, and its
 * legend line says "never seen" instead of numbers.  Where the RRA a
 * window reads holds no known row (two hours of data read as daily rows
 * on the year window), the legend prints nan.  librrd honours
 * RRDCACHED_ADDRESS, flushing the files it reads through rrdcached.
 *
 * Titles, axis labels and grid lines are in the zone in use (zone.h),
 * which is the process's local time.  rrd_graph is not thread-safe:
 * render from one thread.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* For rrd_format.h: the file header, as librrd itself reads it. */
#define RRD_EXPORT_DEPRECATED
#include <rrd.h>

#include "datadir.h"
#include "graph.h"
#include "keyname.h"
#include "textout.h"
#include "xmalloc.h"
#include "zone.h"

#define LABEL_MAX 30 /* legend text before the numbers, in characters */
#define SENSORS_COLOUR "#1F5FA8"

/*
 * An rrd_graph argument vector; the strings are owned by it.  nlegend
 * counts the elements with legend text so far: rrd_graph_v returns the
 * text of the k-th as "legend[k]".
 */
struct args {
	char **v;
	size_t n, cap, nlegend;
};

static void args_add(struct args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void args_legend(struct args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void args_vadd(struct args *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
args_vadd(struct args *a, const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int len;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		len = 0; /* an encoding error: rrd_graph rejects the "" */
	s = xmalloc((size_t)len + 1);
	(void)vsnprintf(s, (size_t)len + 1, fmt, ap);
	if (a->n + 1 >= a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
args_add(struct args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	args_vadd(a, fmt, ap);
	va_end(ap);
}

/* An element whose legend text is never empty. */
static void
args_legend(struct args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	args_vadd(a, fmt, ap);
	va_end(ap);
	a->nlegend++;
}

static void
args_free(struct args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* rrd_graph splits its elements at ':'; a literal one is "\:". */
static void
escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 3 < len; in++) {
		if (*in == ':' || *in == '\\')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
}

/* Absent means never written; any other failure is left to librrd. */
static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 || errno != ENOENT;
}

/* Size, window, title and axis common to every graph. */
static void
add_frame(struct args *a, const struct span *sp, const char *title,
    const char *vlabel, const char *out)
{
	char from[32], to[32];

	zone_minute(sp->start, from, sizeof(from));
	zone_minute(sp->end, to, sizeof(to));
	args_add(a, "graphv");
	args_add(a, "%s", out);
	args_add(a, "--imgformat=PNG");
	args_add(a, "--width=%d", GRAPH_WIDTH);
	args_add(a, "--height=%d", GRAPH_HEIGHT);
	args_add(a, "--start=%" PRId64, sp->start);
	args_add(a, "--end=%" PRId64, sp->end);
	args_add(a, "--title=%s, %s - %s %s", title, from, to, zone_name());
	args_add(a, "--vertical-label=%s", vlabel);
	args_add(a, "--lower-limit=0");
	args_add(a, "--font=DEFAULT:9:");
	args_add(a, "--font=TITLE:11:");
	args_add(a, "--font=AXIS:8:");
	args_add(a, "--color=BACK#FFFFFF");
	args_add(a, "--color=SHADEA#FFFFFF");
	args_add(a, "--color=SHADEB#FFFFFF");
	/* An empty graph (no key has data) still gets its axes drawn. */
	args_add(a, "HRULE:0#808080");
}

#define EVENT_COLOUR "#C00000"
#define EVENTS_NAMED 4 /* per graph, in the legend; the rest rules only */

static const struct events *events;

void
graph_set_events(const struct events *ev)
{
	events = ev;
}

/* The events of this graph's range and keys, as VRULEs. */
static void
add_events(struct args *a, const struct span *sp, const uint32_t *idx, size_t n)
{
	char when[32], text[EVENT_TEXT_MAX + 40], etext[2 * sizeof(text)];
	size_t i, named = 0;

	if (events == NULL)
		return;
	for (i = 0; i < events->n; i++) {
		if (!event_applies(&events->v[i], sp->start, sp->end, idx, n))
			continue;
		if (named++ >= EVENTS_NAMED) {
			args_add(a, "VRULE:%" PRId64 "%s::dashes",
			    events->v[i].t, EVENT_COLOUR);
			continue;
		}
		zone_minute(events->v[i].t, when, sizeof(when));
		snprintf(text, sizeof(text), "%s  %s", when, events->v[i].text);
		escape(text, etext, sizeof(etext));
		args_legend(a, "VRULE:%" PRId64 "%s:%s\\l:dashes",
		    events->v[i].t, EVENT_COLOUR, etext);
	}
}

/* "tcp/445 microsoft-ds", cut to fit the legend's label column. */
static void
key_text(uint32_t idx, char *buf, size_t len)
{
	char label[16], raw[LABEL_MAX + 1];
	const char *svc = key_service(idx);

	key_label(idx, label, sizeof(label));
	/* A long service name is cut: the columns after it stay aligned. */
	if (snprintf(raw, sizeof(raw), "%s%s%s", label, *svc ? " " : "", svc) <
	    0)
		raw[0] = '\0';
	escape(raw, buf, len);
}

/* RPN for v, read as 0 where unknown but sensors reported (gate). */
static void
zero_fill(const char *v, int gate, char *buf, size_t len)
{
	if (gate)
		snprintf(buf, len, "s,UN,%s,%s,UN,0,%s,IF,IF", v, v, v);
	else
		snprintf(buf, len, "%s", v);
}

/*
 * One key's DEFs, line and legend; n is its number in this graph.
 * Returns the legend index of its average's GPRINT (the maximum's is
 * next), or SIZE_MAX for a key never seen.
 */
static size_t
add_key(struct args *a, const char *datadir, uint32_t step,
    const struct span *sp, uint32_t idx, unsigned slot, double mean, size_t n,
    int gate)
{
	char path[4096], epath[8192], text[2 * LABEL_MAX + 2];
	char d[32], x[32], zd[128], zx[128];
	size_t at;

	key_text(idx, text, sizeof(text));
	datadir_key_rrd(datadir, idx, path, sizeof(path));
	if (!exists(path)) {
		args_legend(a, "COMMENT:  %-*s", LABEL_MAX, text);
		args_legend(a, "COMMENT:%10s\\l", "never seen");
		return SIZE_MAX;
	}
	escape(path, epath, sizeof(epath));
	snprintf(d, sizeof(d), "d%zu", n);
	snprintf(x, sizeof(x), "x%zu", n);
	zero_fill(d, gate, zd, sizeof(zd));
	zero_fill(x, gate, zx, sizeof(zx));
	args_add(a, "DEF:%s=%s:avg:AVERAGE", d, epath);
	args_add(a, "DEF:%s=%s:avg:AVERAGE:reduce=MAX", x, epath);
	args_add(a, "CDEF:v%zu=%s,%u,*,%u,/", n, zd, sp->unit, step);
	args_add(a, "CDEF:w%zu=%s,%u,*,%u,/", n, zx, sp->unit, step);
	args_add(a, "CDEF:l%zu=TIME,%" PRId64 ",GT,UNKN,v%zu,IF", n, sp->end,
	    n);
	args_add(a, "CDEF:k%zu=TIME,%" PRId64 ",GT,UNKN,w%zu,IF", n, sp->end,
	    n);
	args_add(a, "VDEF:a%zu=l%zu,AVERAGE", n, n);
	args_add(a, "VDEF:m%zu=k%zu,MAXIMUM", n, n);
	args_legend(a, "LINE2:v%zu%s:%-*s", n, key_palette(slot), LABEL_MAX,
	    text);
	at = a->nlegend;
	if (isnan(mean))
		args_legend(a, "GPRINT:a%zu:%%10.2lf", n);
	else /* the span's exact mean, as the tables give it */
		args_legend(a, "COMMENT:%10.2f", mean * sp->unit / step);
	args_legend(a, "GPRINT:m%zu:%%10.2lf\\l", n);
	args_add(a, "PRINT:a%zu:%%.17le", n);
	args_add(a, "PRINT:m%zu:%%.17le", n);
	return at;
}

static const char *
unit_name(const struct span *sp)
{
	return sp->unit == 60 ? "minute" : sp->unit == 3600 ? "hour" : "unit";
}

/*
 * rrd_graph_v labels the time axis in local time: the zone in use
 * (zone.h), which teiten-graph sets before it draws.
 */
static int
render(struct args *a, const char *out, rrd_info_t **keep, char *err,
    size_t errlen)
{
	rrd_info_t *info;
	int rc = 0;

	rrd_clear_error();
	info = rrd_graph_v((int)a->n, a->v);
	if (info == NULL || rrd_test_error()) {
		snprintf(err, errlen, "%s: %s", out,
		    rrd_test_error() ? rrd_get_error() : "rrd_graph failed");
		rc = -1;
	}
	if (rc == 0 && keep != NULL)
		*keep = info;
	else
		rrd_info_free(info);
	return rc;
}

/* The string rrd_graph_v returned as "what[i]", or NULL. */
static const char *
info_text(const rrd_info_t *info, const char *what, size_t i)
{
	char key[64];

	snprintf(key, sizeof(key), "%s[%zu]", what, i);
	for (; info != NULL; info = info->next)
		if (info->type == RD_I_STR && strcmp(info->key, key) == 0)
			return info->value.u_str;
	return NULL;
}

/* A PRINT's "%.17le" back to a double; rrd prints NaN as "nan". */
static double
info_number(const rrd_info_t *info, size_t i)
{
	const char *s = info_text(info, "print", i);
	char *end;
	double v;

	if (s == NULL)
		return NAN;
	errno = 0;
	v = strtod(s, &end);
	return end == s || *end != '\0' || errno == ERANGE ? NAN : v;
}

/* The legend text as drawn, without its padding. */
static void
info_legend(const rrd_info_t *info, size_t i, char *buf, size_t len)
{
	const char *s = info_text(info, "legend", i);
	size_t n;

	while (s != NULL && *s == ' ')
		s++;
	n = s == NULL ? 0 : strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	snprintf(buf, len, "%.*s", (int)n, s == NULL ? "" : s);
}

/* What each key's legend line says, from rrd_graph_v's answer. */
static void
legend_read(const rrd_info_t *info, const size_t *at, size_t n,
    struct legend_line *ln)
{
	size_t i, seen = 0;

	for (i = 0; i < n; i++) {
		ln[i].seen = at[i] != SIZE_MAX;
		ln[i].avg = ln[i].max = NAN;
		ln[i].avg_text[0] = ln[i].max_text[0] = '\0';
		if (!ln[i].seen)
			continue;
		ln[i].avg = info_number(info, seen++);
		ln[i].max = info_number(info, seen++);
		info_legend(info, at[i], ln[i].avg_text,
		    sizeof(ln[i].avg_text));
		info_legend(info, at[i] + 1, ln[i].max_text,
		    sizeof(ln[i].max_text));
	}
}

/* Most data sources and RRAs a file may have; teiten's have 1 and 3. */
#define RRD_MAX_DS 16
#define RRD_MAX_RRA 16
#define RRD_MAX_SPAN ((uint64_t)1 << 40) /* seconds one row may cover */

/* One part of the header, or why it is not there. */
static const char *
rrd_part(FILE *f, void *p, size_t size, size_t n)
{
	if (fread(p, size, n, f) == n)
		return NULL;
	return ferror(f) ? strerror(errno) : "truncated header";
}

static const char *
rrd_check_head(const stat_head_t *h, uint32_t step)
{
	if (memcmp(h->cookie, RRD_COOKIE, 4) != 0)
		return "not an RRD file";
	if (strcmp(h->version, RRD_VERSION3) != 0 &&
	    strcmp(h->version, RRD_VERSION4) != 0 &&
	    strcmp(h->version, RRD_VERSION5) != 0)
		return "not an RRD version 3 to 5";
	if (h->float_cookie != FLOAT_COOKIE)
		return "made on another architecture, or damaged";
	if (h->ds_cnt < 1 || h->ds_cnt > RRD_MAX_DS || h->rra_cnt < 1 ||
	    h->rra_cnt > RRD_MAX_RRA)
		return "impossible number of data sources or RRAs";
	if (h->pdp_step == 0 || h->pdp_step != step)
		return "step differs from the data directory's";
	return NULL;
}

static const char *
rrd_check_defs(const stat_head_t *h, const ds_def_t *ds, const rra_def_t *rra,
    uint64_t *rows)
{
	static const char *const cfs[] = {"AVERAGE", "MIN", "MAX", "LAST"};
	unsigned long i;
	size_t c;
	double xff;

	for (i = 0; i < h->ds_cnt; i++)
		if (memchr(ds[i].ds_nam, '\0', DS_NAM_SIZE) == NULL ||
		    strcmp(ds[i].dst, "GAUGE") != 0)
			return "a data source is not a named GAUGE";
	for (*rows = 0, i = 0; i < h->rra_cnt; i++) {
		for (c = 0; c < sizeof(cfs) / sizeof(cfs[0]); c++)
			if (strcmp(rra[i].cf_nam, cfs[c]) == 0)
				break;
		if (c == sizeof(cfs) / sizeof(cfs[0]))
			return "an RRA's consolidation function is unknown";
		xff = rra[i].par[RRA_cdp_xff_val].u_val;
		if (rra[i].row_cnt < 1 || rra[i].row_cnt > UINT32_MAX ||
		    rra[i].pdp_cnt < 1 ||
		    rra[i].pdp_cnt > RRD_MAX_SPAN / h->pdp_step ||
		    !(xff >= 0 && xff < 1))
			return "an RRA's rows, steps or xff are impossible";
		*rows += rra[i].row_cnt;
	}
	return NULL;
}

/*
 * librrd trusts an RRD's header: a damaged step, count or row pointer
 * makes rrd_graph divide by zero, read past the end of its map (SIGBUS)
 * or corrupt its heap.  So each file is read here first, in librrd's own
 * structures (rrd_format.h), and checked against what rrdw.c makes: this
 * host's format, GAUGE data sources, plain consolidation functions, the
 * data directory's step, row pointers inside their RRAs and exactly the
 * rows that the header promises.  Returns 0, or -1 naming the file.
 */
static int
rrd_sane(const char *path, uint32_t step, char *err, size_t errlen)
{
	stat_head_t h;
	ds_def_t ds[RRD_MAX_DS];
	rra_def_t rra[RRD_MAX_RRA];
	live_head_t live;
	pdp_prep_t pdp[RRD_MAX_DS];
	cdp_prep_t cdp[RRD_MAX_DS];
	rra_ptr_t ptr[RRD_MAX_RRA];
	const char *bad;
	struct stat sb;
	uint64_t rows;
	unsigned long i;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((bad = rrd_part(f, &h, sizeof(h), 1)) != NULL ||
	    (bad = rrd_check_head(&h, step)) != NULL ||
	    (bad = rrd_part(f, ds, sizeof(ds[0]), h.ds_cnt)) != NULL ||
	    (bad = rrd_part(f, rra, sizeof(rra[0]), h.rra_cnt)) != NULL ||
	    (bad = rrd_check_defs(&h, ds, rra, &rows)) != NULL ||
	    (bad = rrd_part(f, &live, sizeof(live), 1)) != NULL ||
	    (bad = rrd_part(f, pdp, sizeof(pdp[0]), h.ds_cnt)) != NULL)
		goto out;
	for (i = 0; i < h.rra_cnt && bad == NULL; i++)
		bad = rrd_part(f, cdp, sizeof(cdp[0]), h.ds_cnt);
	if (bad != NULL ||
	    (bad = rrd_part(f, ptr, sizeof(ptr[0]), h.rra_cnt)) != NULL)
		goto out;
	for (i = 0; i < h.rra_cnt && bad == NULL; i++)
		if (ptr[i].cur_row >= rra[i].row_cnt)
			bad = "a row pointer is outside its RRA";
	if (bad == NULL &&
	    (live.last_up <= 0 || live.last_up_usec < 0 ||
		live.last_up_usec >= 1000000))
		bad = "impossible last update time";
	if (bad == NULL && fstat(fileno(f), &sb) == -1)
		bad = strerror(errno);
	if (bad == NULL &&
	    (uint64_t)sb.st_size !=
		(uint64_t)ftell(f) + rows * h.ds_cnt * sizeof(rrd_value_t))
		bad = "size differs from what its header says";
out:
	fclose(f);
	if (bad == NULL)
		return 0;
	snprintf(err, errlen, "%s: damaged RRD: %s", path, bad);
	return -1;
}

/* Every key RRD that exists; an absent one is drawn as never seen. */
static int
keys_sane(const char *datadir, uint32_t step, const uint32_t *idx, size_t n,
    char *err, size_t errlen)
{
	char path[4096];
	size_t i;

	for (i = 0; i < n; i++) {
		datadir_key_rrd(datadir, idx[i], path, sizeof(path));
		if (exists(path) && rrd_sane(path, step, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * librrd's reason for a file it cannot read does not name the file; when
 * a graph fails, name the first key RRD that librrd cannot read.
 */
static void
blame(const char *datadir, const uint32_t *idx, size_t n, char *err,
    size_t errlen)
{
	char path[4096];
	size_t i;

	for (i = 0; i < n; i++) {
		datadir_key_rrd(datadir, idx[i], path, sizeof(path));
		if (!exists(path))
			continue;
		rrd_clear_error();
		if (rrd_last_r(path) == -1) {
			snprintf(err, errlen, "%s: %s", path, rrd_get_error());
			return;
		}
	}
}

/*
 * The caller's colour slots, or each key's default moved to the next
 * slot no earlier line of this graph holds.
 */
static unsigned
pick_slot(const uint32_t *idx, const unsigned *slot, size_t i, unsigned *used)
{
	unsigned s, tries;
	size_t j;

	if (slot != NULL)
		return used[i] = slot[i];
	s = key_colour_slot(idx[i]);
	for (tries = 0; tries < KEY_PALETTE; tries++) {
		for (j = 0; j < i && used[j] != s; j++)
			;
		if (j == i)
			break;
		s = (s + 1) % KEY_PALETTE;
	}
	return used[i] = s;
}

int
graph_keys(const char *datadir, uint32_t step, const struct span *sp,
    const uint32_t *idx, const unsigned *slot, size_t n, const char *title,
    const char *out, char *err, size_t errlen)
{
	return graph_keys_mean(datadir, step, sp, idx, slot, NULL, n, title,
	    out, NULL, err, errlen);
}

int
graph_keys_legend(const char *datadir, uint32_t step, const struct span *sp,
    const uint32_t *idx, const unsigned *slot, size_t n, const char *title,
    const char *out, struct legend_line *ln, char *err, size_t errlen)
{
	return graph_keys_mean(datadir, step, sp, idx, slot, NULL, n, title,
	    out, ln, err, errlen);
}

int
graph_keys_mean(const char *datadir, uint32_t step, const struct span *sp,
    const uint32_t *idx, const unsigned *slot, const double *mean, size_t n,
    const char *title, const char *out, struct legend_line *ln, char *err,
    size_t errlen)
{
	struct args a = {NULL, 0, 0, 0};
	char path[4096], epath[8192], vlabel[64], head[64];
	rrd_info_t *info = NULL;
	unsigned *used;
	size_t i, *at;
	int gate, rc;

	if (step == 0) {
		snprintf(err, errlen, "graph %s: step is 0", out);
		return -1;
	}
	if (keys_sane(datadir, step, idx, n, err, errlen) == -1)
		return -1;
	datadir_sensors_rrd(datadir, path, sizeof(path));
	if ((gate = exists(path)) && rrd_sane(path, step, err, errlen) == -1)
		return -1;
	snprintf(vlabel, sizeof(vlabel), "packets / sensor / %s",
	    unit_name(sp));
	snprintf(head, sizeof(head), "packets per sensor per %s",
	    unit_name(sp));
	add_frame(&a, sp, title, vlabel, out);
	if (gate) {
		escape(path, epath, sizeof(epath));
		args_add(&a, "DEF:s=%s:reporting:AVERAGE", epath);
	}
	/* Separate entries, as in a key's line, so that columns align. */
	args_legend(&a, "COMMENT:  %-*s", LABEL_MAX, head);
	args_legend(&a, "COMMENT:%10s", "average");
	args_legend(&a, "COMMENT:%10s\\l", "maximum");
	used = xcalloc(n ? n : 1, sizeof(*used));
	at = xcalloc(n ? n : 1, sizeof(*at));
	for (i = 0; i < n; i++)
		at[i] = add_key(&a, datadir, step, sp, idx[i],
		    pick_slot(idx, slot, i, used), mean ? mean[i] : NAN, i,
		    gate);
	free(used);
	add_events(&a, sp, idx, n);
	if ((rc = render(&a, out, ln != NULL ? &info : NULL, err, errlen)) ==
	    -1)
		blame(datadir, idx, n, err, errlen);
	else if (ln != NULL) {
		for (i = 0; i < n; i++)
			ln[i].idx = idx[i];
		legend_read(info, at, n, ln);
		for (i = 0; mean != NULL && i < n; i++)
			if (ln[i].seen && !isnan(mean[i]))
				ln[i].avg = mean[i] * sp->unit / step;
	}
	rrd_info_free(info);
	free(at);
	args_free(&a);
	return rc;
}

int
graph_sensors(const char *datadir, uint32_t step, const struct span *sp,
    const char *out, char *err, size_t errlen)
{
	struct args a = {NULL, 0, 0, 0};
	char path[4096], epath[8192];
	int rc;

	/* A count of sensors needs no rescaling: step is for the check. */
	datadir_sensors_rrd(datadir, path, sizeof(path));
	if (rrd_sane(path, step, err, errlen) == -1)
		return -1;
	escape(path, epath, sizeof(epath));
	add_frame(&a, sp, "sensors reporting", "sensors", out);
	args_add(&a, "--height=%d", GRAPH_SENSORS_HEIGHT); /* the last wins */
	args_add(&a, "DEF:s=%s:reporting:AVERAGE", epath);
	args_add(&a, "DEF:lo=%s:reporting:AVERAGE:reduce=MIN", epath);
	args_add(&a, "DEF:hi=%s:reporting:AVERAGE:reduce=MAX", epath);
	/* As for keys: not the row rrd_fetch adds after the window. */
	args_add(&a, "CDEF:sl=TIME,%" PRId64 ",GT,UNKN,s,IF", sp->end);
	args_add(&a, "CDEF:lol=TIME,%" PRId64 ",GT,UNKN,lo,IF", sp->end);
	args_add(&a, "CDEF:hil=TIME,%" PRId64 ",GT,UNKN,hi,IF", sp->end);
	args_add(&a, "VDEF:sa=sl,AVERAGE");
	args_add(&a, "VDEF:sn=lol,MINIMUM");
	args_add(&a, "VDEF:sx=hil,MAXIMUM");
	args_add(&a, "AREA:s%s40", SENSORS_COLOUR);
	args_add(&a, "LINE2:s%s:%-20s", SENSORS_COLOUR, "sensors reporting");
	args_add(&a, "GPRINT:sa:average %%8.2lf");
	args_add(&a, "GPRINT:sn:minimum %%8.2lf");
	args_add(&a, "GPRINT:sx:maximum %%8.2lf\\l");
	add_events(&a, sp, NULL, 0);
	rc = render(&a, out, NULL, err, errlen);
	args_free(&a);
	return rc;
}

/*
 * A sensor's health from DATADIR/rrd/sensor/<id>.rrd: the packets it saw
 * and dropped per interval, and the intervals it did not report (a row
 * without data) ticked in grey, with the share it reported.
 */
int
graph_health(const char *datadir, uint32_t step, const struct span *sp,
    const char *id, const char *out, char *err, size_t errlen)
{
	struct args a = {NULL, 0, 0, 0};
	char path[4096], epath[8192], t[128];
	int rc;

	datadir_sensor_rrd(datadir, id, path, sizeof(path));
	if (rrd_sane(path, step, err, errlen) == -1)
		return -1;
	escape(path, epath, sizeof(epath));
	snprintf(t, sizeof(t), "sensor %s", id);
	add_frame(&a, sp, t, "packets / interval", out);
	args_add(&a, "DEF:r=%s:reported:AVERAGE", epath);
	args_add(&a, "DEF:p=%s:packets:AVERAGE", epath);
	args_add(&a, "DEF:d=%s:drops:AVERAGE", epath);
	args_add(&a, "DEF:px=%s:packets:AVERAGE:reduce=MAX", epath);
	args_add(&a, "DEF:dx=%s:drops:AVERAGE:reduce=MAX", epath);
	/* As for keys: not the row rrd_fetch adds after the window. */
	args_add(&a, "CDEF:rl=TIME,%" PRId64 ",GT,UNKN,r,UN,0,r,IF,IF",
	    sp->end);
	args_add(&a, "CDEF:miss=TIME,%" PRId64 ",GT,0,r,UN,1,0,IF,IF", sp->end);
	args_add(&a, "CDEF:pl=TIME,%" PRId64 ",GT,UNKN,p,IF", sp->end);
	args_add(&a, "CDEF:dl=TIME,%" PRId64 ",GT,UNKN,d,IF", sp->end);
	args_add(&a, "CDEF:pk=TIME,%" PRId64 ",GT,UNKN,px,IF", sp->end);
	args_add(&a, "CDEF:dk=TIME,%" PRId64 ",GT,UNKN,dx,IF", sp->end);
	args_add(&a, "CDEF:rp=rl,100,*");
	args_add(&a, "VDEF:ra=rp,AVERAGE");
	args_add(&a, "VDEF:pa=pl,AVERAGE");
	args_add(&a, "VDEF:pm=pk,MAXIMUM");
	args_add(&a, "VDEF:da=dl,AVERAGE");
	args_add(&a, "VDEF:dm=dk,MAXIMUM");
	/* Under the lines, unlabelled: the comment below explains it. */
	args_add(&a, "TICK:miss#E4E4E4:1.0");
	args_legend(&a, "COMMENT:  %-*s", LABEL_MAX, "per interval");
	args_legend(&a, "COMMENT:%10s", "average");
	args_legend(&a, "COMMENT:%10s\\l", "maximum");
	args_legend(&a, "LINE2:p%s:%-*s", SENSORS_COLOUR, LABEL_MAX,
	    "packets seen");
	args_legend(&a, "GPRINT:pa:%%10.0lf");
	args_legend(&a, "GPRINT:pm:%%10.0lf\\l");
	args_legend(&a, "LINE1:d#D62728:%-*s", LABEL_MAX, "dropped");
	args_legend(&a, "GPRINT:da:%%10.0lf");
	args_legend(&a, "GPRINT:dm:%%10.0lf\\l");
	args_legend(&a, "COMMENT:  grey\\: intervals not reported;");
	args_legend(&a, "GPRINT:ra:reported %%5.1lf%%%%\\l");
	add_events(&a, sp, NULL, 0);
	rc = render(&a, out, NULL, err, errlen);
	args_free(&a);
	return rc;
}

int
graph_sources(const char *datadir, uint32_t step, const struct span *sp,
    uint32_t idx, const char *title, const char *out, char *err, size_t errlen)
{
	static const char *const ds[2] = {"sources", "targets"};
	static const char *const colour[2] = {"#1F77B4", "#FF7F0E"};
	struct args a = {NULL, 0, 0, 0};
	char path[4096], epath[8192], t[48];
	int i, rc;

	if (keys_sane(datadir, step, &idx, 1, err, errlen) == -1)
		return -1;
	datadir_key_rrd(datadir, idx, path, sizeof(path));
	snprintf(t, sizeof(t), "%s, distinct addresses", title);
	add_frame(&a, sp, t, "addresses / interval", out);
	args_legend(&a, "COMMENT:  %-*s", LABEL_MAX,
	    "distinct per interval, all sensors");
	args_legend(&a, "COMMENT:%10s", "average");
	args_legend(&a, "COMMENT:%10s\\l", "maximum");
	if (exists(path)) {
		escape(path, epath, sizeof(epath));
		for (i = 0; i < 2; i++) {
			args_add(&a, "DEF:d%d=%s:%s:AVERAGE", i, epath, ds[i]);
			args_add(&a, "DEF:x%d=%s:%s:AVERAGE:reduce=MAX", i,
			    epath, ds[i]);
			/* Not the row rrd_fetch adds after the window. */
			args_add(&a, "CDEF:l%d=TIME,%" PRId64 ",GT,UNKN,d%d,IF",
			    i, sp->end, i);
			args_add(&a, "CDEF:k%d=TIME,%" PRId64 ",GT,UNKN,x%d,IF",
			    i, sp->end, i);
			args_add(&a, "VDEF:a%d=l%d,AVERAGE", i, i);
			args_add(&a, "VDEF:m%d=k%d,MAXIMUM", i, i);
			args_legend(&a, "LINE%d:d%d%s:%-*s", 2 - i, i,
			    colour[i], LABEL_MAX, ds[i]);
			args_legend(&a, "GPRINT:a%d:%%10.0lf", i);
			args_legend(&a, "GPRINT:m%d:%%10.0lf\\l", i);
		}
	} else
		args_legend(&a, "COMMENT:  never seen\\l");
	add_events(&a, sp, &idx, 1);
	rc = render(&a, out, NULL, err, errlen);
	args_free(&a);
	return rc;
}

/*
 * rrd_xport with the graph's own DEFs and as many rows as the plot has
 * pixels reads what rrd_graph would consolidate for the same range.
 */
int
graph_series(const char *datadir, uint32_t step, const struct span *sp,
    uint32_t idx, struct series *out, char *err, size_t errlen)
{
	struct args a = {NULL, 0, 0, 0};
	char path[4096], epath[8192], zd[128];
	unsigned long xstep = 0, ncol = 0, i;
	rrd_value_t *data = NULL;
	char **legend = NULL;
	time_t xs = 0, xe = 0;
	int xsize = 0, rc = -1, gate, have;
	size_t r, nrow;

	memset(out, 0, sizeof(*out));
	datadir_sensors_rrd(datadir, path, sizeof(path));
	if ((gate = exists(path)) && rrd_sane(path, step, err, errlen) == -1)
		return -1;
	if (!gate) {
		snprintf(err, errlen, "%s: no interval written yet", path);
		return -1;
	}
	args_add(&a, "xport");
	args_add(&a, "--start=%" PRId64, sp->start);
	args_add(&a, "--end=%" PRId64, sp->end);
	args_add(&a, "--maxrows=%d", GRAPH_WIDTH);
	escape(path, epath, sizeof(epath));
	args_add(&a, "DEF:s=%s:reporting:AVERAGE", epath);
	datadir_key_rrd(datadir, idx, path, sizeof(path));
	if ((have = exists(path))) {
		if (rrd_sane(path, step, err, errlen) == -1)
			goto out;
		escape(path, epath, sizeof(epath));
		args_add(&a, "DEF:d=%s:avg:AVERAGE", epath);
		zero_fill("d", 1, zd, sizeof(zd));
		args_add(&a, "CDEF:v=%s", zd);
	} else /* never seen: nobody scanned it where sensors reported */
		args_add(&a, "CDEF:v=s,UN,UNKN,0,IF");
	args_add(&a, "XPORT:v:avg");
	args_add(&a, "XPORT:s:sensors");
	rrd_clear_error();
	if (rrd_xport((int)a.n, a.v, &xsize, &xs, &xe, &xstep, &ncol, &legend,
		&data) == -1 ||
	    ncol != 2 || xstep == 0) {
		snprintf(err, errlen, "%s: %s", path,
		    rrd_test_error() ? rrd_get_error() : "rrd_xport failed");
		goto out;
	}
	/* Row r covers [xs + r step, xs + (r + 1) step): RRD rows are stamped
	 * with their end. */
	nrow = xe > xs ? (size_t)((xe - xs) / (time_t)xstep) : 0;
	out->step = (uint32_t)xstep;
	out->t = xcalloc(nrow ? nrow : 1, sizeof(*out->t));
	out->avg = xcalloc(nrow ? nrow : 1, sizeof(*out->avg));
	out->sensors = xcalloc(nrow ? nrow : 1, sizeof(*out->sensors));
	for (r = 0; r < nrow; r++) {
		out->t[out->n] = (int64_t)xs + (int64_t)(r * xstep);
		if (out->t[out->n] < sp->start || out->t[out->n] >= sp->end)
			continue;
		out->avg[out->n] = data[r * 2];
		out->sensors[out->n] = data[r * 2 + 1];
		out->n++;
	}
	rc = 0;
out:
	if (legend != NULL) {
		for (i = 0; i < ncol; i++)
			rrd_freemem(legend[i]);
		rrd_freemem(legend);
	}
	rrd_freemem(data);
	args_free(&a);
	return rc;
}

void
series_free(struct series *s)
{
	free(s->t);
	free(s->avg);
	free(s->sensors);
	memset(s, 0, sizeof(*s));
}

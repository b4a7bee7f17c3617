/*
 * The report pages' periods: every fiscal year, calendar quarter and
 * month from the oldest summary bucket to the newest data, their
 * rankings and those of the periods before them, and their graphs.
 *
 * A closed period's page is drawn once and kept: DIR/.state records it as
 * report/<name>.html with a signature of what it was drawn from (DATADIR
 * generation, step, zone, fiscal year, watched keys, the period's
 * events).  While the signature holds and the page is there, nothing of
 * that period is read or drawn again; a rebuild of DATADIR, another zone
 * or another watch list draws it again.  Only the periods still under
 * way are drawn every run.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "datadir.h"
#include "fnv.h"
#include "keyname.h"
#include "site_int.h"
#include "wincache.h"
#include "xmalloc.h"
#include "zone.h"

#define REPORTS_MAX 1024 /* 60 years of months, quarters and fiscal years */

static const enum period_kind kinds[] = {PERIOD_FY, PERIOD_QUARTER,
    PERIOD_MONTH};

/* The name of the period of kind that holds date c. */
static void
period_at(enum period_kind kind, int fy_month, struct civil c, char *buf,
    size_t len)
{
	if (kind == PERIOD_MONTH)
		snprintf(buf, len, "%04d-%02d", c.y, c.m);
	else if (kind == PERIOD_QUARTER)
		snprintf(buf, len, "%04dQ%d", c.y, (c.m - 1) / 3 + 1);
	else
		snprintf(buf, len, "FY%04d", c.m >= fy_month ? c.y : c.y - 1);
}

/*
 * What the ranking of a period under way ends at: whole hours while the
 * hourly buckets can answer it, else the last midnight (window.h).
 */
static int64_t
report_cut(const char *datadir, const struct report *r, int64_t newest)
{
	int64_t h = newest - newest % SUMMARY_HOUR;

	if (newest >= r->end)
		return r->end;
	if (window_hourly(datadir, r->start, h))
		return h;
	return zone_day_start(zone_date(newest, NULL));
}

static void
report_sig(const struct site *st, const struct report *r, char *buf, size_t len)
{
	const struct events *ev = st->opts->events;
	const struct event *e;
	uint32_t h = FNV1A_INIT;
	size_t i, j;

	for (i = 0; ev != NULL && i < ev->n; i++) {
		e = &ev->v[i];
		if (e->t < r->start || e->t >= r->end)
			continue;
		h = fnv1a(h, &e->t, sizeof(e->t));
		h = fnv1a(h, &e->all, sizeof(e->all));
		h = fnv1a(h, &e->idx, sizeof(e->idx));
		h = fnv1a(h, e->text, strlen(e->text) + 1);
		for (j = 0; j < e->nurl; j++)
			h = fnv1a(h, e->url[j], strlen(e->url[j]) + 1);
	}
	h = fnv1a(h, st->opts->watch, st->opts->nwatch * sizeof(uint32_t));
	snprintf(buf, len,
	    "report 1 %" PRId64 " %" PRId64 " %u g%" PRId64 " %s fy%d e%08x",
	    r->start, r->end, (unsigned)st->step, st->generation, zone_name(),
	    r->p.fy_month, h);
}

/* Kept: closed, drawn before from the same inputs, and still there. */
static int
report_kept(struct site *st, struct report *r, const char *sig)
{
	char name[REPORT_NAME_MAX], path[4200];
	const struct png *old;
	struct stat sb;

	snprintf(name, sizeof(name), "report/%s.html", r->name);
	if (r->closed)
		state_add(&st->cur, name, sig);
	old = state_find(&st->old, name);
	snprintf(path, sizeof(path), "%s/%s", st->outdir, name);
	return r->closed && old != NULL && strcmp(old->sig, sig) == 0 &&
	    stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* The periods of every kind from first to newest, newest first. */
static int
list_reports(struct site *st, int64_t first, int64_t newest)
{
	int fy = st->opts->fy_month ? st->opts->fy_month : PERIOD_FY_MONTH;
	char name[PERIOD_NAME_MAX], why[256];
	struct civil c, from = zone_date(first, NULL);
	struct report *r, t;
	size_t k, n0, a, b;

	st->rep = xcalloc(REPORTS_MAX, sizeof(*st->rep));
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		n0 = st->nrep;
		for (c = from;; c = civil_add_days(r->p.last, 1)) {
			if (st->nrep == REPORTS_MAX)
				return site_fail(st, "more than %d reports",
				    REPORTS_MAX);
			r = &st->rep[st->nrep];
			period_at(kinds[k], fy, c, name, sizeof(name));
			if (period_parse(name, fy, &r->p, why, sizeof(why)) ==
			    -1)
				return site_fail(st, "%s", why); /* a bug */
			period_bounds(&r->p, &r->start, &r->end);
			if (r->start >= newest)
				break;
			period_name(&r->p, r->name, sizeof(r->name));
			st->nrep++;
		}
		memset(&st->rep[st->nrep], 0, sizeof(*r));
		for (a = n0, b = st->nrep; a + 1 < b; a++, b--) {
			t = st->rep[a]; /* newest first */
			st->rep[a] = st->rep[b - 1];
			st->rep[b - 1] = t;
		}
	}
	return 0;
}

unsigned
report_slot(size_t graph, size_t i)
{
	return (unsigned)((graph * GRAPH_KEYS + i) % KEY_PALETTE);
}

/* The report's graphs: top 1-5, 6-10, ICMP, then each watched key. */
static int
plan_report(struct site *st, struct report *r)
{
	uint32_t idx[GRAPH_KEYS];
	unsigned slot[GRAPH_KEYS];
	char name[REPORT_NAME_MAX], title[128], slug[32], kt[64];
	size_t g, i, n;

	for (g = 0; g < NWINDOW_GRAPHS; g++) {
		n = pick_keys(&r->win, window_graphs[g].port,
		    window_graphs[g].first, idx);
		for (i = 0; i < n; i++)
			slot[i] = report_slot(g, i);
		snprintf(name, sizeof(name), "report/%s-%s.png", r->name,
		    window_graphs[g].suffix);
		snprintf(title, sizeof(title), "%s, %s%s",
		    window_graphs[g].title, r->name,
		    r->closed ? "" : " so far");
		if (site_png(st, name, &r->span, idx, slot, n, title,
			&r->win) == -1)
			return -1;
	}
	for (i = 0; i < st->opts->nwatch; i++) {
		key_slug(st->opts->watch[i], slug, sizeof(slug));
		key_title(st->opts->watch[i], kt, sizeof(kt));
		snprintf(name, sizeof(name), "report/%s-%s.png", r->name, slug);
		snprintf(title, sizeof(title), "%s, %s%s", kt, r->name,
		    r->closed ? "" : " so far");
		if (site_png(st, name, &r->span, &st->opts->watch[i], NULL, 1,
			title, &r->win) == -1)
			return -1;
	}
	return 0;
}

int
plan_reports(struct site *st)
{
	int64_t first = summary_first(st->datadir), newest = st->end;
	char sig[256], dir[4200], zone[ZONE_NAME_MAX] = "";
	struct period prev;
	struct report *r;
	size_t i;

	if (first == INT64_MIN || first >= newest)
		return 0; /* no data yet: no report */
	/* Months and years need days cut in the zone the pages are in. */
	if (datadir_zone(st->datadir, zone, sizeof(zone)) == -1 ||
	    strcmp(zone, zone_name()) != 0) {
		snprintf(st->rep_off, sizeof(st->rep_off),
		    "No reports: the daily summaries are cut at %s midnights, "
		    "not %s.",
		    *zone ? zone : "unreadable", zone_name());
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/report", st->outdir);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "%s: %s", dir, strerror(errno));
	if (list_reports(st, first, newest) == -1)
		return -1;
	for (i = 0; i < st->nrep; i++) {
		r = &st->rep[i];
		r->closed = r->end <= newest;
		r->cut = report_cut(st->datadir, r, newest);
		r->span.kind = SPAN_YEAR;
		r->span.name = r->name;
		r->span.unit = 3600;
		r->span.start = r->start;
		r->span.end = r->closed ? r->end : newest;
		prev = period_previous(&r->p);
		memset(&r->pspan, 0, sizeof(r->pspan));
		period_bounds(&prev, &r->pspan.start, &r->pspan.end);
		report_sig(st, r, sig, sizeof(sig));
		if ((r->keep = report_kept(st, r, sig)))
			continue;
		/* A period begun since the last midnight ranks nothing yet. */
		if ((r->cut > r->start &&
			site_window(st, r->start, r->cut, &r->win) == -1) ||
		    site_window(st, r->pspan.start, r->pspan.end, &r->pwin) ==
			-1 ||
		    plan_report(st, r) == -1)
			return -1;
	}
	return 0;
}

/* Window caches this run read, so that pruning keeps them. */
int
report_window_used(const struct site *st, const char *cache_name)
{
	char name[64];
	size_t i;

	for (i = 0; i < st->nrep; i++) {
		if (st->rep[i].keep)
			continue;
		wincache_name(st->rep[i].start, st->rep[i].cut, name,
		    sizeof(name));
		if (strcmp(name, cache_name) == 0)
			return 1;
		wincache_name(st->rep[i].pspan.start, st->rep[i].pspan.end,
		    name, sizeof(name));
		if (strcmp(name, cache_name) == 0)
			return 1;
	}
	return 0;
}

void
reports_free(struct site *st)
{
	size_t i;

	for (i = 0; i < st->nrep; i++) {
		window_free(&st->rep[i].win);
		window_free(&st->rep[i].pwin);
	}
	free(st->rep);
	st->rep = NULL;
	st->nrep = 0;
}

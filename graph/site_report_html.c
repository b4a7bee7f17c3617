/*
 * The report pages, modelled on the quarterly report: per period its top
 * graphs, its top SITE_TOP with each key's rank in the previous period,
 * the keys that rose most against it, the watched keys, the notable
 * events; report/<name>.json and .csv export the tables with the period,
 * zone and unit; report/index.html lists every period.  Averages are in
 * packets per sensor per hour everywhere here, as on the graphs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyidx.h"
#include "keyname.h"
#include "site_int.h"
#include "textout.h"
#include "xmalloc.h"
#include "zone.h"

#define RISERS 10
#define UNIT 3600 /* averages per hour */
#define UNIT_NAME "packets per sensor per hour"

/* A key that rose against the previous period. */
struct riser {
	uint32_t idx;
	double before, now; /* per interval */
};

/* A period's risers, found once for its page and its JSON. */
struct rise {
	struct riser v[RISERS];
	size_t n;
};

static double
per_hour(const struct site *st, double mean)
{
	return mean * UNIT / st->step;
}

static void
period_dates(const struct report *r, char *buf, size_t len)
{
	struct civil a = r->p.first, b = r->p.last;

	snprintf(buf, len, "%04d-%02d-%02d \xe2\x80\x93 %04d-%02d-%02d", a.y,
	    a.m, a.d, b.y, b.m, b.d);
}

static int
riser_cmp(const void *a, const void *b)
{
	const struct riser *x = a, *y = b;
	double dx = x->now - x->before, dy = y->now - y->before;

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * The keys whose average gained most against the previous period, gains
 * only, best first; none when that period has no data to compare with.
 */
static size_t
risers(const struct report *r, struct riser *out)
{
	struct riser *v;
	double *before;
	size_t i, n = 0;

	if (r->pwin.nintervals == 0 || r->win.n == 0)
		return 0;
	before = xcalloc(KEYIDX_COUNT, sizeof(*before));
	for (i = 0; i < r->pwin.n; i++)
		before[r->pwin.idx[i]] = r->pwin.mean[i];
	v = xcalloc(r->win.n, sizeof(*v));
	for (i = 0; i < r->win.n; i++)
		if (r->win.mean[i] > before[r->win.idx[i]]) {
			v[n].idx = r->win.idx[i];
			v[n].before = before[r->win.idx[i]];
			v[n++].now = r->win.mean[i];
		}
	free(before);
	if (n > 0)
		qsort(v, n, sizeof(*v), riser_cmp);
	if (n > RISERS)
		n = RISERS;
	memcpy(out, v, n * sizeof(*v));
	free(v);
	return n;
}

/*
 * Only a watched key is sure to keep its page as long as a kept report
 * links it (the watch list is in the report's signature); the others'
 * pages come and go with the windows' top 20s.
 */
static void
key_link(FILE *f, const struct site *st, uint32_t idx)
{
	char label[32], slug[32];
	size_t i;

	key_label(idx, label, sizeof(label));
	for (i = 0; i < st->opts->nwatch && st->opts->watch[i] != idx; i++)
		;
	if (i == st->opts->nwatch) {
		fputs(label, f);
		return;
	}
	key_slug(idx, slug, sizeof(slug));
	fprintf(f, "<a href=\"../key/%s.html\">%s</a>", slug, label);
}

/* The key's colour on this page's top graphs, if one draws it. */
static int
report_swatch(const struct report *r, uint32_t idx, unsigned *slot)
{
	uint32_t keys[GRAPH_KEYS];
	size_t g, i, n;

	for (g = 0; g < NWINDOW_GRAPHS; g++) {
		n = pick_keys(&r->win, window_graphs[g].port,
		    window_graphs[g].first, keys);
		for (i = 0; i < n; i++)
			if (keys[i] == idx) {
				*slot = report_slot(g, i);
				return 1;
			}
	}
	return 0;
}

static void
top_table(FILE *f, const struct site *st, const struct report *r)
{
	const struct window *w = &r->win;
	size_t i, n = top_n(w);
	int d = avg_decimals(n ? per_hour(st, w->mean[0]) : 0);
	struct change c;
	unsigned slot;
	char avg[32];

	fprintf(f,
	    "<section id=\"top\">\n<h2>Top %d</h2>\n<div class=\"scroll\">\n"
	    "<table>\n<thead><tr><th scope=\"col\" class=\"num\">#</th>"
	    "<th scope=\"col\">Key</th><th scope=\"col\">Service</th>"
	    "<th scope=\"col\" class=\"num\">Avg/hour</th>"
	    "<th scope=\"col\" class=\"num\">Share</th>"
	    "<th scope=\"col\" class=\"num\">Before</th>"
	    "<th scope=\"col\">Change</th></tr></thead>\n<tbody>\n",
	    SITE_TOP);
	for (i = 0; i < n; i++) {
		fprintf(f, "<tr><td class=\"num\">%zu</td><td>", i + 1);
		if (report_swatch(r, w->idx[i], &slot))
			fprintf(f,
			    "<span class=\"sw\" style=\"background:%s\" "
			    "title=\"its colour in the graphs\"></span>",
			    key_palette(slot));
		key_link(f, st, w->idx[i]);
		fputs("</td><td class=\"svc\">", f);
		html_text(f, key_service(w->idx[i]));
		fmt_avg(per_hour(st, w->mean[i]), d, avg, sizeof(avg));
		fprintf(f,
		    "</td><td class=\"num\">%s</td><td class=\"num\">"
		    "%.2f%%</td>",
		    avg, 100 * window_share(w, i));
		rank_change(&r->pwin, w->idx[i], i + 1, &c);
		if (c.move == MOVE_RANK)
			fprintf(f, "<td class=\"num\">%zu</td>", c.prev_rank);
		else
			fputs("<td class=\"num\">\xe2\x80\x93</td>", f);
		change_cell(f, &c);
		fputs("</tr>\n", f);
	}
	if (n == 0)
		fputs("<tr><td colspan=\"7\">No whole day of data in this "
		      "period yet.</td></tr>\n",
		    f);
	fputs("</tbody>\n</table>\n</div>\n</section>\n", f);
}

static void
risers_table(FILE *f, const struct site *st, const struct report *r,
    const struct rise *rs, const char *prev)
{
	const struct riser *v = rs->v;
	size_t i, n = rs->n;
	char a[32], b[32], g[32];
	double max = 0;
	int d;

	fprintf(f,
	    "<section id=\"risers\">\n<h2>Risers <small>against %s</small>"
	    "</h2>\n",
	    prev);
	if (n == 0) {
		fprintf(f, "<p class=\"meta\">%s.</p>\n</section>\n",
		    r->pwin.nintervals == 0 ? "No data in the previous period "
					      "to compare with"
					    : "No key rose");
		return;
	}
	for (i = 0; i < n; i++)
		if (per_hour(st, v[i].now) > max)
			max = per_hour(st, v[i].now);
	d = avg_decimals(max);
	fputs("<div class=\"scroll\">\n<table>\n<thead><tr>"
	      "<th scope=\"col\">Key</th><th scope=\"col\">Service</th>"
	      "<th scope=\"col\" class=\"num\">Avg/hour before</th>"
	      "<th scope=\"col\" class=\"num\">Avg/hour now</th>"
	      "<th scope=\"col\" class=\"num\">Gain/hour</th>"
	      "<th scope=\"col\" class=\"num\">Rank before</th>"
	      "<th scope=\"col\" class=\"num\">Rank now</th></tr></thead>\n"
	      "<tbody>\n",
	    f);
	for (i = 0; i < n; i++) {
		size_t rb = window_rank(&r->pwin, v[i].idx);

		fmt_avg(per_hour(st, v[i].before), d, b, sizeof(b));
		fmt_avg(per_hour(st, v[i].now), d, a, sizeof(a));
		fmt_avg(per_hour(st, v[i].now - v[i].before), d, g, sizeof(g));
		fputs("<tr><td>", f);
		key_link(f, st, v[i].idx);
		fputs("</td><td class=\"svc\">", f);
		html_text(f, key_service(v[i].idx));
		fprintf(f,
		    "</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
		    "<td class=\"num\">+%s</td>",
		    b, a, g);
		if (rb > 0)
			fprintf(f, "<td class=\"num\">%zu</td>", rb);
		else
			fputs("<td class=\"num\">\xe2\x80\x93</td>", f);
		fprintf(f, "<td class=\"num\">%zu</td></tr>\n",
		    window_rank(&r->win, v[i].idx));
	}
	fputs("</tbody>\n</table>\n</div>\n</section>\n", f);
}

static void
watched(FILE *f, const struct site *st, const struct report *r)
{
	const uint32_t *wk = st->opts->watch;
	char name[REPORT_NAME_MAX], slug[32], label[32], alt[160], avg[32];
	double max = 0;
	size_t i, rk;
	int d;

	if (st->opts->nwatch == 0)
		return;
	for (i = 0; i < st->opts->nwatch; i++)
		if (per_hour(st, window_mean(&r->win, wk[i])) > max)
			max = per_hour(st, window_mean(&r->win, wk[i]));
	d = avg_decimals(max);
	fputs("<section id=\"watched\">\n<h2>Watched keys</h2>\n"
	      "<div class=\"scroll\">\n<table class=\"narrow\">\n<thead><tr>"
	      "<th scope=\"col\">Key</th><th scope=\"col\" class=\"num\">Rank"
	      "</th><th scope=\"col\" class=\"num\">Avg/hour</th>"
	      "<th scope=\"col\" class=\"num\">Rank before</th></tr></thead>\n"
	      "<tbody>\n",
	    f);
	for (i = 0; i < st->opts->nwatch; i++) {
		rk = window_rank(&r->win, wk[i]);
		fmt_avg(rk ? per_hour(st, r->win.mean[rk - 1]) : 0, d, avg,
		    sizeof(avg));
		fputs("<tr><td>", f);
		key_link(f, st, wk[i]);
		if (rk > 0)
			fprintf(f, "</td><td class=\"num\">%zu</td>", rk);
		else
			fputs("</td><td class=\"num\">\xe2\x80\x93</td>", f);
		fprintf(f, "<td class=\"num\">%s</td>", avg);
		rk = window_rank(&r->pwin, wk[i]);
		if (rk > 0)
			fprintf(f, "<td class=\"num\">%zu</td></tr>\n", rk);
		else
			fputs("<td class=\"num\">\xe2\x80\x93</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n</div>\n<div class=\"graphs\">\n", f);
	for (i = 0; i < st->opts->nwatch; i++) {
		key_slug(wk[i], slug, sizeof(slug));
		key_label(wk[i], label, sizeof(label));
		snprintf(name, sizeof(name), "report/%s-%s.png", r->name, slug);
		snprintf(alt, sizeof(alt), "Graph of %s over %s", label,
		    r->name);
		html_img(f, st, name, "../", alt);
	}
	fputs("</div>\n</section>\n", f);
}

static void
report_graphs(FILE *f, const struct site *st, const struct report *r)
{
	uint32_t idx[GRAPH_KEYS];
	char name[REPORT_NAME_MAX], alt[512], label[32];
	size_t g, i, n, o;

	fputs("<section id=\"graphs\">\n<h2>Top ports and ICMP types</h2>\n"
	      "<div class=\"graphs\">\n",
	    f);
	for (g = 0; g < NWINDOW_GRAPHS; g++) {
		n = pick_keys(&r->win, window_graphs[g].port,
		    window_graphs[g].first, idx);
		o = (size_t)snprintf(alt, sizeof(alt), "Graph of %s over %s",
		    window_graphs[g].title, r->name);
		for (i = 0; i < n && o < sizeof(alt); i++) {
			key_label(idx[i], label, sizeof(label));
			o += (size_t)snprintf(alt + o, sizeof(alt) - o, "%s%s",
			    i ? ", " : ": ", label);
		}
		snprintf(name, sizeof(name), "report/%s-%s.png", r->name,
		    window_graphs[g].suffix);
		html_img(f, st, name, "../", alt);
	}
	fputs("</div>\n</section>\n", f);
}

static void
report_meta(FILE *f, const struct site *st, const struct report *r,
    const char *prev)
{
	char a[32], b[32];

	zone_minute(r->start, a, sizeof(a));
	zone_minute(r->cut, b, sizeof(b));
	fprintf(f,
	    "<p class=\"meta\">%s. Ranked over %s \xe2\x80\x93 %s %s: "
	    "%" PRIu64 " intervals reported, %.2f sensors reporting on "
	    "average. Compared with %s.</p>\n",
	    r->closed ? "Closed period" : "Period under way", a, b, zone_name(),
	    r->win.nintervals, r->win.sensors, prev);
	(void)st;
}

static int
write_page(struct site *st, const struct report *r, const struct rise *rs)
{
	struct period pp = period_previous(&r->p);
	char name[REPORT_NAME_MAX], title[128], dates[64],
	    prev[PERIOD_NAME_MAX];
	struct out o;

	period_name(&pp, prev, sizeof(prev));
	period_dates(r, dates, sizeof(dates));
	snprintf(name, sizeof(name), "report/%s.html", r->name);
	if (out_open(st, &o, name) == -1)
		return -1;
	snprintf(title, sizeof(title), "teiten report %s%s", r->name,
	    r->closed ? "" : " (so far)");
	page_head(o.f, title, "../");
	fprintf(o.f,
	    "<header>\n<nav><a href=\"../index.html\">\xe2\x86\x90 All "
	    "ports</a> <a href=\"index.html\">All reports</a></nav>\n"
	    "<h1>Report %s <small>%s %s</small></h1>\n",
	    r->name, dates, zone_name());
	/* A closed period's data are complete: its page is kept as is. */
	if (r->closed) {
		fputs("<p class=\"meta\">Generated at ", o.f);
		html_time(o.f, st->now);
		fputs(".</p>\n", o.f);
	} else
		data_time(o.f, st);
	report_meta(o.f, st, r, prev);
	fputs("</header>\n<main>\n", o.f);
	report_graphs(o.f, st, r);
	top_table(o.f, st, r);
	risers_table(o.f, st, r, rs, prev);
	watched(o.f, st, r);
	if (event_list(o.f, st, r->start, r->end, NULL, 0,
		"<section id=\"events\">\n<h2>Notable events</h2>\n") > 0)
		fputs("</section>\n", o.f);
	fprintf(o.f,
	    "<p class=\"note\">Download: <a href=\"%s.json\">JSON</a> "
	    "\xc2\xb7 <a href=\"%s.csv\">CSV</a></p>\n</main>\n"
	    "<footer>\n<p><b>Avg/hour</b>: packets per sensor per hour, the "
	    "mean over the period's reported intervals of %u s. "
	    "<b>Share</b>: of all packets with a port or ICMP type. "
	    "<b>Before</b>: rank in %s; <b>Change</b>: places gained "
	    "(\xe2\x86\x91) or lost (\xe2\x86\x93), <i>new</i> not in its "
	    "top %d. <b>Risers</b>: the keys whose average gained most. "
	    "Dates are in %s.</p>\n</footer>\n</body>\n</html>\n",
	    r->name, r->name, (unsigned)st->step, prev, SITE_TOP, zone_name());
	return out_close(st, &o);
}

/* One JSON object per row: its numbers, -1 for one JSON cannot hold. */
static int
json_rows(FILE *f, const struct site *st, const struct report *r,
    const struct rise *rs)
{
	const struct window *w = &r->win;
	const struct riser *v = rs->v;
	size_t i, n = top_n(w), nr = rs->n;
	char label[32], ch[32];
	struct change c;

	fputs("  \"rows\": [", f);
	for (i = 0; i < n; i++) {
		key_label(w->idx[i], label, sizeof(label));
		rank_change(&r->pwin, w->idx[i], i + 1, &c);
		change_text(&c, ch, sizeof(ch));
		fprintf(f, "%s\n    {\"rank\": %zu, \"key\": \"%s\", ",
		    i ? "," : "", i + 1, label);
		fputs("\"service\": ", f);
		json_text(f, key_service(w->idx[i]));
		fputs(", \"avg\": ", f);
		if (out_number(f, per_hour(st, w->mean[i])) == -1)
			return -1;
		fputs(", \"share\": ", f);
		if (out_number(f, window_share(w, i)) == -1)
			return -1;
		if (c.move == MOVE_RANK)
			fprintf(f, ", \"prev_rank\": %zu, \"change\": \"%s\"}",
			    c.prev_rank, ch);
		else if (c.move == MOVE_NEW)
			fputs(", \"prev_rank\": null, \"change\": \"new\"}", f);
		else
			fputs(", \"prev_rank\": null, \"change\": null}", f);
	}
	fputs(n ? "\n  ],\n  \"risers\": [" : "],\n  \"risers\": [", f);
	for (i = 0; i < nr; i++) {
		key_label(v[i].idx, label, sizeof(label));
		fprintf(f,
		    "%s\n    {\"key\": \"%s\", \"avg_before\": ", i ? "," : "",
		    label);
		if (out_number(f, per_hour(st, v[i].before)) == -1)
			return -1;
		fputs(", \"avg\": ", f);
		if (out_number(f, per_hour(st, v[i].now)) == -1)
			return -1;
		fputs("}", f);
	}
	fputs(nr ? "\n  ],\n  \"watched\": [" : "],\n  \"watched\": [", f);
	for (i = 0; i < st->opts->nwatch; i++) {
		size_t rk = window_rank(w, st->opts->watch[i]);

		key_label(st->opts->watch[i], label, sizeof(label));
		fprintf(f, "%s\n    {\"key\": \"%s\", \"rank\": ", i ? "," : "",
		    label);
		if (rk > 0)
			fprintf(f, "%zu", rk);
		else
			fputs("null", f);
		fputs(", \"avg\": ", f);
		if (out_number(f, rk ? per_hour(st, w->mean[rk - 1]) : 0) == -1)
			return -1;
		fputs("}", f);
	}
	fputs(st->opts->nwatch ? "\n  ]\n}\n" : "]\n}\n", f);
	return 0;
}

static int
write_json(struct site *st, const struct report *r, const struct rise *rs)
{
	struct period pp = period_previous(&r->p);
	char name[REPORT_NAME_MAX], a[40], b[40], c[40], prev[PERIOD_NAME_MAX];
	struct out o;

	period_name(&pp, prev, sizeof(prev));
	snprintf(name, sizeof(name), "report/%s.json", r->name);
	if (out_open(st, &o, name) == -1)
		return -1;
	zone_iso(r->start, a, sizeof(a));
	zone_iso(r->end, b, sizeof(b));
	zone_iso(r->cut, c, sizeof(c));
	fprintf(o.f,
	    "{\n  \"period\": \"%s\", \"start\": \"%s\", \"end\": \"%s\",\n"
	    "  \"ranked_until\": \"%s\", \"closed\": %s, \"zone\": ",
	    r->name, a, b, c, r->closed ? "true" : "false");
	json_text(o.f, zone_name());
	fprintf(o.f,
	    ",\n  \"step\": %u, \"unit\": \"" UNIT_NAME "\",\n"
	    "  \"intervals\": %" PRIu64 ", \"sensors\": ",
	    (unsigned)st->step, r->win.nintervals);
	if (out_number(o.f, r->win.sensors) == 0)
		fprintf(o.f, ", \"previous\": \"%s\",\n", prev);
	if (ferror(o.f) || json_rows(o.f, st, r, rs) == -1) {
		fclose(o.f);
		unlink(o.tmp);
		return site_fail(st,
		    "%s: a number that is not finite (a bug: "
		    "please report it)",
		    o.path);
	}
	return out_close(st, &o);
}

/* The top table, each row naming its period, zone and unit. */
static int
write_csv(struct site *st, const struct report *r)
{
	const struct window *w = &r->win;
	char name[REPORT_NAME_MAX], label[32], ch[32], from[40], to[40];
	size_t i, n = top_n(w);
	struct change c;
	struct out o;

	snprintf(name, sizeof(name), "report/%s.csv", r->name);
	zone_iso(r->start, from, sizeof(from));
	zone_iso(r->cut, to, sizeof(to));
	if (out_open(st, &o, name) == -1)
		return -1;
	/* The columns of the site's top-<window>.csv, period for window. */
	fputs("rank,key,service,avg,share,prev_rank,change,unit,period,start,"
	      "end,zone,step\r\n",
	    o.f);
	for (i = 0; i < n; i++) {
		key_label(w->idx[i], label, sizeof(label));
		rank_change(&r->pwin, w->idx[i], i + 1, &c);
		change_text(&c, ch, sizeof(ch));
		fprintf(o.f, "%zu,%s,", i + 1, label);
		csv_text(o.f, key_service(w->idx[i]));
		fputc(',', o.f);
		if (out_number(o.f, per_hour(st, w->mean[i])) == -1 ||
		    fputc(',', o.f) == EOF ||
		    out_number(o.f, window_share(w, i)) == -1) {
			fclose(o.f);
			unlink(o.tmp);
			return site_fail(st,
			    "%s: %s has no finite mean (a bug: "
			    "please report it)",
			    o.path, label);
		}
		fputc(',', o.f);
		if (c.move == MOVE_RANK)
			fprintf(o.f, "%zu", c.prev_rank);
		fprintf(o.f, ",%s," UNIT_NAME ",%s,%s,%s,", ch, r->name, from,
		    to);
		csv_text(o.f, zone_name());
		fprintf(o.f, ",%u\r\n", (unsigned)st->step);
	}
	return out_close(st, &o);
}

static void
index_list(FILE *f, const struct site *st, enum period_kind kind,
    const char *heading)
{
	const struct report *r;
	char dates[64];
	size_t i, n = 0;

	for (i = 0; i < st->nrep; i++) {
		r = &st->rep[i];
		if (r->p.kind != kind)
			continue;
		if (n++ == 0)
			fprintf(f,
			    "<section>\n<h2>%s</h2>\n<ul class=\"periods\">\n",
			    heading);
		period_dates(r, dates, sizeof(dates));
		fprintf(f,
		    "<li><a href=\"%s.html\">%s</a> <small>%s%s</small>"
		    "</li>\n",
		    r->name, r->name, dates, r->closed ? "" : ", so far");
	}
	if (n > 0)
		fputs("</ul>\n</section>\n", f);
}

static int
write_report_index(struct site *st)
{
	int fy = st->opts->fy_month ? st->opts->fy_month : PERIOD_FY_MONTH;
	static const char *const months[] = {"January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December"};
	char heading[64];
	struct out o;

	if (out_open(st, &o, "report/index.html") == -1)
		return -1;
	page_head(o.f, "teiten reports", "../");
	fputs("<header>\n<nav><a href=\"../index.html\">\xe2\x86\x90 All "
	      "ports</a></nav>\n<h1>Reports</h1>\n",
	    o.f);
	data_time(o.f, st);
	fputs("</header>\n<main>\n", o.f);
	if (st->nrep == 0)
		fputs("<p>No data yet.</p>\n", o.f);
	snprintf(heading, sizeof(heading),
	    "Fiscal years <small>from %s</small>", months[fy - 1]);
	index_list(o.f, st, PERIOD_FY, heading);
	index_list(o.f, st, PERIOD_QUARTER, "Quarters");
	index_list(o.f, st, PERIOD_MONTH, "Months");
	fprintf(o.f,
	    "</main>\n<footer>\n<p>Periods are cut at midnight in %s.</p>\n"
	    "</footer>\n</body>\n</html>\n",
	    zone_name());
	return out_close(st, &o);
}

int
write_reports(struct site *st)
{
	const struct report *r;
	struct rise rs;
	size_t i;

	for (i = 0; i < st->nrep; i++) {
		r = &st->rep[i];
		if (r->keep)
			continue;
		rs.n = risers(r, rs.v);
		if (write_json(st, r, &rs) == -1 || write_csv(st, r) == -1 ||
		    write_page(st, r, &rs) == -1)
			return -1;
	}
	return write_report_index(st);
}

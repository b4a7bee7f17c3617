/*
 * The pages: style.css, index.html (one section per window, its graphs
 * beside its table) and key/<proto>-<key>.html (one key over every
 * window).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "keyname.h"
#include "site_int.h"
#include "style_css.h"
#include "textout.h"
#include "zone.h"

int
write_css(struct site *st)
{
	struct out o;

	if (out_open(st, &o, "style.css") == -1)
		return -1;
	/* Every byte of style.css, as the build embedded it. */
	fwrite(style_css, 1, sizeof(style_css) - 1, o.f);
	return out_close(st, &o);
}

void
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

/* "<time datetime=ISO>2023-11-14 09:00 Asia/Tokyo</time>" */
void
html_time(FILE *f, int64_t t)
{
	char when[32], iso[40];

	zone_minute(t, when, sizeof(when));
	zone_iso(t, iso, sizeof(iso));
	fprintf(f, "<time datetime=\"%s\">%s %s</time>", iso, when,
	    zone_name());
}

/*
 * Data older than this, against the time the page is generated, get a
 * warning: the aggregator closes an interval up to its grace after the
 * interval's end, and the site is typically made from cron each hour, so
 * two steps and an hour cover a healthy installation's lag.
 */
static int64_t
stale_after(const struct site *st)
{
	return 2 * (int64_t)st->step + 3600;
}

/* "Data are 3 days old" (or hours): a page left unrefreshed says so. */
static void
data_age(FILE *f, const struct site *st)
{
	int64_t newest = st->last_final + st->step, age = st->now - newest;

	if (age <= stale_after(st))
		return;
	if (age >= 86400)
		fprintf(f,
		    "<p class=\"warn\" role=\"status\">Data are %" PRId64
		    " day%s old: ",
		    age / 86400, age / 86400 == 1 ? "" : "s");
	else
		fprintf(f,
		    "<p class=\"warn\" role=\"status\">Data are %" PRId64
		    " hour%s old: ",
		    age / 3600, age / 3600 == 1 ? "" : "s");
	fputs("the newest final interval ended at ", f);
	html_time(f, newest);
	fputs(".</p>\n", f);
}

/* When the page was made, and the end of the newest final interval. */
void
data_time(FILE *f, const struct site *st)
{
	fputs("<p class=\"meta\">Generated at ", f);
	html_time(f, st->now);
	if (st->last_final == INT64_MIN) {
		fputs(". No final interval yet.</p>\n", f);
		return;
	}
	fputs(". Data up to ", f);
	html_time(f, st->last_final + st->step);
	fprintf(f, " (end of the newest final interval of %u s).</p>\n",
	    (unsigned)st->step);
	data_age(f, st);
}

void
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

/*
 * The decimals of a column of averages: two, or more when its largest
 * value is below 1, so that the largest shows three significant digits;
 * every row of the column then has as many, and the points line up.
 */
int
avg_decimals(double max)
{
	double scaled = max * 100;
	int d = 2;

	while (d < 8 && scaled > 0 && scaled < 100) {
		scaled *= 10;
		d++;
	}
	return d;
}

/* v with d decimals and commas between thousands: "12,345.68". */
void
fmt_avg(double v, int d, char *buf, size_t len)
{
	char raw[64];
	size_t i, n, o = 0;

	snprintf(raw, sizeof(raw), "%.*f", d, v);
	n = strcspn(raw, ".");
	for (i = 0; raw[i] != '\0' && o + 2 < len; i++) {
		if (i > 0 && i < n && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
}

static void
window_title(const struct span *sp, char *buf, size_t len)
{
	char from[32], to[32];

	zone_minute(sp->start, from, sizeof(from));
	zone_minute(sp->end, to, sizeof(to));
	snprintf(buf, len, "%s \xe2\x80\x93 %s %s", from, to, zone_name());
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

void
change_cell(FILE *f, const struct change *c)
{
	if (c->move == MOVE_NONE)
		fputs("<td title=\"no data in the previous window\">"
		      "\xe2\x80\x93</td>",
		    f);
	else if (c->move == MOVE_NEW)
		fprintf(f,
		    "<td class=\"new\" title=\"not in the previous window's "
		    "top %d\">new</td>",
		    SITE_TOP);
	else if (c->delta > 0)
		fprintf(f,
		    "<td class=\"up\" title=\"\xe2\x86\x91 rose %ld "
		    "place%s, was #%zu\">\xe2\x86\x91%ld</td>",
		    c->delta, c->delta == 1 ? "" : "s", c->prev_rank, c->delta);
	else if (c->delta < 0)
		fprintf(f,
		    "<td class=\"down\" title=\"\xe2\x86\x93 fell %ld "
		    "place%s, was #%zu\">\xe2\x86\x93%ld</td>",
		    -c->delta, c->delta == -1 ? "" : "s", c->prev_rank,
		    -c->delta);
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
table_row(FILE *f, const struct site *st, enum span_kind k, size_t i, int drawn,
    int dec)
{
	const struct window *w = &st->win[k];
	char label[32], slug[32], avg[32], src[24], dst[24];
	struct change c;

	key_label(w->idx[i], label, sizeof(label));
	key_slug(w->idx[i], slug, sizeof(slug));
	fmt_avg(per_unit(st, st->span[k].unit, w->mean[i]), dec, avg,
	    sizeof(avg));
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
	    "</td><td class=\"num\">%s</td><td class=\"num\">%.2f%%</td>"
	    "<td class=\"num\">%s</td><td class=\"num\">%s</td>",
	    avg, 100 * window_share(w, i),
	    count_text(w->sources, i, src, sizeof(src)),
	    count_text(w->targets, i, dst, sizeof(dst)));
	rank_change(&st->pwin[k], w->idx[i], i + 1, &c);
	change_cell(f, &c);
	fputs("</tr>\n", f);
}

static void
index_table(FILE *f, const struct site *st, enum span_kind k)
{
	const char *name = span_name(k);
	size_t i, n = top_n(&st->win[k]), ports = 0, icmps = 0;
	/* Ranked best first: the first mean is the column's largest. */
	int dec = avg_decimals(
	    n ? per_unit(st, st->span[k].unit, st->win[k].mean[0]) : 0);

	fprintf(f,
	    "<div class=\"top\">\n<div class=\"scroll\">\n<table>\n"
	    "<caption>Top %d keys, last %s</caption>\n<thead><tr>"
	    "<th scope=\"col\" class=\"num\">#</th><th scope=\"col\">Key</th>"
	    "<th scope=\"col\">Service</th>"
	    "<th scope=\"col\" class=\"num\">Avg/%s</th>"
	    "<th scope=\"col\" class=\"num\">Share</th>"
	    "<th scope=\"col\" class=\"num\" title=\"distinct source "
	    "addresses over the window, all sensors\">Sources</th>"
	    "<th scope=\"col\" class=\"num\" title=\"distinct target "
	    "addresses over the window, all sensors\">Targets</th>"
	    "<th scope=\"col\">Change</th></tr></thead>\n<tbody>\n",
	    SITE_TOP, name, unit_short(st->span[k].unit));
	for (i = 0; i < n; i++) {
		/* drawn: among the top 10 ports or top 5 ICMP types */
		int port = is_port(st->win[k].idx[i]);
		size_t *seen = port ? &ports : &icmps;

		table_row(f, st, k, i, (*seen)++ < (port ? 2 : 1) * GRAPH_KEYS,
		    dec);
	}
	if (n == 0)
		fputs("<tr><td colspan=\"8\">No data in this "
		      "window.</td></tr>\n",
		    f);
	fprintf(f,
	    "</tbody>\n</table>\n</div>\n<p class=\"note\">Download: "
	    "<a href=\"top-%s.json\">JSON</a> \xc2\xb7 "
	    "<a href=\"top-%s.csv\">CSV</a></p>\n</div>\n",
	    name, name);
}

/*
 * The span the table covers and, when they run on past it, the graphs';
 * then, for a window with fewer reported intervals than it spans (a new
 * installation, sensors down), why its graphs look empty.
 */
static void
section_span(FILE *f, const struct site *st, enum span_kind k)
{
	const struct span *sp = &st->span[k];
	uint64_t spans = (uint64_t)(sp->end - sp->start) / st->step;
	uint64_t n = st->win[k].nintervals;
	struct span g;

	graph_span(st, k, &g);
	fputs(" The table covers ", f);
	html_time(f, sp->start);
	fputs(" to ", f);
	html_time(f, sp->end);
	if (g.end != sp->end) {
		fputs(" (whole hours, as the summaries are kept); the graphs "
		      "run on to the newest final interval's end, ",
		    f);
		html_time(f, g.end);
	}
	fputs(".</p>\n", f);
	if (n < spans)
		fprintf(f,
		    "<p class=\"note\">Only %" PRIu64 " of this window's "
		    "%" PRIu64 " intervals of %u s were reported (a new "
		    "installation, or sensors that did not report): the "
		    "graphs are empty where none was, and the averages are "
		    "over those %" PRIu64 ".</p>\n",
		    n, spans, (unsigned)st->step, n);
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
	    "reporting on average.",
	    w->nintervals, w->sensors);
	section_span(f, st, k);
	fputs("<div class=\"cols\">\n", f);
	index_graphs(f, st, k);
	index_table(f, st, k);
	fputs("</div>\n</section>\n", f);
}

/*
 * What the columns mean, above the first window, where a reader meets
 * them; the arrows carry the meaning, their colours only repeat it.  A
 * key page gives every average per hour and its rank before.
 */
static void
page_legend(FILE *f, const struct site *st, int key_page)
{
	fprintf(f,
	    "<div class=\"legend\">\n<p><b>Avg</b>: packets per sensor per "
	    "%s: the mean over the window's reported intervals of %u s, "
	    "each the packets of the sensors that reported it divided by "
	    "their number. <b>Share</b>: of all packets with a port or "
	    "ICMP type in the window. ",
	    key_page ? "hour in every window"
		     : "minute in the day window and per hour in the longer "
		       "ones, the unit of their graphs",
	    (unsigned)st->step);
	if (key_page)
		fputs("<b>Rank before</b>: in the previous window of the same "
		      "length. ",
		    f);
	else
		fprintf(f,
		    "<b>Change</b>: rank against the previous window of "
		    "the same length: <span class=\"up\">\xe2\x86\x91 "
		    "rose</span> or <span class=\"down\">\xe2\x86\x93 "
		    "fell</span> by that many places (red: more attention "
		    "than before, green: less), = same rank, <span "
		    "class=\"new\">new</span>: not in its top %d, "
		    "\xe2\x80\x93: no data then. ",
		    SITE_TOP);
	fprintf(f,
	    "Times are in %s. The JSON and CSV exports give the same "
	    "averages, in the same units, with their window, span, zone "
	    "and step.</p>\n</div>\n",
	    zone_name());
}

static void
index_footer(FILE *f, const struct site *st)
{
	(void)st;
	fprintf(f,
	    "<footer>\n<p>Made by teiten-graph site. Dates and graphs are "
	    "in %s; the columns are explained at the top of the page.</p>\n"
	    "</footer>\n",
	    zone_name());
}

/* Links to the watched keys' pages, which they always have. */
static void
index_watched(FILE *f, const struct site *st)
{
	char slug[32], label[32];
	size_t i;

	if (st->opts->nwatch == 0)
		return;
	fputs("<p class=\"meta\">Watched:", f);
	for (i = 0; i < st->opts->nwatch; i++) {
		key_slug(st->opts->watch[i], slug, sizeof(slug));
		key_label(st->opts->watch[i], label, sizeof(label));
		fprintf(f, " <a href=\"key/%s.html\">%s</a>", slug, label);
	}
	fputs("</p>\n", f);
}

int
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
	if (st->nrep > 0)
		fputs("<a href=\"report/index.html\">reports</a>", o.f);
	if (st->nsensors > 0)
		fputs("<a href=\"sensor/index.html\">sensors</a>", o.f);
	if (st->opts->ngroups > 0)
		fputs("<a href=\"groups.html\">groups</a>", o.f);
	fputs("</nav>\n", o.f);
	index_watched(o.f, st);
	if (*st->rep_off != '\0')
		fprintf(o.f, "<p class=\"meta\">%s</p>\n", st->rep_off);
	fputs("</header>\n", o.f);
	page_legend(o.f, st, 0);
	fputs("<main>\n", o.f);
	for (k = 0; k < SPAN_COUNT; k++)
		index_section(o.f, st, k);
	fputs("</main>\n", o.f);
	index_footer(o.f, st);
	fputs("</body>\n</html>\n", o.f);
	return out_close(st, &o);
}

static void
key_row(FILE *f, const struct site *st, enum span_kind k, uint32_t idx, int dec)
{
	const struct window *w = &st->win[k];
	size_t r = window_rank(w, idx);
	char avg[32], src[24], dst[24];

	fmt_avg(r ? per_unit(st, 3600, w->mean[r - 1]) : 0, dec, avg,
	    sizeof(avg));
	fprintf(f, "<tr><th scope=\"row\"><a href=\"#%s\">%s</a></th>",
	    span_name(k), span_name(k));
	if (r == 0)
		fprintf(f,
		    "<td class=\"num\">\xe2\x80\x93</td><td "
		    "class=\"num\">%s</td><td class=\"num\">0.00%%</td>"
		    "<td class=\"num\">-</td><td class=\"num\">-</td>",
		    avg);
	else
		fprintf(f,
		    "<td class=\"num\">%zu</td><td class=\"num\">%s</td>"
		    "<td class=\"num\">%.2f%%</td><td class=\"num\">%s</td>"
		    "<td class=\"num\">%s</td>",
		    r, avg, 100 * window_share(w, r - 1),
		    count_text(w->sources, r - 1, src, sizeof(src)),
		    count_text(w->targets, r - 1, dst, sizeof(dst)));
	r = window_rank(&st->pwin[k], idx);
	if (r == 0)
		fputs("<td class=\"num\">\xe2\x80\x93</td></tr>\n", f);
	else
		fprintf(f, "<td class=\"num\">%zu</td></tr>\n", r);
}

/*
 * The notable events in [start, end) for the keys idx (n 0: for any key),
 * with their links, after head; nothing when there are none.  How many.
 */
size_t
event_list(FILE *f, const struct site *st, int64_t start, int64_t end,
    const uint32_t *idx, size_t n, const char *head)
{
	const struct events *ev = st->opts->events;
	const struct event *e;
	char when[32], iso[40];
	size_t i, j, shown = 0;

	for (i = 0; ev != NULL && i < ev->n; i++) {
		e = &ev->v[i];
		if (n > 0 ? !event_applies(e, start, end, idx, n)
			  : e->t < start || e->t >= end)
			continue;
		if (shown++ == 0)
			fprintf(f, "%s<ul class=\"events\">\n", head);
		zone_minute(e->t, when, sizeof(when));
		zone_iso(e->t, iso, sizeof(iso));
		fprintf(f, "<li><time datetime=\"%s\">%s</time> ", iso, when);
		if (n == 0 && !e->all) {
			char label[32];

			key_label(e->idx, label, sizeof(label));
			fprintf(f, "<b>%s</b> ", label);
		}
		html_text(f, e->text);
		for (j = 0; j < e->nurl; j++) {
			fputs(" <a href=\"", f);
			html_text(f, e->url[j]);
			fputs("\">", f);
			html_text(f, e->url[j]);
			fputs("</a>", f);
		}
		fputs("</li>\n", f);
	}
	if (shown > 0)
		fputs("</ul>\n", f);
	return shown;
}

/* The notable events of the key's last year. */
static void
key_events(FILE *f, const struct site *st, uint32_t idx)
{
	const struct span *y = &st->span[SPAN_YEAR];

	if (event_list(f, st, y->start, y->end, &idx, 1,
		"<section id=\"events\">\n<h2>Notable events <small>last "
		"year</small></h2>\n") > 0)
		fputs("</section>\n", f);
}

static void
key_body(FILE *f, const struct site *st, uint32_t idx, const char *slug)
{
	char name[NAME_MAX_], range[96], alt[160], label[32];
	double max = 0, v;
	int k, dec;

	key_label(idx, label, sizeof(label));
	for (k = 0; k < SPAN_COUNT; k++)
		if ((v = per_unit(st, 3600, window_mean(&st->win[k], idx))) >
		    max)
			max = v;
	dec = avg_decimals(max);
	fputs("<div class=\"scroll\">\n<table class=\"narrow\">\n<caption>Rank "
	      "among all keys "
	      "and average per window</caption>\n<thead><tr>"
	      "<th scope=\"col\">Window</th><th scope=\"col\" class=\"num\">"
	      "Rank</th><th scope=\"col\" class=\"num\">Avg/hour</th>"
	      "<th scope=\"col\" class=\"num\">Share</th>"
	      "<th scope=\"col\" class=\"num\">Sources</th>"
	      "<th scope=\"col\" class=\"num\">Targets</th>"
	      "<th scope=\"col\" class=\"num\">Rank before</th></tr></thead>\n"
	      "<tbody>\n",
	    f);
	for (k = 0; k < SPAN_COUNT; k++)
		key_row(f, st, k, idx, dec);
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
		snprintf(name, sizeof(name), "key/%s-%s-sources.png", slug,
		    span_name(k));
		snprintf(alt, sizeof(alt),
		    "Distinct sources and targets of %s over the last %s",
		    label, span_name(k));
		html_img(f, st, name, "../", alt);
		fputs("</section>\n", f);
	}
	fputs("</div>\n", f);
	key_events(f, st, idx);
}

int
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
	fputs("</header>\n", o.f);
	page_legend(o.f, st, 1);
	fputs("<main>\n", o.f);
	key_body(o.f, st, idx, slug);
	fputs("</main>\n", o.f);
	index_footer(o.f, st);
	fputs("</body>\n</html>\n", o.f);
	return out_close(st, &o);
}

/*
 * The sensor pages and the groups page: per window, each sensor's own
 * top 10 from the summary's per-sensor sums (sensbucket.h, ranked by
 * sensrank.h) beside the fleet's mean, and its health graph; the groups
 * of teiten.conf ranked the same way, side by side.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "keyname.h"
#include "sensrank.h"
#include "site_int.h"
#include "textout.h"
#include "xmalloc.h"
#include "zone.h"

/* Every sensor that reported in some window, once, by id. */
static void
collect_sensors(struct site *st)
{
	size_t k, i, cap = 0, a, b;
	char(*v)[RECORD_ID_MAX + 1] = NULL;
	int c;

	for (k = 0; k < SPAN_COUNT; k++)
		cap += st->sens[k].n;
	v = xcalloc(cap ? cap : 1, sizeof(*v));
	/* Each window's list is sorted: merge them in turn. */
	st->nsensors = 0;
	for (k = 0; k < SPAN_COUNT; k++) {
		char(*m)[RECORD_ID_MAX + 1] =
		    xcalloc(cap ? cap : 1, sizeof(*m));
		const struct sensbucket *sb = &st->sens[k];
		size_t n = 0;

		for (a = b = 0; a < st->nsensors || b < sb->n;) {
			if (a == st->nsensors)
				c = 1;
			else if (b == sb->n)
				c = -1;
			else
				c = strcmp(v[a], sb->s[b].id);
			if (c <= 0)
				memcpy(m[n++], v[a], sizeof(*m));
			else
				snprintf(m[n++], sizeof(*m), "%s", sb->s[b].id);
			a += c <= 0;
			b += c >= 0;
		}
		for (i = 0; i < n; i++)
			memcpy(v[i], m[i], sizeof(*v));
		st->nsensors = n;
		free(m);
	}
	st->sensors = v;
}

int
load_sensors(struct site *st)
{
	int k;

	for (k = 0; k < SPAN_COUNT; k++) {
		sensbucket_init(&st->sens[k]);
		if (window_sensors(st->datadir, st->span[k].start,
			st->span[k].end, &st->sens[k], st->err,
			st->errlen) == -1)
			return -1;
	}
	collect_sensors(st);
	return 0;
}

void
sensors_free(struct site *st)
{
	int k;

	for (k = 0; k < SPAN_COUNT; k++)
		sensbucket_free(&st->sens[k]);
	free(st->sensors);
	st->sensors = NULL;
	st->nsensors = 0;
}

int
plan_sensors(struct site *st)
{
	char name[NAME_MAX_ + RECORD_ID_MAX];
	struct span sp;
	size_t i;
	int k;

	for (i = 0; i < st->nsensors; i++)
		for (k = 0; k < SPAN_COUNT; k++) {
			snprintf(name, sizeof(name), "sensor/%s-%s.png",
			    st->sensors[i], span_name(k));
			graph_span(st, k, &sp);
			if (site_png_health(st, name, &sp, st->sensors[i]) ==
			    -1)
				return -1;
		}
	return 0;
}

/* Packets per hour from packets per interval, as the key pages give. */
static double
per_hour(const struct site *st, double v)
{
	return v * 3600 / st->step;
}

static void
range_text(FILE *f, const struct span *sp)
{
	fputs(" <small>", f);
	html_time(f, sp->start);
	fputs(" \xe2\x80\x93 ", f);
	html_time(f, sp->end);
	fputs("</small>", f);
}

/*
 * A ranking's table: rank, key, its average, the fleet's, their ratio
 * and, for one sensor, whether no other sensor saw the key.  up leads to
 * the site's root (the key pages' links).
 */
static void
rank_table(FILE *f, const struct site *st, const struct sensrank *r,
    const char *caption, const char *who, int only_col, const char *up)
{
	char label[32], slug[32], avg[32], fleet[32];
	double max = 0;
	size_t i;
	int dec;

	for (i = 0; i < r->n; i++) {
		if (per_hour(st, r->mean[i]) > max)
			max = per_hour(st, r->mean[i]);
		if (per_hour(st, r->fleet[i]) > max)
			max = per_hour(st, r->fleet[i]);
	}
	dec = avg_decimals(max);
	fputs("<div class=\"scroll\">\n<table class=\"sensortop\">\n<caption>",
	    f);
	html_text(f, caption);
	fprintf(f,
	    "</caption>\n<thead><tr><th scope=\"col\" class=\"num\">#</th>"
	    "<th scope=\"col\">Key</th>"
	    "<th scope=\"col\" class=\"num\" title=\"packets per hour over "
	    "the intervals %s reported\">Avg/hour</th>"
	    "<th scope=\"col\" class=\"num\" title=\"packets per sensor per "
	    "hour, all sensors\">Fleet avg/hour</th>"
	    "<th scope=\"col\" class=\"num\">Ratio</th>",
	    who);
	if (only_col)
		fputs("<th scope=\"col\">Only this sensor</th>", f);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (i = 0; i < r->n; i++) {
		key_label(r->idx[i], label, sizeof(label));
		key_slug(r->idx[i], slug, sizeof(slug));
		fmt_avg(per_hour(st, r->mean[i]), dec, avg, sizeof(avg));
		fmt_avg(per_hour(st, r->fleet[i]), dec, fleet, sizeof(fleet));
		fprintf(f,
		    "<tr><td class=\"num\">%zu</td><td>%s</td>"
		    "<td class=\"num\">%s</td><td class=\"num\">%s</td>",
		    i + 1, label, avg, fleet);
		if (isnan(r->ratio[i]))
			fputs("<td class=\"num\">\xe2\x80\x93</td>", f);
		else
			fprintf(f, "<td class=\"num\">%.2f</td>", r->ratio[i]);
		if (only_col)
			fprintf(f, "<td class=\"only\">%s</td>",
			    r->only[i] ? "only this sensor" : "");
		fputs("</tr>\n", f);
	}
	if (r->n == 0)
		fprintf(f,
		    "<tr><td colspan=\"%d\">No data in this "
		    "window.</td></tr>\n",
		    only_col ? 6 : 5);
	fputs("</tbody>\n</table>\n</div>\n", f);
	(void)up;
}

static void
sensor_section(FILE *f, const struct site *st, const char *id, int k)
{
	const struct sens_sensor *s = sensbucket_find(&st->sens[k], id);
	const char *ids[1] = {id};
	char name[NAME_MAX_ + RECORD_ID_MAX], alt[160], cap[128];
	struct sensrank r;

	fprintf(f, "<section id=\"%s\">\n<h2>Last %s", span_name(k),
	    span_name(k));
	range_text(f, &st->span[k]);
	fputs("</h2>\n", f);
	fprintf(f,
	    "<p class=\"meta\">Reported %" PRIu64 " of the window's %" PRIu64
	    " intervals; saw %" PRIu64 " packets, dropped %" PRIu64 ".</p>\n",
	    s ? s->reported : 0, st->sens[k].nintervals, s ? s->packets : 0,
	    s ? s->drops : 0);
	fputs("<div class=\"cols\">\n<div class=\"graphs\">\n", f);
	snprintf(name, sizeof(name), "sensor/%s-%s.png", id, span_name(k));
	snprintf(alt, sizeof(alt),
	    "Packets seen and dropped by sensor %s over the last %s", id,
	    span_name(k));
	html_img(f, st, name, "../", alt);
	fputs("</div>\n<div class=\"top\">\n", f);
	sensrank(&st->sens[k], ids, 1, &st->win[k], SENSRANK_MAX, &r);
	snprintf(cap, sizeof(cap), "Top %d keys of %s, last %s", SENSRANK_MAX,
	    id, span_name(k));
	rank_table(f, st, &r, cap, "the sensor", 1, "../");
	sensrank_excess(&st->sens[k], id, &st->win[k], SENSRANK_MAX, &r);
	snprintf(cap, sizeof(cap), "Where %s stands out, last %s", id,
	    span_name(k));
	rank_table(f, st, &r, cap, "the sensor", 1, "../");
	fputs("</div>\n</div>\n</section>\n", f);
}

/* The groups a sensor is in, named. */
static void
sensor_groups(FILE *f, const struct site *st, const char *id)
{
	const struct site_group *g;
	size_t i, j, shown = 0;

	for (i = 0; i < st->opts->ngroups; i++) {
		g = &st->opts->groups[i];
		for (j = 0; j < g->nids && strcmp(g->ids[j], id) != 0; j++)
			;
		if (j == g->nids)
			continue;
		fputs(shown++ ? ", " : "<p class=\"meta\">Groups: ", f);
		html_text(f, g->name);
	}
	if (shown)
		fputs(" (<a href=\"../groups.html\">compared</a>)</p>\n", f);
}

static void
sensor_legend(FILE *f, const struct site *st)
{
	fprintf(f,
	    "<div class=\"legend\">\n<p><b>Avg/hour</b>: the packets this "
	    "sensor counted per hour, over the intervals of %u s it "
	    "reported. <b>Fleet avg/hour</b>: packets per sensor per hour "
	    "over all sensors, as on the main page. <b>Ratio</b>: the "
	    "first over the second. <b>Only this sensor</b>: no other "
	    "sensor counted the key in the window. <b>Stands out</b>: "
	    "the keys whose average here most exceeds the fleet's. Times are "
	    "in %s.</p>\n"
	    "</div>\n",
	    (unsigned)st->step, zone_name());
}

static int
write_sensor(struct site *st, const char *id)
{
	char name[NAME_MAX_ + RECORD_ID_MAX], title[128];
	struct out o;
	int k;

	snprintf(name, sizeof(name), "sensor/%s.html", id);
	snprintf(title, sizeof(title), "teiten: sensor %s", id);
	if (out_open(st, &o, name) == -1)
		return -1;
	page_head(o.f, title, "../");
	fputs("<header>\n<nav><a href=\"../index.html\">\xe2\x86\x90 All "
	      "ports</a><a href=\"index.html\">All sensors</a></nav>\n<h1>",
	    o.f);
	fputs("Sensor ", o.f);
	html_text(o.f, id);
	fputs("</h1>\n", o.f);
	data_time(o.f, st);
	sensor_groups(o.f, st, id);
	fputs("</header>\n", o.f);
	sensor_legend(o.f, st);
	fputs("<main>\n", o.f);
	for (k = 0; k < SPAN_COUNT; k++)
		sensor_section(o.f, st, id, k);
	fputs("</main>\n</body>\n</html>\n", o.f);
	return out_close(st, &o);
}

static int
write_sensor_index(struct site *st)
{
	const struct sens_sensor *s;
	struct out o;
	size_t i;
	int k;

	if (out_open(st, &o, "sensor/index.html") == -1)
		return -1;
	page_head(o.f, "teiten: sensors", "../");
	fputs("<header>\n<nav><a href=\"../index.html\">\xe2\x86\x90 All "
	      "ports</a>",
	    o.f);
	if (st->opts->ngroups > 0)
		fputs("<a href=\"../groups.html\">Groups</a>", o.f);
	fputs("</nav>\n<h1>Sensors</h1>\n", o.f);
	data_time(o.f, st);
	fputs("</header>\n<main>\n<div class=\"scroll\">\n<table "
	      "class=\"narrow\">\n<caption>Intervals reported per "
	      "window</caption>\n<thead><tr><th scope=\"col\">Sensor</th>",
	    o.f);
	for (k = 0; k < SPAN_COUNT; k++)
		fprintf(o.f, "<th scope=\"col\" class=\"num\">%s</th>",
		    span_name(k));
	fputs("</tr></thead>\n<tbody>\n", o.f);
	for (i = 0; i < st->nsensors; i++) {
		fputs("<tr><td><a href=\"", o.f);
		html_text(o.f, st->sensors[i]);
		fputs(".html\">", o.f);
		html_text(o.f, st->sensors[i]);
		fputs("</a></td>", o.f);
		for (k = 0; k < SPAN_COUNT; k++) {
			s = sensbucket_find(&st->sens[k], st->sensors[i]);
			fprintf(o.f, "<td class=\"num\">%" PRIu64 "</td>",
			    s ? s->reported : 0);
		}
		fputs("</tr>\n", o.f);
	}
	if (st->nsensors == 0)
		fputs("<tr><td colspan=\"6\">No sensor has reported in these "
		      "windows.</td></tr>\n",
		    o.f);
	fputs("</tbody>\n</table>\n</div>\n</main>\n</body>\n</html>\n", o.f);
	return out_close(st, &o);
}

static int
has_page(const struct site *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->nsensors; i++)
		if (strcmp(st->sensors[i], id) == 0)
			return 1;
	return 0;
}

static int
write_groups(struct site *st)
{
	const struct site_group *g;
	struct sensrank r;
	char cap[160];
	struct out o;
	size_t i, j;
	int k;

	if (out_open(st, &o, "groups.html") == -1)
		return -1;
	page_head(o.f, "teiten: sensor groups", "");
	fputs("<header>\n<nav><a href=\"index.html\">\xe2\x86\x90 All "
	      "ports</a><a href=\"sensor/index.html\">All sensors</a></nav>\n"
	      "<h1>Sensor groups</h1>\n",
	    o.f);
	data_time(o.f, st);
	fputs("<ul class=\"meta\">\n", o.f);
	for (i = 0; i < st->opts->ngroups; i++) {
		g = &st->opts->groups[i];
		fputs("<li><b>", o.f);
		html_text(o.f, g->name);
		fputs("</b>:", o.f);
		for (j = 0; j < g->nids; j++) {
			/* Only sensors with data have a page. */
			if (!has_page(st, g->ids[j])) {
				fputc(' ', o.f);
				html_text(o.f, g->ids[j]);
				fputs(" (no data)", o.f);
				continue;
			}
			fputs(" <a href=\"sensor/", o.f);
			html_text(o.f, g->ids[j]);
			fputs(".html\">", o.f);
			html_text(o.f, g->ids[j]);
			fputs("</a>", o.f);
		}
		fputs("</li>\n", o.f);
	}
	fprintf(o.f,
	    "</ul>\n</header>\n<div class=\"legend\">\n<p><b>Avg/hour</b>: "
	    "the packets the group's sensors counted, summed, per hour of "
	    "the intervals they reported, summed (packets per sensor per "
	    "hour within the group). <b>Fleet avg/hour</b>: the same over "
	    "all sensors, as on the main page. <b>Ratio</b>: the first "
	    "over the second. Times are in %s.</p>\n</div>\n<main>\n",
	    zone_name());
	for (k = 0; k < SPAN_COUNT; k++) {
		fprintf(o.f, "<section id=\"%s\">\n<h2>Last %s", span_name(k),
		    span_name(k));
		range_text(o.f, &st->span[k]);
		fputs("</h2>\n<div class=\"cols\">\n", o.f);
		for (i = 0; i < st->opts->ngroups; i++) {
			g = &st->opts->groups[i];
			sensrank(&st->sens[k], g->ids, g->nids, &st->win[k],
			    SENSRANK_MAX, &r);
			snprintf(cap, sizeof(cap),
			    "%s: top %d, %" PRIu64 " sensor-intervals", g->name,
			    SENSRANK_MAX, r.reported);
			fputs("<div class=\"top group\">\n", o.f);
			rank_table(o.f, st, &r, cap, "the group's sensors", 0,
			    "");
			fputs("</div>\n", o.f);
		}
		fputs("</div>\n</section>\n", o.f);
	}
	fputs("</main>\n</body>\n</html>\n", o.f);
	return out_close(st, &o);
}

int
write_sensors(struct site *st)
{
	size_t i;

	for (i = 0; i < st->nsensors; i++)
		if (write_sensor(st, st->sensors[i]) == -1)
			return -1;
	if (write_sensor_index(st) == -1)
		return -1;
	return st->opts->ngroups > 0 ? write_groups(st) : 0;
}

/*
 * The exports: top-<window>.json and .csv, each window's top SITE_TOP
 * table with its rank changes, its averages in the unit of the page's
 * table (per sensor per minute or per hour, not per interval), and what
 * a reader needs to use them alone: window, start, end, zone, step and
 * unit.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "keyname.h"
#include "site_int.h"
#include "textout.h"
#include "zone.h"

/* The table's unit, as the HTML table's heading names it. */
static void
unit_text(const struct site *st, enum span_kind k, char *buf, size_t len)
{
	snprintf(buf, len, "packets per sensor per %s",
	    st->span[k].unit == 60 ? "minute" : "hour");
}

/* A per-interval mean in the table's unit. */
static double
export_avg(const struct site *st, enum span_kind k, size_t i)
{
	return st->win[k].mean[i] * st->span[k].unit / st->step;
}

/* "+3", "-2", "0", "new", or "" as in the exports. */
void
change_text(const struct change *c, char *buf, size_t len)
{
	if (c->move == MOVE_NONE)
		snprintf(buf, len, "%s", "");
	else if (c->move == MOVE_NEW)
		snprintf(buf, len, "new");
	else
		snprintf(buf, len, c->delta > 0 ? "+%ld" : "%ld", c->delta);
}

/*
 * The fields of `teiten-graph top --json` (avg in the table's unit), then
 * the rank change; -1 for a number JSON cannot hold.
 */
static int
json_row(FILE *f, const struct site *st, enum span_kind k, size_t i)
{
	const struct window *w = &st->win[k];
	double avg = export_avg(st, k, i), share = window_share(w, i);
	struct change c;
	char ch[32], label[32];

	/* Checked first, so that a refused row writes nothing. */
	if (!isfinite(avg) || !isfinite(share))
		return -1;
	rank_change(&st->pwin[k], w->idx[i], i + 1, &c);
	change_text(&c, ch, sizeof(ch));
	key_label(w->idx[i], label, sizeof(label));
	fprintf(f, "%s{\"rank\": %zu, \"key\": \"%s\", \"service\": ",
	    i ? ",\n    " : "\n    ", i + 1, label);
	json_text(f, key_service(w->idx[i]));
	fputs(", \"avg\": ", f);
	(void)out_number(f, avg);
	fputs(", \"share\": ", f);
	(void)out_number(f, share);
	fputs(", \"sources\": ", f);
	json_count(f, w->sources, i);
	fputs(", \"targets\": ", f);
	json_count(f, w->targets, i);
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
csv_row(FILE *f, const struct site *st, enum span_kind k, size_t i,
    const char *meta)
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
	if (out_number(f, export_avg(st, k, i)) == -1)
		return -1;
	fputc(',', f);
	if (out_number(f, window_share(w, i)) == -1)
		return -1;
	fputc(',', f);
	csv_count(f, w->sources, i);
	fputc(',', f);
	csv_count(f, w->targets, i);
	fputc(',', f);
	if (c.move == MOVE_RANK)
		fprintf(f, "%zu", c.prev_rank);
	fprintf(f, ",%s,%s\r\n", ch, meta);
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

/*
 * The window's description, ahead of its rows: the table's span as ISO
 * 8601 with the zone's offset, the step of its intervals, the unit of
 * "avg", and how many intervals and sensors on average it is made of.
 */
static int
json_head(FILE *f, const struct site *st, enum span_kind k)
{
	const struct window *w = &st->win[k];
	char from[40], to[40], unit[64];

	zone_iso(st->span[k].start, from, sizeof(from));
	zone_iso(st->span[k].end, to, sizeof(to));
	unit_text(st, k, unit, sizeof(unit));
	fprintf(f,
	    "{\"window\": \"%s\", \"start\": \"%s\", \"end\": \"%s\", "
	    "\"zone\": ",
	    span_name(k), from, to);
	json_text(f, zone_name());
	fprintf(f,
	    ", \"step\": %u, \"unit\": \"%s\", \"intervals\": %" PRIu64
	    ", \"sensors\": ",
	    (unsigned)st->step, unit, w->nintervals);
	if (out_number(f, w->sensors) == -1)
		return -1;
	fputs(",\n  \"rows\": [", f);
	return 0;
}

/* The same description, as the CSV's last columns of every row. */
static void
csv_meta(const struct site *st, enum span_kind k, char *buf, size_t len)
{
	char from[40], to[40], unit[64];

	zone_iso(st->span[k].start, from, sizeof(from));
	zone_iso(st->span[k].end, to, sizeof(to));
	unit_text(st, k, unit, sizeof(unit));
	/* Zone names hold no comma or quote: no CSV quoting needed. */
	snprintf(buf, len, "%s,%s,%s,%s,%s,%u", unit, span_name(k), from, to,
	    zone_name(), (unsigned)st->step);
}

int
write_exports(struct site *st, enum span_kind k)
{
	struct out o;
	char name[NAME_MAX_], meta[256];
	size_t i, n = top_n(&st->win[k]);

	snprintf(name, sizeof(name), "top-%s.json", span_name(k));
	if (out_open(st, &o, name) == -1)
		return -1;
	if (json_head(o.f, st, k) == -1)
		return export_refused(st, &o, &st->win[k], 0);
	for (i = 0; i < n; i++)
		if (json_row(o.f, st, k, i) == -1)
			return export_refused(st, &o, &st->win[k], i);
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", o.f);
	if (out_close(st, &o) == -1)
		return -1;
	snprintf(name, sizeof(name), "top-%s.csv", span_name(k));
	if (out_open(st, &o, name) == -1)
		return -1;
	csv_meta(st, k, meta, sizeof(meta));
	fputs("rank,key,service,avg,share,sources,targets,prev_rank,change,"
	      "unit,window,start,end,zone,step\r\n",
	    o.f);
	for (i = 0; i < n; i++)
		if (csv_row(o.f, st, k, i, meta) == -1)
			return export_refused(st, &o, &st->win[k], i);
	return out_close(st, &o);
}

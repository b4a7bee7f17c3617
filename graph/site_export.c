/*
 * The exports: top-<window>.json and .csv, each window's top SITE_TOP
 * table with its rank changes.
 */
#include <stdio.h>
#include <unistd.h>

#include "keyname.h"
#include "site_int.h"
#include "textout.h"

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

int
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

/*
 * Planning the graphs: which keys each graph shows, the colour of each
 * key, and the list of PNGs to render (st->jobs), leaving out those the
 * last run made from the same inputs (site_state.c).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fnv.h"
#include "keyidx.h"
#include "keyname.h"
#include "site_int.h"
#include "xmalloc.h"
#include "zone.h"

#define SIG_MAX 512

/*
 * The events a graph draws, hashed (FNV-1a over time, key and text), so
 * that a changed annotations file draws its graphs again.
 */
static uint32_t
events_sig(const struct site *st, const struct span *sp, const uint32_t *idx,
    size_t n)
{
	const struct events *ev = st->opts->events;
	const struct event *e;
	uint32_t h = FNV1A_INIT;
	size_t i;

	for (i = 0; ev != NULL && i < ev->n; i++) {
		e = &ev->v[i];
		if (!event_applies(e, sp->start, sp->end, idx, idx ? n : 0))
			continue;
		h = fnv1a(h, &e->t, sizeof(e->t));
		h = fnv1a(h, e->text, strlen(e->text));
		h = fnv1a(h, &e->all, sizeof(e->all));
	}
	return h;
}

static void
graph_sig(const struct site *st, const struct span *sp, const uint32_t *idx,
    const unsigned *slot, size_t n, int sources, const char *health, char *sig,
    size_t len)
{
	int64_t last = st->last_final < sp->end ? st->last_final : sp->end;
	char label[32];
	size_t i, o;

	o = (size_t)snprintf(sig, len,
	    "%" PRId64 " %" PRId64 " %" PRId64 " %u g%" PRId64 " %s e%08x l2",
	    sp->start, sp->end, last, (unsigned)st->step, st->generation,
	    zone_name(), events_sig(st, sp, idx, n));
	if (health != NULL)
		o += (size_t)snprintf(sig + o, len - o, " health %s", health);
	else if (idx == NULL)
		o += (size_t)snprintf(sig + o, len - o, " sensors");
	if (sources)
		o += (size_t)snprintf(sig + o, len - o, " sources");
	for (i = 0; idx != NULL && i < n && o < len; i++) {
		key_label(idx[i], label, sizeof(label));
		o += (size_t)snprintf(sig + o, len - o, " %s%s", label,
		    key_palette(slot[i]));
	}
}

/*
 * Queue name (a key graph, or the sensors graph when idx is NULL) for
 * rendering unless the last run made it from the same inputs and it is
 * still there.
 */
static int
site_png_kind(struct site *st, const char *name, const struct span *sp,
    const uint32_t *idx, const unsigned *slots, size_t n, const char *title,
    const struct window *w, int sources, const char *health)
{
	char sig[SIG_MAX], path[4200];
	unsigned slot[GRAPH_KEYS] = {0};
	const struct png *old;
	struct job *j;
	size_t i;

	for (i = 0; i < n && i < GRAPH_KEYS; i++)
		slot[i] = slots != NULL ? slots[i] : site_slot(st, idx[i]);
	graph_sig(st, sp, idx, slot, n, sources, health, sig, sizeof(sig));
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
	j->sensors = idx == NULL && health == NULL;
	j->sources = sources;
	if (health != NULL)
		snprintf(j->health, sizeof(j->health), "%s", health);
	j->n = n < GRAPH_KEYS ? n : GRAPH_KEYS;
	for (i = 0; i < j->n; i++) {
		j->idx[i] = idx[i];
		j->slot[i] = slot[i];
		j->mean[i] =
		    w != NULL && w->start == sp->start && w->end == sp->end
		    ? window_mean(w, idx[i])
		    : NAN;
	}
	snprintf(j->title, sizeof(j->title), "%s", title ? title : "");
	return 0;
}

int
site_png(struct site *st, const char *name, const struct span *sp,
    const uint32_t *idx, const unsigned *slots, size_t n, const char *title,
    const struct window *w)
{
	return site_png_kind(st, name, sp, idx, slots, n, title, w, 0, NULL);
}

int
site_png_health(struct site *st, const char *name, const struct span *sp,
    const char *id)
{
	return site_png_kind(st, name, sp, NULL, NULL, 0, NULL, NULL, 0, id);
}

int
site_png_sources(struct site *st, const char *name, const struct span *sp,
    uint32_t idx, const char *title)
{
	return site_png_kind(st, name, sp, &idx, NULL, 1, title, NULL, 1, NULL);
}

_Static_assert(NWINDOW_GRAPHS *GRAPH_KEYS <= NWINDOW_KEYS,
    "cidx holds every key of a window's graphs");

/*
 * Colours: a key keeps one colour in every graph of the site, its key
 * page included, and no two keys drawn in one window (its port graphs
 * and its ICMP graph together, whose swatches share one table) share a
 * colour as long as a key shares windows with fewer than KEY_PALETTE
 * others.  Keys take their default slot (keyname.h) unless a key already
 * coloured shares a window with them and holds it; then the next free
 * slot.  Keys are taken in the order they first appear, day window
 * first, best rank first.
 */
static void
colour_keys(struct site *st)
{
	uint32_t g[SPAN_COUNT][NWINDOW_KEYS];
	size_t gn[SPAN_COUNT], i, j, a, b, c;
	int k, taken[KEY_PALETTE];
	unsigned s;

	st->ncol = 0;
	for (k = 0; k < SPAN_COUNT; k++) {
		gn[k] = 0;
		for (i = 0; i < NWINDOW_GRAPHS; i++)
			gn[k] += pick_keys(&st->win[k], window_graphs[i].port,
			    window_graphs[i].first, g[k] + gn[k]);
	}
	for (a = 0; a < SPAN_COUNT; a++)
		for (b = 0; b < gn[a]; b++) {
			uint32_t idx = g[a][b];

			for (c = 0; c < st->ncol && st->cidx[c] != idx; c++)
				;
			if (c < st->ncol)
				continue; /* coloured already */
			memset(taken, 0, sizeof(taken));
			for (i = 0; i < SPAN_COUNT; i++) {
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

unsigned
site_slot(const struct site *st, uint32_t idx)
{
	size_t i;

	for (i = 0; i < st->ncol; i++)
		if (st->cidx[i] == idx)
			return st->cslot[i];
	return key_colour_slot(idx);
}

/*
 * The day and week tables end on the hour below the newest data, since
 * the hourly summaries answer only whole hours; their graphs, read from
 * the RRDs, run on to the end of the newest final interval (up to the
 * site's end) over the same length, so that the last hour's intervals
 * are on the page.  The longer windows end at the zone's midnight by
 * design (whole days) and their graphs with them.
 */
void
graph_span(const struct site *st, enum span_kind k, struct span *sp)
{
	int64_t end = st->end;

	*sp = st->span[k];
	if (k != SPAN_DAY && k != SPAN_WEEK)
		return;
	if (st->last_final == INT64_MIN)
		return;
	if (st->last_final + (int64_t)st->step < end)
		end = st->last_final + (int64_t)st->step;
	end -= end % (int64_t)st->step; /* whole intervals only */
	if (end > sp->end) {
		sp->start += end - sp->end;
		sp->end = end;
	}
}

static int
plan_window(struct site *st, enum span_kind k)
{
	uint32_t idx[GRAPH_KEYS];
	char name[NAME_MAX_];
	struct span sp;
	size_t g, n;

	graph_span(st, k, &sp);
	for (g = 0; g < NWINDOW_GRAPHS; g++) {
		n = pick_keys(&st->win[k], window_graphs[g].port,
		    window_graphs[g].first, idx);
		snprintf(name, sizeof(name), "%s-%s.png", span_name(k),
		    window_graphs[g].suffix);
		if (site_png(st, name, &sp, idx, NULL, n,
			window_graphs[g].title, &st->win[k]) == -1)
			return -1;
	}
	snprintf(name, sizeof(name), "%s-sensors.png", span_name(k));
	return site_png(st, name, &sp, NULL, NULL, 0, NULL, NULL);
}

/* "tcp-445": file names never hold a '/'. */
void
key_slug(uint32_t idx, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", proto_name(keyidx_proto(idx)),
	    keyidx_key(idx));
}

static int
plan_key(struct site *st, uint32_t idx)
{
	char slug[32], name[NAME_MAX_], title[96];
	struct span sp;
	int k;

	key_slug(idx, slug, sizeof(slug));
	key_title(idx, title, sizeof(title));
	for (k = 0; k < SPAN_COUNT; k++) {
		snprintf(name, sizeof(name), "key/%s-%s.png", slug,
		    span_name(k));
		graph_span(st, k, &sp);
		if (site_png(st, name, &sp, &idx, NULL, 1, title,
			&st->win[k]) == -1)
			return -1;
		snprintf(name, sizeof(name), "key/%s-%s-sources.png", slug,
		    span_name(k));
		if (site_png_sources(st, name, &sp, idx, title) == -1)
			return -1;
	}
	return 0;
}

/* Colours first: a graph's signature holds its keys' colours. */
int
plan_graphs(struct site *st)
{
	size_t i;
	int k;

	colour_keys(st);
	for (k = 0; k < SPAN_COUNT; k++)
		if (plan_window(st, k) == -1)
			return -1;
	for (i = 0; i < st->nkeys; i++)
		if (plan_key(st, st->keys[i]) == -1)
			return -1;
	return plan_sensors(st);
}

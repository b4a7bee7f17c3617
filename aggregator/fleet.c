/* The aggregator's table of sensors and its log lines; see fleet.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "human.h"
#include "log.h"
#include "record.h"
#include "xmalloc.h"

/* Kinds of rate-limited lines: late, then refused by enum frame_refusal. */
#define KIND_LATE 0
#define KINDS REFUSE_REASONS

/* Records of one kind not yet in a line. */
struct held {
	uint64_t n;
	int64_t lo, hi; /* their intervals */
	time_t logged; /* the last line of this kind, 0 if none */
};

struct entry {
	struct fleet_sensor s;
	char id[RECORD_ID_MAX + 1];
	struct held held[KINDS];
};

struct fleet {
	uint32_t interval;
	struct entry **e; /* sorted by id */
	size_t n, cap;
	struct fleet_window win; /* counts since the last summary */
};

struct fleet *
fleet_new(uint32_t interval)
{
	struct fleet *f = xcalloc(1, sizeof(*f));

	f->interval = interval;
	return f;
}

void
fleet_free(struct fleet *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		free(f->e[i]);
	free(f->e);
	free(f);
}

/* The entry of id; with now != 0 it is made if missing. */
static struct entry *
fleet_find(struct fleet *f, const char *id, time_t now)
{
	size_t lo = 0, hi = f->n, mid;
	struct entry *e;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(f->e[mid]->id, id)) == 0)
			return f->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (now == 0)
		return NULL;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->e = xreallocarray(f->e, f->cap, sizeof(*f->e));
	}
	e = xcalloc(1, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->s.id = e->id;
	e->s.first_connect = now;
	memmove(f->e + lo + 1, f->e + lo, (f->n - lo) * sizeof(*f->e));
	f->e[lo] = e;
	f->n++;
	return e;
}

void
fleet_connected(struct fleet *f, const char *id, const char *peer, time_t now)
{
	struct entry *e = fleet_find(f, id, 0);

	if (e == NULL) {
		e = fleet_find(f, id, now);
		log_info("sensor %s connected from %s", id, peer);
	} else
		log_debug("sensor %s connected again from %s", id, peer);
	e->s.sessions++;
}

void
fleet_disconnected(struct fleet *f, const char *id)
{
	struct entry *e = fleet_find(f, id, 0);

	if (e != NULL && e->s.sessions > 0)
		e->s.sessions--;
}

/* The line for what h holds of kind k, which took secs. */
static void
held_log(const struct entry *e, int k, const struct held *h, int64_t secs)
{
	char lo[ISO8601_LEN], hi[ISO8601_LEN], span[32], what[160], when[96];

	if (k == KIND_LATE)
		snprintf(what, sizeof(what), "%" PRIu64 " late %s", h->n,
		    plural(h->n, "record", "records"));
	else
		snprintf(what, sizeof(what), "%" PRIu64 " %s refused: %s", h->n,
		    plural(h->n, "record", "records"), frame_refusal_str(k));
	iso8601(h->lo, lo);
	iso8601(h->hi, hi);
	if (h->lo == h->hi)
		snprintf(when, sizeof(when), "(interval %s)", lo);
	else
		snprintf(when, sizeof(when), "(intervals %s to %s)", lo, hi);
	if (secs >= 0)
		snprintf(when + strlen(when), sizeof(when) - strlen(when),
		    " in the last %s",
		    human_duration(secs, span, sizeof(span)));
	/* A refusal means a clock or a sensor to look at; late is routine. */
	if (k == KIND_LATE)
		log_info("sensor %s: %s %s", e->id, what, when);
	else
		log_warnx("sensor %s: %s %s", e->id, what, when);
}

/*
 * The first record of a kind is logged at once; those that follow within
 * FLEET_LOG_EVERY seconds of a line wait, counted, for the next one.
 */
static void
held_add(struct entry *e, int k, int64_t start, time_t now)
{
	struct held *h = &e->held[k];

	if (h->n == 0 || start < h->lo)
		h->lo = start;
	if (h->n == 0 || start > h->hi)
		h->hi = start;
	h->n++;
	if (h->n == 1 &&
	    (h->logged == 0 || now - h->logged >= FLEET_LOG_EVERY)) {
		held_log(e, k, h, -1);
		h->n = 0;
		h->logged = now;
	}
}

/* Back from quiet: said once, with how long it was. */
static void
entry_heard(struct entry *e, time_t now)
{
	char span[32];
	time_t since = e->s.last_record ? e->s.last_record : e->s.first_connect;

	if (e->s.quiet)
		log_info("sensor %s reporting again after %s without a record",
		    e->id, human_duration(now - since, span, sizeof(span)));
	e->s.quiet = 0;
	e->s.last_record = now;
}

void
fleet_record(struct fleet *f, const char *id, const struct ingest_verdict *v,
    time_t now)
{
	struct entry *e = fleet_find(f, id, now);

	switch (v->ack) {
	case ACK_STORED:
		e->s.stored++;
		e->s.packets += v->packets;
		e->s.drops += v->drops;
		f->win.stored++;
		if (v->late) {
			e->s.late++;
			f->win.late++;
			held_add(e, KIND_LATE, v->start, now);
		}
		break;
	case ACK_DUPLICATE:
		e->s.duplicate++;
		break;
	case ACK_REFUSED:
		e->s.refused++;
		f->win.refused++;
		if (v->reason > 0 && v->reason < KINDS)
			held_add(e, v->reason, v->start, now);
		break;
	default:
		e->s.rejected++;
		break;
	}
	/* Any record, refused or not, says the sensor is there. */
	entry_heard(e, now);
}

static void
entry_flush(struct entry *e, time_t now, int force)
{
	struct held *h;
	int k;

	for (k = 0; k < KINDS; k++) {
		h = &e->held[k];
		if (h->n == 0 || (!force && now - h->logged < FLEET_LOG_EVERY))
			continue;
		held_log(e, k, h, now - h->logged);
		h->n = 0;
		h->logged = now;
	}
}

void
fleet_tick(struct fleet *f, time_t now)
{
	int64_t quiet_after = (int64_t)FLEET_QUIET * f->interval;
	struct entry *e;
	time_t since;
	char span[32];
	size_t i;

	for (i = 0; i < f->n; i++) {
		e = f->e[i];
		entry_flush(e, now, 0);
		since =
		    e->s.last_record ? e->s.last_record : e->s.first_connect;
		if (e->s.quiet || now - since < quiet_after)
			continue;
		e->s.quiet = 1;
		log_info("sensor %s quiet: no record for %s (%d intervals)%s",
		    e->id, human_duration(now - since, span, sizeof(span)),
		    FLEET_QUIET, e->s.sessions ? "" : ", not connected");
	}
}

void
fleet_flush(struct fleet *f, time_t now)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		entry_flush(f->e[i], now, 1);
}

void
fleet_window(struct fleet *f, struct fleet_window *w, int reset)
{
	size_t i;

	*w = f->win;
	w->known = f->n;
	w->connected = w->reporting = 0;
	for (i = 0; i < f->n; i++) {
		w->connected += f->e[i]->s.sessions > 0;
		w->reporting +=
		    !f->e[i]->s.quiet && f->e[i]->s.last_record != 0;
	}
	if (reset)
		memset(&f->win, 0, sizeof(f->win));
}

void
fleet_foreach(const struct fleet *f,
    void (*fn)(const struct fleet_sensor *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		fn(&f->e[i]->s, arg);
}

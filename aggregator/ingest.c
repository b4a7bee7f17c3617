/*
 * Records in: decoding, dedupe, refusal and archiving; see ingest.h.  When
 * an interval is final is finality.c's to say, what it averages to
 * average.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "average.h"
#include "finality.h"
#include "human.h"
#include "ingest.h"
#include "log.h"
#include "record.h"
#include "xmalloc.h"

struct sensor_state {
	char id[RECORD_ID_MAX + 1];
	uint32_t nopen; /* open intervals it has reported */
	uint64_t refused[REFUSE_REASONS];
	struct rrd_fault pending; /* faults not yet in a job */
	int faulty; /* pending holds a count */
};

struct ival {
	int64_t start;
	time_t first; /* wall clock of the first record */
	struct sset seen;
	struct average avg;
};

struct ingest {
	uint32_t len;
	unsigned grace, active, skew;
	struct archive *archive;
	struct finality *fin;
	ingest_final_fn final;
	void *arg;
	ingest_late_fn late;
	void *late_arg;
	struct sensor_state *sensors; /* by index, in order of appearance */
	uint32_t *by_id; /* indices sorted by id */
	size_t nsensors, scap;
	struct ival **open; /* sorted by start */
	size_t nopen, ocap;
	int replaying; /* archived records: the open cap does not apply */
	int live; /* the record came from a sensor now: faults count */
	size_t nfaulty; /* sensors with pending faults */
	size_t open_bytes; /* memory held by open intervals */
	/*
	 * What open intervals may take before sensors over their cap are asked
	 * to wait: below it, sensors replaying history at different speeds
	 * run apart freely.
	 */
	size_t open_budget;
	uint8_t keyid[RECORD_KEYID]; /* the fleet's sketch key id */
	int has_key; /* else sketches are not kept */
	struct ingest_stats st;
};

/* Index of a sensor, registering it on first sight. */
static uint32_t
sensor_index(struct ingest *g, const char *id)
{
	size_t lo = 0, hi = g->nsensors, mid;
	uint32_t idx;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(g->sensors[g->by_id[mid]].id, id);
		if (c == 0)
			return g->by_id[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (g->nsensors == g->scap) {
		g->scap = g->scap ? g->scap * 2 : 64;
		g->sensors =
		    xreallocarray(g->sensors, g->scap, sizeof(*g->sensors));
		g->by_id = xreallocarray(g->by_id, g->scap, sizeof(*g->by_id));
	}
	idx = (uint32_t)g->nsensors;
	memset(&g->sensors[idx], 0, sizeof(g->sensors[idx]));
	snprintf(g->sensors[idx].id, sizeof(g->sensors[idx].id), "%s", id);
	finality_track(g->fin, idx);
	memmove(g->by_id + lo + 1, g->by_id + lo,
	    (g->nsensors - lo) * sizeof(*g->by_id));
	g->by_id[lo] = idx;
	g->nsensors++;
	return idx;
}

struct load_ctx {
	struct ingest *g;
	struct sset *seen;
};

static void
load_seen(const uint8_t *rec, size_t len, void *arg)
{
	struct load_ctx *c = arg;
	struct record r;
	const char *why;

	record_init(&r);
	if (record_decode(&r, rec, len, &why) == 0)
		sset_add(c->seen, sensor_index(c->g, r.sensor));
	record_clear(&r);
}

/* The sensors that reported a final interval no longer in memory. */
static void
load_final(int64_t start, struct sset *seen, void *arg)
{
	struct load_ctx ctx;

	ctx.g = arg;
	ctx.seen = seen;
	if (ctx.g->archive != NULL)
		archive_scan(ctx.g->archive, start, load_seen, &ctx);
}

struct ingest *
ingest_new(uint32_t len, unsigned grace, unsigned active,
    struct archive *archive, int64_t last_final, ingest_final_fn final,
    void *arg)
{
	struct ingest *g = xcalloc(1, sizeof(*g));

	g->len = len;
	g->grace = grace;
	g->active = active;
	g->skew = len + 60;
	g->open_budget = INGEST_OPEN_BUDGET;
	g->archive = archive;
	g->fin = finality_new(len, grace, active, last_final, load_final, g);
	g->final = final;
	g->arg = arg;
	return g;
}

void
ingest_set_skew(struct ingest *g, unsigned skew)
{
	g->skew = skew;
}

/*
 * A sensor on time holds open the intervals that have not yet ended or
 * are within grace of their end, and those it may send early (skew).
 */
void
ingest_set_open_budget(struct ingest *g, size_t bytes)
{
	g->open_budget = bytes;
}

unsigned
ingest_open_max(const struct ingest *g)
{
	return (unsigned)(((uint64_t)g->grace + g->skew) / g->len + 2);
}

static size_t
ival_bytes(const struct ival *iv)
{
	if (iv == NULL)
		return 0;
	return sizeof(*iv) + average_bytes(&iv->avg) + iv->seen.bytes;
}

void
ingest_set_sketch_key(struct ingest *g, const uint8_t *id)
{
	g->has_key = id != NULL;
	if (id != NULL)
		memcpy(g->keyid, id, RECORD_KEYID);
}

/* The record's sketches are the fleet's: merged with the others. */
static int
ingest_keeps_sketches(const struct ingest *g, const struct record *r)
{
	return g->has_key && r->sketch_p != 0 &&
	    memcmp(r->sketch_keyid, g->keyid, RECORD_KEYID) == 0;
}

void
ingest_set_late(struct ingest *g, ingest_late_fn fn, void *arg)
{
	g->late = fn;
	g->late_arg = arg;
}

static void
ival_free(struct ival *iv)
{
	free(iv->seen.bits);
	average_free(&iv->avg);
	free(iv);
}

void
ingest_free(struct ingest *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nopen; i++)
		ival_free(g->open[i]);
	finality_free(g->fin);
	free(g->open);
	free(g->sensors);
	free(g->by_id);
	free(g);
}

/* The open interval of start, or NULL; *pos is where it would go. */
static struct ival *
ival_find(const struct ingest *g, int64_t start, size_t *pos)
{
	size_t lo = 0, hi = g->nopen, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (g->open[mid]->start == start)
			return g->open[mid];
		if (g->open[mid]->start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return NULL;
}

static struct ival *
ival_get(struct ingest *g, int64_t start, time_t now)
{
	struct ival *iv;
	size_t i;

	if ((iv = ival_find(g, start, &i)) != NULL)
		return iv;
	if (g->nopen == g->ocap) {
		g->ocap = g->ocap ? g->ocap * 2 : 16;
		g->open = xreallocarray(g->open, g->ocap, sizeof(*g->open));
	}
	iv = xcalloc(1, sizeof(*iv));
	iv->start = start;
	iv->first = now;
	average_init(&iv->avg);
	memmove(g->open + i + 1, g->open + i,
	    (g->nopen - i) * sizeof(*g->open));
	g->open[i] = iv;
	g->nopen++;
	return iv;
}

/*
 * The sensor's faults not yet in a job, for its health series; NULL for
 * records read back from the archive, which were counted when they came.
 */
static struct rrd_fault *
sensor_faults(struct ingest *g, uint32_t sidx)
{
	struct sensor_state *s = &g->sensors[sidx];

	if (!g->live)
		return NULL;
	if (!s->faulty) {
		s->faulty = 1;
		g->nfaulty++;
	}
	return &s->pending;
}

static int
ingest_late(struct ingest *g, uint32_t sidx, const uint8_t *raw, size_t len,
    time_t now, struct ingest_verdict *v)
{
	struct sset *seen = finality_seen(g->fin, v->start);
	struct rrd_fault *f;

	if (sset_has(seen, sidx)) {
		g->st.duplicates++;
		v->ack = ACK_DUPLICATE;
		return 0;
	}
	if (g->archive != NULL &&
	    archive_append(g->archive, v->start, raw, len) == -1)
		return -1;
	/* Archived but not held: a resend appends it again, harmlessly. */
	if (g->late != NULL &&
	    g->late(v->start, g->sensors[sidx].id, g->late_arg) == -1)
		return -1;
	sset_add(seen, sidx);
	finality_heard(g->fin, sidx, v->start, now);
	if ((f = sensor_faults(g, sidx)) != NULL)
		f->late++;
	g->st.late++;
	g->st.stored++;
	v->ack = ACK_STORED;
	v->late = 1;
	return 0;
}

static int
ingest_refuse(struct ingest *g, uint32_t sidx, struct ingest_verdict *v,
    int reason)
{
	struct rrd_fault *f = sensor_faults(g, sidx);

	if (f != NULL && reason == REFUSE_OPEN)
		f->deferred++;
	else if (f != NULL)
		f->refused++;
	g->sensors[sidx].refused[reason]++;
	g->st.refused[reason]++;
	v->ack = ACK_REFUSED;
	v->reason = reason;
	v->why = frame_refusal_str(reason);
	return 0;
}

/*
 * A start at or before 0 would be read by librrd as relative to now, and
 * one far ahead would carry the RRDs and every summary into the future:
 * neither may enter, whatever a sensor's clock says.
 */
static int
ingest_check_time(const struct ingest *g, int64_t start, time_t now)
{
	if (start < INGEST_EPOCH)
		return REFUSE_PAST;
	if (start > (int64_t)now + g->skew)
		return REFUSE_FUTURE;
	return 0;
}

/* A new record of an interval not yet final. */
static int
ingest_open(struct ingest *g, uint32_t sidx, const struct record *r,
    const uint8_t *raw, size_t len, time_t now, struct ingest_verdict *v)
{
	struct ival *iv;
	size_t pos;

	iv = ival_find(g, r->start, &pos);
	if (iv != NULL && sset_has(&iv->seen, sidx)) {
		g->st.duplicates++;
		v->ack = ACK_DUPLICATE;
		return 0;
	}
	if (!g->replaying && g->open_bytes >= g->open_budget &&
	    g->sensors[sidx].nopen >= ingest_open_max(g))
		return ingest_refuse(g, sidx, v, REFUSE_OPEN);
	/* Nothing changes unless the record is in the archive. */
	if (g->archive != NULL &&
	    archive_append(g->archive, r->start, raw, len) == -1)
		return -1;
	g->open_bytes -= ival_bytes(iv);
	iv = ival_get(g, r->start, now);
	sset_add(&iv->seen, sidx);
	average_add(&iv->avg, r, ingest_keeps_sketches(g, r));
	g->open_bytes += ival_bytes(iv);
	g->sensors[sidx].nopen++;
	finality_heard(g->fin, sidx, r->start, now);
	g->st.stored++;
	v->ack = ACK_STORED;
	return 0;
}

int
ingest_record(struct ingest *g, const char *sensor, const uint8_t *raw,
    size_t len, time_t now, struct ingest_verdict *v)
{
	struct record r;
	uint32_t sidx;
	int rc, reason, i;

	memset(v, 0, sizeof(*v));
	g->live = sensor != NULL;
	record_init(&r);
	if (record_decode(&r, raw, len, &v->why) == -1)
		goto reject;
	v->start = r.start;
	for (i = RT_TCP; i <= RT_UNMONITORED; i++)
		v->packets += r.totals[i];
	v->drops = r.totals[RT_CAPTURE_DROPS];
	if (sensor != NULL && strcmp(r.sensor, sensor) != 0) {
		v->why = "record of another sensor";
		goto reject;
	}
	if (r.len != g->len) {
		v->why = "interval length differs from the aggregator's";
		goto reject;
	}
	/* Hashed under another key, its sketches would merge into noise. */
	if (sensor != NULL && g->has_key && r.sketch_p != 0 &&
	    !ingest_keeps_sketches(g, &r)) {
		v->why = "sketch key differs from the aggregator's";
		goto reject;
	}
	sidx = sensor_index(g, r.sensor);
	if ((reason = ingest_check_time(g, r.start, now)) != 0) {
		record_clear(&r);
		return ingest_refuse(g, sidx, v, reason);
	}
	if (finality_is_final(g->fin, r.start))
		rc = ingest_late(g, sidx, raw, len, now, v);
	else
		rc = ingest_open(g, sidx, &r, raw, len, now, v);
	record_clear(&r);
	return rc;
reject:
	if (sensor != NULL)
		sensor_faults(g, sensor_index(g, sensor))->rejected++;
	g->st.rejected++;
	record_clear(&r);
	v->ack = ACK_REJECTED;
	return 0;
}

struct rrd_job *
ingest_faults(struct ingest *g, int64_t start)
{
	struct rrd_job *j = xcalloc(1, sizeof(*j));
	struct sensor_state *s;
	size_t i;

	j->start = start;
	j->len = g->len;
	j->faults_only = 1;
	if (g->nfaulty == 0)
		return j;
	j->fault = xcalloc(g->nfaulty, sizeof(*j->fault));
	for (i = 0; i < g->nsensors && j->nfault < g->nfaulty; i++) {
		s = &g->sensors[g->by_id[i]]; /* by id, as rrdw wants them */
		if (!s->faulty)
			continue;
		j->fault[j->nfault] = s->pending;
		snprintf(j->fault[j->nfault].id, sizeof(j->fault[0].id), "%s",
		    s->id);
		j->nfault++;
		memset(&s->pending, 0, sizeof(s->pending));
		s->faulty = 0;
	}
	g->nfaulty = 0;
	return j;
}

/* The interval's sensors hold one interval fewer open. */
static void
ival_release(struct ingest *g, const struct ival *iv)
{
	size_t i;

	for (i = 0; i < g->nsensors; i++)
		if (sset_has(&iv->seen, i) && g->sensors[i].nopen > 0)
			g->sensors[i].nopen--;
}

void
ingest_tick(struct ingest *g, time_t now, int force)
{
	struct ival *iv;

	while (g->nopen > 0) {
		iv = g->open[0];
		if (!force && !finality_due(g->fin, iv->start, iv->first, now))
			break;
		ival_release(g, iv);
		g->open_bytes -= ival_bytes(iv);
		g->final(average_job(&iv->avg, iv->start, g->len), g->arg);
		g->st.finalized++;
		finality_mark(g->fin, iv->start, &iv->seen);
		memmove(g->open, g->open + 1,
		    (g->nopen - 1) * sizeof(*g->open));
		g->nopen--;
		ival_free(iv);
	}
}

struct recover_ctx {
	struct ingest *g;
	time_t now;
	size_t n, refused;
};

static void
recover_one(const uint8_t *rec, size_t len, void *arg)
{
	struct recover_ctx *c = arg;
	struct archive *a = c->g->archive;
	struct ingest_verdict v;

	/* Already archived: count it in without appending it again. */
	c->g->archive = NULL;
	c->g->replaying = 1;
	if (ingest_record(c->g, NULL, rec, len, c->now, &v) == 0 &&
	    v.ack == ACK_STORED)
		c->n++;
	else if (v.ack == ACK_REFUSED)
		c->refused++;
	c->g->archive = a;
	c->g->replaying = 0;
}

/* A sensor of a recent final interval: active, as far as we know. */
static void
recover_sensor(const uint8_t *rec, size_t len, void *arg)
{
	struct recover_ctx *c = arg;
	struct record r;
	const char *why;

	record_init(&r);
	if (record_decode(&r, rec, len, &why) == 0)
		finality_heard(c->g->fin, sensor_index(c->g, r.sensor), r.start,
		    c->now);
	record_clear(&r);
}

/*
 * Open intervals come back from the archive.  So do the sensors of the
 * final intervals of the last active period: without them, the first
 * sensors to reconnect would finalize the open intervals on their own.
 */
int
ingest_recover(struct ingest *g, time_t now)
{
	struct recover_ctx c = {g, now, 0, 0};
	int64_t *v, last;
	size_t n, i;

	if (g->archive == NULL)
		return 0;
	last = finality_last(g->fin);
	v = archive_intervals(g->archive, &n);
	for (i = 0; i < n; i++)
		if (last != INT64_MIN && v[i] <= last &&
		    v[i] > last - (int64_t)g->active)
			archive_scan(g->archive, v[i], recover_sensor, &c);
	for (i = 0; i < n; i++)
		if (!finality_is_final(g->fin, v[i]))
			archive_scan(g->archive, v[i], recover_one, &c);
	free(v);
	g->st.stored -= c.n;
	memset(g->st.refused, 0, sizeof(g->st.refused));
	if (c.n > 0)
		log_info("recovered %zu %s of %zu %s not yet final", c.n,
		    plural(c.n, "record", "records"), g->nopen,
		    plural(g->nopen, "interval", "intervals"));
	if (c.refused > 0)
		log_warnx("archive: %zu %s left out: dated before 2000 or "
			  "too far ahead of this clock (rebuild skips them "
			  "too)",
		    c.refused, plural(c.refused, "record", "records"));
	return 0;
}

void
ingest_stats(const struct ingest *g, struct ingest_stats *st)
{
	*st = g->st;
}

size_t
ingest_open_intervals(const struct ingest *g)
{
	return g->nopen;
}

void
ingest_log_refusals(const struct ingest *g)
{
	const struct sensor_state *s;
	size_t i;

	for (i = 0; i < g->nsensors; i++) {
		s = &g->sensors[i];
		if (s->refused[REFUSE_FUTURE] + s->refused[REFUSE_PAST] +
			s->refused[REFUSE_OPEN] ==
		    0)
			continue;
		log_info("sensor %s: records refused: %" PRIu64 " ahead of "
			 "this clock, %" PRIu64 " before 2000, %" PRIu64
			 " over the open interval cap",
		    s->id, s->refused[REFUSE_FUTURE], s->refused[REFUSE_PAST],
		    s->refused[REFUSE_OPEN]);
	}
}

int64_t
ingest_last_final(const struct ingest *g)
{
	return finality_last(g->fin);
}

/*
 * Unit tests for ingest (aggregator/ingest.h, DESIGN.md contracts 4 and 7):
 * an interval is never final before its end on the aggregator's clock; it
 * is final once every active sensor reported it, or grace seconds after
 * the later of its end and its first record; its averages are sums divided
 * by the sensors that reported it; duplicates, late records and refusals
 * are told apart and counted per sensor.  Every expected value is worked
 * out by hand below.
 */
#define _XOPEN_SOURCE 700
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "ingest.h"
#include "record.h"
#include "rrdw.h"
#include "tmpdir.h"

#define LEN 60
#define GRACE 30
#define ACTIVE 300
/* A multiple of 60: 1700000040 / 60 = 28333334. */
#define T ((int64_t)1700000040)

#define MAXJOBS 16

struct sink {
	struct rrd_job *jobs[MAXJOBS];
	size_t n;
	int64_t late_start[MAXJOBS];
	char late_id[MAXJOBS][RECORD_ID_MAX + 1];
	size_t nlate;
	int late_rc;
};

static void
on_final(struct rrd_job *j, void *arg)
{
	struct sink *s = arg;

	assert_true(s->n < MAXJOBS);
	s->jobs[s->n++] = j;
}

static int
on_late(int64_t start, const char *id, void *arg)
{
	struct sink *s = arg;

	if (s->late_rc == -1)
		return -1;
	assert_true(s->nlate < MAXJOBS);
	s->late_start[s->nlate] = start;
	snprintf(s->late_id[s->nlate], sizeof(s->late_id[0]), "%s", id);
	s->nlate++;
	return 0;
}

static void
sink_clear(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		rrd_job_free(s->jobs[i]);
	s->n = 0;
}

/*
 * One record of sensor id for [start, start + LEN): tcp 22 and 80, udp 53
 * (0 leaves the key out), nonip, capture and spool drops.
 */
struct rec {
	uint8_t buf[512];
	size_t len;
};

static void
make(struct rec *out, const char *id, int64_t start, uint64_t tcp22,
    uint64_t tcp80, uint64_t udp53, uint64_t nonip, uint64_t cdrops,
    uint64_t sdrops)
{
	struct record r;

	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "%s", id);
	r.start = start;
	r.len = LEN;
	r.naddrs = 1;
	if (tcp22)
		record_add(&r, PROTO_TCP, 22, tcp22);
	if (tcp80)
		record_add(&r, PROTO_TCP, 80, tcp80);
	if (udp53)
		record_add(&r, PROTO_UDP, 53, udp53);
	r.totals[RT_TCP] = tcp22 + tcp80;
	r.totals[RT_UDP] = udp53;
	r.totals[RT_NONIP] = nonip;
	r.totals[RT_CAPTURE_DROPS] = cdrops;
	r.totals[RT_SPOOL_DROPS] = sdrops;
	out->len = record_encode(&r, out->buf, sizeof(out->buf));
	assert_true(out->len > 0);
	record_clear(&r);
}

/* A plain record: one tcp/22 packet. */
static enum frame_ack
send1(struct ingest *g, const char *id, int64_t start, time_t now,
    struct ingest_verdict *v)
{
	struct ingest_verdict dummy;
	struct rec r;

	if (v == NULL)
		v = &dummy;
	make(&r, id, start, 1, 0, 0, 0, 0, 0);
	assert_int_equal(ingest_record(g, id, r.buf, r.len, now, v), 0);
	return v->ack;
}

static struct ingest *
new_ingest(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	return ingest_new(LEN, GRACE, ACTIVE, NULL, INT64_MIN, on_final, s);
}

/* Both sensors reported: final at the end, not one second before. */
static void
test_never_before_end(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);

	(void)state;
	assert_int_equal(send1(g, "a", T, T + 10, NULL), ACK_STORED);
	assert_int_equal(send1(g, "b", T, T + 20, NULL), ACK_STORED);
	ingest_tick(g, T + 20, 0);
	ingest_tick(g, T + LEN - 1, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(ingest_open_intervals(g), 1);
	assert_true(ingest_last_final(g) == INT64_MIN);
	ingest_tick(g, T + LEN, 0);
	assert_int_equal(s.n, 1);
	assert_true(s.jobs[0]->start == T);
	assert_int_equal(s.jobs[0]->nsensors, 2);
	assert_true(ingest_last_final(g) == T);
	assert_int_equal(ingest_open_intervals(g), 0);
	sink_clear(&s);
	ingest_free(g);
}

/* A sensor whose clock runs fast cannot finalize an interval early. */
static void
test_fast_sensor_not_final_early(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);

	(void)state;
	/* Dated T + 60 (within skew 120 of T), while the clock reads T. */
	assert_int_equal(send1(g, "a", T + LEN, T, NULL), ACK_STORED);
	ingest_tick(g, T + 2 * LEN - 1, 0);
	assert_int_equal(s.n, 0);
	ingest_tick(g, T + 2 * LEN, 0);
	assert_int_equal(s.n, 1);
	sink_clear(&s);
	ingest_free(g);
}

/* Both sensors known from T - 60; then "a" alone reports T. */
static struct ingest *
two_known(struct sink *s)
{
	struct ingest *g = new_ingest(s);

	assert_int_equal(send1(g, "a", T - LEN, T - 30, NULL), ACK_STORED);
	assert_int_equal(send1(g, "b", T - LEN, T - 20, NULL), ACK_STORED);
	ingest_tick(g, T, 0);
	assert_int_equal(s->n, 1);
	sink_clear(s);
	return g;
}

/* Grace counts from the end when the first record came before it. */
static void
test_grace_from_end(void **state)
{
	struct sink s;
	struct ingest *g = two_known(&s);

	(void)state;
	assert_int_equal(send1(g, "a", T, T + 5, NULL), ACK_STORED);
	ingest_tick(g, T + LEN, 0); /* "b" is active and missing */
	ingest_tick(g, T + LEN + GRACE - 1, 0);
	assert_int_equal(s.n, 0);
	ingest_tick(g, T + LEN + GRACE, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.jobs[0]->nsensors, 1);
	sink_clear(&s);
	ingest_free(g);
}

/* ... and from the first record when that came after the end. */
static void
test_grace_from_first(void **state)
{
	struct sink s;
	struct ingest *g = two_known(&s);

	(void)state;
	assert_int_equal(send1(g, "a", T, T + 100, NULL), ACK_STORED);
	ingest_tick(g, T + LEN + GRACE, 0); /* grace from the end: not yet */
	ingest_tick(g, T + 100 + GRACE - 1, 0);
	assert_int_equal(s.n, 0);
	ingest_tick(g, T + 100 + GRACE, 0);
	assert_int_equal(s.n, 1);
	sink_clear(&s);
	ingest_free(g);
}

/* Complete as soon as the last active sensor reports, before grace. */
static void
test_complete(void **state)
{
	struct sink s;
	struct ingest *g = two_known(&s);

	(void)state;
	assert_int_equal(send1(g, "a", T, T + 61, NULL), ACK_STORED);
	ingest_tick(g, T + 61, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(send1(g, "b", T, T + 62, NULL), ACK_STORED);
	ingest_tick(g, T + 62, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.jobs[0]->nsensors, 2);
	sink_clear(&s);
	ingest_free(g);
}

/* A sensor silent for more than ACTIVE seconds is not waited for. */
static void
test_inactive_not_waited_for(void **state)
{
	struct sink s;
	struct ingest *g = two_known(&s);
	int64_t t2 = T + 10 * LEN; /* "b" last heard at T - 20 */

	(void)state;
	assert_int_equal(send1(g, "a", t2, t2 + 1, NULL), ACK_STORED);
	/* At t2 + 60, "b" was last seen 680 s ago, more than ACTIVE. */
	ingest_tick(g, t2 + LEN, 0);
	assert_int_equal(s.n, 1);
	sink_clear(&s);
	ingest_free(g);
}

/*
 * Contract 4: four sensors known, three report T (grace finalizes it).
 * a: tcp/22 4, udp/53 2, nonip 7, drops 3 + 1;  b: tcp/22 2;  c: tcp/80 1.
 * Sums tcp/22 6, tcp/80 1, udp/53 2; each divided by 3, not 4.
 */
static void
test_average(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct ingest_verdict v;
	struct rrd_job *j;
	struct rec r;

	(void)state;
	assert_int_equal(send1(g, "a", T - LEN, T - 1, NULL), ACK_STORED);
	assert_int_equal(send1(g, "b", T - LEN, T - 1, NULL), ACK_STORED);
	assert_int_equal(send1(g, "c", T - LEN, T - 1, NULL), ACK_STORED);
	assert_int_equal(send1(g, "d", T - LEN, T - 1, NULL), ACK_STORED);
	ingest_tick(g, T, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.jobs[0]->nsensors, 4);
	assert_int_equal(s.jobs[0]->nvalues, 1);
	assert_true(s.jobs[0]->avg[0] == 1.0); /* 4 packets / 4 sensors */
	sink_clear(&s);

	make(&r, "a", T, 4, 0, 2, 7, 3, 1);
	assert_int_equal(ingest_record(g, "a", r.buf, r.len, T + 1, &v), 0);
	assert_int_equal(v.ack, ACK_STORED);
	make(&r, "b", T, 2, 0, 0, 0, 0, 0);
	assert_int_equal(ingest_record(g, "b", r.buf, r.len, T + 2, &v), 0);
	make(&r, "c", T, 0, 1, 0, 0, 0, 0);
	assert_int_equal(ingest_record(g, "c", r.buf, r.len, T + 3, &v), 0);
	ingest_tick(g, T + LEN + GRACE - 1, 0);
	assert_int_equal(s.n, 0); /* waits for "d" */
	ingest_tick(g, T + LEN + GRACE, 0);
	assert_int_equal(s.n, 1);
	j = s.jobs[0];
	assert_false(j->faults_only);
	assert_true(j->start == T);
	assert_int_equal(j->len, LEN);
	assert_int_equal(j->nsensors, 3);
	assert_int_equal(j->nvalues, 3);
	assert_int_equal(j->idx[0], 22); /* tcp ports come first */
	assert_int_equal(j->idx[1], 80);
	assert_int_equal(j->idx[2], 65536 + 53); /* then udp */
	assert_true(j->avg[0] == 6.0 / 3.0);
	assert_true(j->avg[1] == 1.0 / 3.0);
	assert_true(j->avg[2] == 2.0 / 3.0);
	/* Health in arrival order: packets seen tcp..unmonitored, drops. */
	assert_int_equal(j->nhealth, 3);
	assert_string_equal(j->health[0].id, "a");
	assert_int_equal(j->health[0].packets, 4 + 2 + 7);
	assert_int_equal(j->health[0].drops, 3 + 1);
	assert_string_equal(j->health[1].id, "b");
	assert_int_equal(j->health[1].packets, 2);
	assert_int_equal(j->health[1].drops, 0);
	assert_string_equal(j->health[2].id, "c");
	assert_int_equal(j->health[2].packets, 1);
	sink_clear(&s);
	ingest_free(g);
}

/*
 * "Reported it or a later one": "b" skips T and reports T + 60, so T is
 * complete at its end; then T + 60 at its own.
 */
static void
test_later_one_counts(void **state)
{
	struct sink s;
	struct ingest *g = two_known(&s);

	(void)state;
	assert_int_equal(send1(g, "a", T, T + 1, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T + LEN, T + LEN - 2, NULL), ACK_STORED);
	assert_int_equal(send1(g, "b", T + LEN, T + LEN - 1, NULL), ACK_STORED);
	ingest_tick(g, T + LEN - 1, 0);
	assert_int_equal(s.n, 0);
	ingest_tick(g, T + LEN, 0);
	assert_int_equal(s.n, 1);
	assert_true(s.jobs[0]->start == T);
	assert_int_equal(s.jobs[0]->nsensors, 1);
	ingest_tick(g, T + 2 * LEN, 0);
	assert_int_equal(s.n, 2);
	assert_true(s.jobs[1]->start == T + LEN);
	assert_int_equal(s.jobs[1]->nsensors, 2);
	sink_clear(&s);
	ingest_free(g);
}

static void
test_duplicates(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct ingest_stats st;

	(void)state;
	assert_int_equal(send1(g, "a", T, T + 1, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T, T + 2, NULL), ACK_DUPLICATE);
	ingest_tick(g, T + LEN, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.jobs[0]->nsensors, 1); /* counted once */
	assert_true(s.jobs[0]->avg[0] == 1.0);
	/* Resent after final: still a duplicate, not late. */
	assert_int_equal(send1(g, "a", T, T + LEN + 5, NULL), ACK_DUPLICATE);
	ingest_stats(g, &st);
	assert_int_equal(st.stored, 1);
	assert_int_equal(st.duplicates, 2);
	assert_int_equal(st.late, 0);
	assert_int_equal(st.finalized, 1);
	sink_clear(&s);
	ingest_free(g);
}

static void
test_late(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct ingest_stats st;
	struct rrd_job *f;

	(void)state;
	ingest_set_late(g, on_late, &s);
	assert_int_equal(send1(g, "a", T, T + 1, NULL), ACK_STORED);
	ingest_tick(g, T + LEN, 0); /* "a" is the only sensor: complete */
	assert_int_equal(s.n, 1);
	assert_int_equal(send1(g, "b", T, T + LEN + 10, NULL), ACK_STORED);
	assert_int_equal(s.nlate, 1);
	assert_true(s.late_start[0] == T);
	assert_string_equal(s.late_id[0], "b");
	/* Late but once: the resend is a duplicate. */
	assert_int_equal(send1(g, "b", T, T + LEN + 11, NULL), ACK_DUPLICATE);
	assert_int_equal(s.nlate, 1);
	assert_int_equal(s.n, 1); /* no new final job */
	/* Also late: an interval before the last final one, never open. */
	assert_int_equal(send1(g, "b", T - LEN, T + LEN + 12, NULL),
	    ACK_STORED);
	assert_int_equal(s.nlate, 2);
	assert_true(s.late_start[1] == T - LEN);
	/* A late callback failing: not acknowledged, nothing counted. */
	s.late_rc = -1;
	{
		struct ingest_verdict v;
		struct rec r;

		make(&r, "c", T, 1, 0, 0, 0, 0, 0);
		assert_int_equal(ingest_record(g, "c", r.buf, r.len,
				     T + LEN + 13, &v),
		    -1);
	}
	ingest_stats(g, &st);
	assert_int_equal(st.late, 2);
	assert_int_equal(st.stored, 3);
	assert_int_equal(st.duplicates, 1);
	f = ingest_faults(g, T + LEN);
	assert_int_equal(f->nfault, 1);
	assert_string_equal(f->fault[0].id, "b");
	assert_int_equal(f->fault[0].late, 2);
	rrd_job_free(f);
	sink_clear(&s);
	ingest_free(g);
}

static void
test_refuse_past(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct ingest_verdict v;
	struct ingest_stats st;

	(void)state;
	/* 946684800 = 2000-01-01T00:00:00Z, a multiple of 60. */
	assert_int_equal(send1(g, "a", 946684800 - LEN, T, &v), ACK_REFUSED);
	assert_int_equal(v.reason, REFUSE_PAST);
	assert_true(v.start == 946684800 - LEN);
	assert_non_null(v.why);
	assert_int_equal(send1(g, "a", 0, T, &v), ACK_REFUSED);
	assert_int_equal(v.reason, REFUSE_PAST);
	assert_int_equal(send1(g, "a", -LEN, T, &v), ACK_REFUSED);
	assert_int_equal(v.reason, REFUSE_PAST);
	assert_int_equal(send1(g, "a", 946684800, T, &v), ACK_STORED);
	ingest_stats(g, &st);
	assert_int_equal(st.refused[REFUSE_PAST], 3);
	assert_int_equal(st.stored, 1);
	assert_int_equal(ingest_open_intervals(g), 1);
	sink_clear(&s);
	ingest_free(g);
}

static void
test_refuse_future(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct ingest_verdict v;
	struct ingest_stats st;

	(void)state;
	/* Default skew: one interval plus 60 s = 120 s. */
	assert_int_equal(send1(g, "a", T + 120, T, &v), ACK_STORED);
	assert_int_equal(send1(g, "a", T + 180, T, &v), ACK_REFUSED);
	assert_int_equal(v.reason, REFUSE_FUTURE);
	assert_true(v.start == T + 180);
	/* T + 59 + 120 < T + 180: still ahead; at T + 60 no longer. */
	assert_int_equal(send1(g, "a", T + 180, T + 59, &v), ACK_REFUSED);
	assert_int_equal(send1(g, "a", T + 180, T + 60, &v), ACK_STORED);
	ingest_set_skew(g, 0);
	assert_int_equal(send1(g, "b", T + LEN, T + 59, &v), ACK_REFUSED);
	assert_int_equal(v.reason, REFUSE_FUTURE);
	assert_int_equal(send1(g, "b", T + LEN, T + 60, &v), ACK_STORED);
	ingest_stats(g, &st);
	assert_int_equal(st.refused[REFUSE_FUTURE], 3);
	assert_int_equal(st.stored, 3);
	sink_clear(&s);
	ingest_free(g);
}

/* Budget 0: the cap of (30 + 120) / 60 + 2 = 4 open intervals applies. */
static void
test_refuse_open(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct ingest_verdict v;
	struct ingest_stats st;

	(void)state;
	ingest_set_open_budget(g, 0);
	assert_int_equal(ingest_open_max(g), 4);
	assert_int_equal(send1(g, "a", T - 2 * LEN, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T - LEN, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T + LEN, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T + 2 * LEN, T, &v), ACK_REFUSED);
	assert_int_equal(v.reason, REFUSE_OPEN);
	/* The cap is per sensor. */
	assert_int_equal(send1(g, "b", T + 2 * LEN, T, NULL), ACK_STORED);
	/* Once T - 120 and T - 60 are final, "a" may open two more. */
	ingest_tick(g, T, 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(send1(g, "a", T + 2 * LEN, T, NULL), ACK_STORED);
	ingest_stats(g, &st);
	assert_int_equal(st.refused[REFUSE_OPEN], 1);
	assert_int_equal(st.stored, 6);
	sink_clear(&s);
	ingest_free(g);
}

/* With the default budget, nothing near 64 MiB: no cap. */
static void
test_open_budget_default(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(send1(g, "a", T - 9 * LEN + i * LEN, T, NULL),
		    ACK_STORED);
	assert_int_equal(ingest_open_intervals(g), 10);
	ingest_free(g);
}

static void
test_rejected(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct ingest_verdict v;
	struct ingest_stats st;
	struct record r;
	struct rec rec;
	uint8_t junk[3] = {0x01, 0x00, 0x00};

	(void)state;
	assert_int_equal(ingest_record(g, "a", junk, sizeof(junk), T, &v), 0);
	assert_int_equal(v.ack, ACK_REJECTED);
	assert_non_null(v.why);
	/* A record of "b" sent on "a"'s session. */
	make(&rec, "b", T, 1, 0, 0, 0, 0, 0);
	assert_int_equal(ingest_record(g, "a", rec.buf, rec.len, T, &v), 0);
	assert_int_equal(v.ack, ACK_REJECTED);
	/* Another interval length. */
	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "a");
	r.start = T;
	r.len = 30;
	rec.len = record_encode(&r, rec.buf, sizeof(rec.buf));
	record_clear(&r);
	assert_int_equal(ingest_record(g, "a", rec.buf, rec.len, T, &v), 0);
	assert_int_equal(v.ack, ACK_REJECTED);
	ingest_stats(g, &st);
	assert_int_equal(st.rejected, 3);
	assert_int_equal(st.stored, 0);
	assert_int_equal(ingest_open_intervals(g), 0);
	ingest_free(g);
}

/*
 * Faults by sensor, sorted by id: "b" 1 rejected, 1 refused (past) and 1
 * refused (future); "a" 1 deferred (open cap) and 1 late.  Replayed records
 * (sensor NULL) count none.  A second call starts from zero.
 */
static void
test_faults(void **state)
{
	struct sink s;
	struct ingest *g = new_ingest(&s);
	struct rrd_job *f;
	struct rec rec;
	struct ingest_verdict v;
	uint8_t junk[1] = {0xff};

	(void)state;
	f = ingest_faults(g, T);
	assert_true(f->faults_only);
	assert_true(f->start == T);
	assert_int_equal(f->len, LEN);
	assert_int_equal(f->nfault, 0);
	rrd_job_free(f);

	assert_int_equal(ingest_record(g, "b", junk, 1, T, &v), 0);
	assert_int_equal(v.ack, ACK_REJECTED);
	assert_int_equal(send1(g, "b", 0, T, NULL), ACK_REFUSED);
	assert_int_equal(send1(g, "b", T + 10 * LEN, T, NULL), ACK_REFUSED);
	/* Replayed from the archive: refused, but no fault. */
	make(&rec, "b", 0, 1, 0, 0, 0, 0, 0);
	assert_int_equal(ingest_record(g, NULL, rec.buf, rec.len, T, &v), 0);
	assert_int_equal(v.ack, ACK_REFUSED);

	ingest_set_open_budget(g, 0);
	assert_int_equal(send1(g, "a", T - 3 * LEN, T - 100, NULL), ACK_STORED);
	ingest_tick(g, T - 2 * LEN, 0); /* final: "a" is the only one */
	assert_int_equal(s.n, 1);
	assert_int_equal(send1(g, "a", T - 2 * LEN, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T - LEN, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T + LEN, T, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T + 2 * LEN, T, NULL), ACK_REFUSED);
	/* Late: "c" for the final T - 180. */
	assert_int_equal(send1(g, "c", T - 3 * LEN, T, NULL), ACK_STORED);

	f = ingest_faults(g, T + LEN);
	assert_true(f->faults_only);
	assert_true(f->start == T + LEN);
	assert_int_equal(f->nfault, 3);
	assert_string_equal(f->fault[0].id, "a");
	assert_int_equal(f->fault[0].late, 0);
	assert_int_equal(f->fault[0].refused, 0);
	assert_int_equal(f->fault[0].deferred, 1);
	assert_int_equal(f->fault[0].rejected, 0);
	assert_string_equal(f->fault[1].id, "b");
	assert_int_equal(f->fault[1].late, 0);
	assert_int_equal(f->fault[1].refused, 2);
	assert_int_equal(f->fault[1].deferred, 0);
	assert_int_equal(f->fault[1].rejected, 1);
	assert_string_equal(f->fault[2].id, "c");
	assert_int_equal(f->fault[2].late, 1);
	assert_int_equal(f->fault[2].refused, 0);
	rrd_job_free(f);

	f = ingest_faults(g, T + 2 * LEN);
	assert_int_equal(f->nfault, 0);
	rrd_job_free(f);
	sink_clear(&s);
	ingest_free(g);
}

/* last_final given at start: records up to it are late. */
static void
test_last_final_given(void **state)
{
	struct sink s;
	struct ingest *g;
	struct ingest_stats st;

	(void)state;
	memset(&s, 0, sizeof(s));
	g = ingest_new(LEN, GRACE, ACTIVE, NULL, T, on_final, &s);
	assert_true(ingest_last_final(g) == T);
	assert_int_equal(send1(g, "a", T, T + LEN, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T + LEN, T + LEN, NULL), ACK_STORED);
	ingest_stats(g, &st);
	assert_int_equal(st.late, 1);
	assert_int_equal(ingest_open_intervals(g), 1);
	/* force: everything open leaves now. */
	ingest_tick(g, T + LEN, 1);
	assert_int_equal(s.n, 1);
	assert_true(s.jobs[0]->start == T + LEN);
	sink_clear(&s);
	ingest_free(g);
}

struct datadir {
	char path[64];
	struct archive *a;
};

/* A data directory with an archive, removed even when a test fails. */
static int
datadir_setup(void **state)
{
	struct datadir *d = calloc(1, sizeof(*d));
	char err[256] = "";

	if (d == NULL)
		return -1;
	if (tmpdir_make(d->path, sizeof(d->path), "ingest") == -1)
		return -1;
	if ((d->a = archive_open(d->path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "archive_open: %s\n", err);
		return -1;
	}
	*state = d;
	return 0;
}

static int
datadir_teardown(void **state)
{
	struct datadir *d = *state;
	int rc;

	archive_free(d->a);
	rc = tmpdir_remove(d->path);
	free(d);
	return rc;
}

/* Records of one interval in the archive, counted. */
static void
count_entry(const uint8_t *rec, size_t len, void *arg)
{
	(void)rec;
	(void)len;
	(*(size_t *)arg)++;
}

static size_t
archived(struct archive *a, int64_t start)
{
	size_t n = 0;

	assert_int_equal(archive_scan(a, start, count_entry, &n), 0);
	return n;
}

/*
 * Every stored record is archived, late ones too; duplicates and refused
 * ones are not.
 */
static void
test_archived(void **state)
{
	struct datadir *d = *state;
	struct sink s;
	struct ingest *g;

	memset(&s, 0, sizeof(s));
	g = ingest_new(LEN, GRACE, ACTIVE, d->a, INT64_MIN, on_final, &s);
	assert_int_equal(send1(g, "a", T, T + 1, NULL), ACK_STORED);
	assert_int_equal(send1(g, "a", T, T + 2, NULL), ACK_DUPLICATE);
	assert_int_equal(send1(g, "a", 0, T + 3, NULL), ACK_REFUSED);
	ingest_tick(g, T + LEN, 0);
	assert_int_equal(send1(g, "b", T, T + LEN + 1, NULL), ACK_STORED);
	assert_int_equal(archive_commit(d->a), 0);
	assert_int_equal(archived(d->a, T), 2);
	assert_int_equal(archived(d->a, 0), 0);
	sink_clear(&s);
	ingest_free(g);
}

/*
 * A restart after a crash: T - 60 was final, T open with "a"'s record.
 * Recovery reopens T, and knows "b" from T - 60, so "a" alone does not
 * complete T: it waits for grace.  Who reported a final interval comes
 * back from the archive too: "a" resending T - 60 is a duplicate, "c"
 * sending it is late.
 */
static void
test_recover(void **state)
{
	struct datadir *d = *state;
	struct sink s;
	struct ingest *g;
	struct ingest_stats st;
	struct rec r;
	struct ingest_verdict v;

	memset(&s, 0, sizeof(s));
	g = ingest_new(LEN, GRACE, ACTIVE, d->a, INT64_MIN, on_final, &s);
	assert_int_equal(send1(g, "a", T - LEN, T - 5, NULL), ACK_STORED);
	assert_int_equal(send1(g, "b", T - LEN, T - 4, NULL), ACK_STORED);
	ingest_tick(g, T, 0);
	assert_int_equal(s.n, 1);
	make(&r, "a", T, 4, 0, 2, 0, 0, 0);
	assert_int_equal(ingest_record(g, "a", r.buf, r.len, T + 1, &v), 0);
	assert_int_equal(v.ack, ACK_STORED);
	assert_int_equal(archive_commit(d->a), 0);
	sink_clear(&s);
	ingest_free(g); /* the crash */

	g = ingest_new(LEN, GRACE, ACTIVE, d->a, T - LEN, on_final, &s);
	assert_int_equal(ingest_recover(g, T + 61), 0);
	assert_int_equal(ingest_open_intervals(g), 1);
	ingest_stats(g, &st);
	assert_int_equal(st.stored, 0); /* counted when they came */
	assert_int_equal(send1(g, "a", T, T + 62, NULL), ACK_DUPLICATE);
	/*
	 * The archive keeps no arrival times: the recovered record arrived
	 * at T + 61, after the end, so grace runs until T + 91.
	 */
	ingest_tick(g, T + 61 + GRACE - 1, 0);
	assert_int_equal(s.n, 0);
	ingest_tick(g, T + 61 + GRACE, 0);
	assert_int_equal(s.n, 1);
	assert_true(s.jobs[0]->start == T);
	assert_int_equal(s.jobs[0]->nsensors, 1);
	assert_int_equal(s.jobs[0]->nvalues, 2);
	assert_true(s.jobs[0]->avg[0] == 4.0);
	assert_true(s.jobs[0]->avg[1] == 2.0);
	/* Nothing archived twice by the recovery. */
	assert_int_equal(archived(d->a, T), 1);

	assert_int_equal(send1(g, "a", T - LEN, T + 100, NULL), ACK_DUPLICATE);
	assert_int_equal(send1(g, "c", T - LEN, T + 100, NULL), ACK_STORED);
	ingest_stats(g, &st);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.duplicates, 2);
	assert_int_equal(archived(d->a, T - LEN), 3);
	sink_clear(&s);
	ingest_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_never_before_end),
	    cmocka_unit_test(test_fast_sensor_not_final_early),
	    cmocka_unit_test(test_grace_from_end),
	    cmocka_unit_test(test_grace_from_first),
	    cmocka_unit_test(test_complete),
	    cmocka_unit_test(test_inactive_not_waited_for),
	    cmocka_unit_test(test_average),
	    cmocka_unit_test(test_later_one_counts),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_late),
	    cmocka_unit_test(test_refuse_past),
	    cmocka_unit_test(test_refuse_future),
	    cmocka_unit_test(test_refuse_open),
	    cmocka_unit_test(test_open_budget_default),
	    cmocka_unit_test(test_rejected),
	    cmocka_unit_test(test_faults),
	    cmocka_unit_test(test_last_final_given),
	    cmocka_unit_test_setup_teardown(test_archived, datadir_setup,
		datadir_teardown),
	    cmocka_unit_test_setup_teardown(test_recover, datadir_setup,
		datadir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for counts (per-interval counters, output order of
 * doc/CONTRACTS.md contract 3) and tally (interval assignment and closing,
 * contract 2; the monitored prefix filter of contract 1).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "counts.h"
#include "frame.h"
#include "hll.h"
#include "interval.h"
#include "keyidx.h"
#include "prefix.h"
#include "tally.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t addr4_in[] = {192, 0, 2, 77};
static const uint8_t addr4_out[] = {198, 51, 100, 1};
static const uint8_t addr6_in[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1};
static const uint8_t addr6_out[] = {0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1};

static struct pkt
mkpkt(enum pkt_class cls, unsigned key, enum tcp_kind k)
{
	struct pkt pk;

	memset(&pk, 0, sizeof(pk));
	pk.cls = (uint8_t)cls;
	pk.key = (uint16_t)key;
	pk.tcpk = (uint8_t)k;
	return pk;
}

static struct pkt
mkpkt_to(enum pkt_class cls, unsigned key, int family, const uint8_t *dst)
{
	struct pkt pk = mkpkt(cls, key, TCPK_OTHER);

	pk.family = (uint8_t)family;
	pk.dst = dst;
	return pk;
}

/* What counts_foreach reported, in the order it reported it. */
struct seen {
	enum proto p;
	unsigned key;
	uint64_t n;
};

struct seen_list {
	struct seen v[64];
	size_t n;
};

static void
seen_add(enum proto p, unsigned key, uint64_t n, void *arg)
{
	struct seen_list *l = arg;

	assert_true(l->n < NITEMS(l->v));
	l->v[l->n].p = p;
	l->v[l->n].key = key;
	l->v[l->n].n = n;
	l->n++;
}

static void
assert_seen(const struct seen_list *l, size_t i, enum proto p, unsigned key,
    uint64_t n)
{
	assert_true(i < l->n);
	assert_int_equal(l->v[i].p, p);
	assert_int_equal(l->v[i].key, key);
	assert_int_equal(l->v[i].n, n);
}

static void
add(struct counts *c, enum pkt_class cls, unsigned key)
{
	struct pkt pk = mkpkt(cls, key, TCPK_OTHER);

	counts_add(c, &pk);
}

static void
test_counts_order(void **state)
{
	struct counts *c;
	struct seen_list l;

	(void)state;
	c = counts_new();
	counts_reset(c, 0, 60);
	/* Added out of order, with the boundary keys of each protocol. */
	add(c, CLASS_UDP, 53);
	add(c, CLASS_ICMP6, 255);
	add(c, CLASS_TCP, 445);
	add(c, CLASS_ICMP, 0);
	add(c, CLASS_TCP, 65535);
	add(c, CLASS_UDP, 0);
	add(c, CLASS_ICMP6, 128);
	add(c, CLASS_TCP, 23);
	add(c, CLASS_UDP, 53);
	add(c, CLASS_ICMP, 255);
	add(c, CLASS_TCP, 0);
	add(c, CLASS_ICMP6, 0);
	add(c, CLASS_UDP, 65535);
	add(c, CLASS_ICMP, 8);
	add(c, CLASS_TCP, 445);
	add(c, CLASS_TCP, 445);
	memset(&l, 0, sizeof(l));
	counts_foreach(c, seen_add, &l);
	assert_int_equal(l.n, 13);
	assert_seen(&l, 0, PROTO_TCP, 0, 1);
	assert_seen(&l, 1, PROTO_TCP, 23, 1);
	assert_seen(&l, 2, PROTO_TCP, 445, 3);
	assert_seen(&l, 3, PROTO_TCP, 65535, 1);
	assert_seen(&l, 4, PROTO_UDP, 0, 1);
	assert_seen(&l, 5, PROTO_UDP, 53, 2);
	assert_seen(&l, 6, PROTO_UDP, 65535, 1);
	assert_seen(&l, 7, PROTO_ICMP, 0, 1);
	assert_seen(&l, 8, PROTO_ICMP, 8, 1);
	assert_seen(&l, 9, PROTO_ICMP, 255, 1);
	assert_seen(&l, 10, PROTO_ICMP6, 0, 1);
	assert_seen(&l, 11, PROTO_ICMP6, 128, 1);
	assert_seen(&l, 12, PROTO_ICMP6, 255, 1);
	counts_free(c);
}

static void
test_counts_classes(void **state)
{
	struct counts *c;
	struct seen_list l;
	struct pkt pk;

	(void)state;
	c = counts_new();
	counts_reset(c, 120, 60);
	assert_true(counts_empty(c));
	pk = mkpkt(CLASS_TCP, 445, TCPK_SYN);
	counts_add(c, &pk);
	counts_add(c, &pk);
	pk = mkpkt(CLASS_TCP, 80, TCPK_SYNACK);
	counts_add(c, &pk);
	pk = mkpkt(CLASS_TCP, 80, TCPK_RST);
	counts_add(c, &pk);
	add(c, CLASS_UDP, 1434);
	add(c, CLASS_ICMP, 8);
	add(c, CLASS_ICMP6, 128);
	/* Unkeyed classes: totals only, whatever their key field says. */
	add(c, CLASS_FRAGMENT, 7);
	add(c, CLASS_OTHER, 8);
	add(c, CLASS_OTHER, 0);
	add(c, CLASS_NONIP, 9);
	add(c, CLASS_MALFORMED, 10);
	add(c, CLASS_UNMONITORED, 11);
	assert_false(counts_empty(c));
	assert_int_equal(c->t.classes[CLASS_TCP], 4);
	assert_int_equal(c->t.classes[CLASS_UDP], 1);
	assert_int_equal(c->t.classes[CLASS_ICMP], 1);
	assert_int_equal(c->t.classes[CLASS_ICMP6], 1);
	assert_int_equal(c->t.classes[CLASS_FRAGMENT], 1);
	assert_int_equal(c->t.classes[CLASS_OTHER], 2);
	assert_int_equal(c->t.classes[CLASS_NONIP], 1);
	assert_int_equal(c->t.classes[CLASS_MALFORMED], 1);
	assert_int_equal(c->t.classes[CLASS_UNMONITORED], 1);
	assert_int_equal(c->t.tcpk[TCPK_SYN], 2);
	assert_int_equal(c->t.tcpk[TCPK_SYNACK], 1);
	assert_int_equal(c->t.tcpk[TCPK_RST], 1);
	assert_int_equal(c->t.tcpk[TCPK_OTHER], 0);
	assert_int_equal(counts_seen(&c->t), 4 + 1 + 1 + 1 + 1 + 2 + 1 + 1 + 1);
	assert_int_equal(counts_keyed(&c->t), 4 + 1 + 1 + 1);
	memset(&l, 0, sizeof(l));
	counts_foreach(c, seen_add, &l);
	assert_int_equal(l.n, 5);
	assert_seen(&l, 0, PROTO_TCP, 80, 2);
	assert_seen(&l, 1, PROTO_TCP, 445, 2);
	counts_free(c);
}

static void
test_counts_reset(void **state)
{
	struct counts *c;
	struct seen_list l;
	size_t i;

	(void)state;
	c = counts_new();
	counts_reset(c, 0, 60);
	add(c, CLASS_TCP, 445);
	add(c, CLASS_UDP, 65535);
	add(c, CLASS_ICMP6, 255);
	add(c, CLASS_MALFORMED, 0);
	c->t.late = 3;
	c->t.drops = 4;
	counts_reset(c, 60, 300);
	assert_int_equal(c->start, 60);
	assert_int_equal(c->len, 300);
	assert_true(counts_empty(c));
	assert_int_equal(counts_seen(&c->t), 0);
	assert_int_equal(c->t.late, 0);
	assert_int_equal(c->t.drops, 0);
	assert_int_equal(c->t.tcpk[TCPK_OTHER], 0);
	for (i = 0; i < KEYIDX_COUNT; i++)
		assert_int_equal(c->key[i], 0);
	for (i = 0; i < KEYIDX_COUNT / 64; i++)
		assert_int_equal(c->touched[i], 0);
	memset(&l, 0, sizeof(l));
	counts_foreach(c, seen_add, &l);
	assert_int_equal(l.n, 0);
	/* Counting resumes from zero in the new interval. */
	add(c, CLASS_TCP, 445);
	counts_foreach(c, seen_add, &l);
	assert_int_equal(l.n, 1);
	assert_seen(&l, 0, PROTO_TCP, 445, 1);
	counts_free(c);
}

/*
 * The key space of common/keyidx.h that key[] is indexed by: tcp ports
 * from 0, udp ports from 65536, icmp types from 131072, icmp6 types from
 * 131328, 131584 keys in all, each index naming one (proto, key).
 */
static void
test_counts_keyidx(void **state)
{
	uint32_t i;

	(void)state;
	assert_int_equal(KEYIDX_COUNT, 131584);
	assert_int_equal(keyidx(PROTO_TCP, 0), 0);
	assert_int_equal(keyidx(PROTO_TCP, 65535), 65535);
	assert_int_equal(keyidx(PROTO_UDP, 0), 65536);
	assert_int_equal(keyidx(PROTO_UDP, 65535), 131071);
	assert_int_equal(keyidx(PROTO_ICMP, 0), 131072);
	assert_int_equal(keyidx(PROTO_ICMP, 255), 131327);
	assert_int_equal(keyidx(PROTO_ICMP6, 0), 131328);
	assert_int_equal(keyidx(PROTO_ICMP6, 255), 131583);
	for (i = 0; i < KEYIDX_COUNT; i++) {
		assert_true(keyidx_key(i) < proto_nkeys(keyidx_proto(i)));
		assert_int_equal(keyidx(keyidx_proto(i), keyidx_key(i)), i);
	}
	assert_int_equal(keyidx_proto(65535), PROTO_TCP);
	assert_int_equal(keyidx_proto(65536), PROTO_UDP);
	assert_int_equal(keyidx_proto(131072), PROTO_ICMP);
	assert_int_equal(keyidx_proto(131328), PROTO_ICMP6);
	assert_int_equal(sizeof(((struct counts *)0)->key) / sizeof(uint64_t),
	    131584);
}

/*
 * Closing an interval must cost what was seen, not a memset of 1 MiB:
 * reset visits only the keys marked touched.  A count planted without
 * its bit shows that nothing else was written.
 */
static void
test_counts_reset_touched_only(void **state)
{
	struct counts *c;
	uint32_t planted = keyidx(PROTO_UDP, 9999);

	(void)state;
	c = counts_new();
	counts_reset(c, 0, 60);
	add(c, CLASS_TCP, 22);
	c->key[planted] = 7;
	counts_reset(c, 60, 60);
	assert_int_equal(c->key[keyidx(PROTO_TCP, 22)], 0);
	assert_int_equal(c->key[planted], 7);
	/* With no keyed packet at all the key array is not walked either. */
	add(c, CLASS_OTHER, 0);
	counts_reset(c, 120, 60);
	assert_int_equal(c->key[planted], 7);
	counts_free(c);
}

static void
test_totals_add(void **state)
{
	struct totals sum, t;
	int i;

	(void)state;
	memset(&sum, 0, sizeof(sum));
	memset(&t, 0, sizeof(t));
	for (i = 0; i < CLASS_COUNT; i++)
		t.classes[i] = (uint64_t)i + 1;
	for (i = 0; i < TCPK_COUNT; i++)
		t.tcpk[i] = (uint64_t)i + 100;
	t.late = 1000;
	t.drops = 2000;
	totals_add(&sum, &t);
	totals_add(&sum, &t);
	for (i = 0; i < CLASS_COUNT; i++)
		assert_int_equal(sum.classes[i], 2 * ((uint64_t)i + 1));
	for (i = 0; i < TCPK_COUNT; i++)
		assert_int_equal(sum.tcpk[i], 2 * ((uint64_t)i + 100));
	assert_int_equal(sum.late, 2000);
	assert_int_equal(sum.drops, 4000);
	/* 1 + 2 + ... + CLASS_COUNT, twice; keyed are the first four. */
	assert_int_equal(counts_seen(&sum), CLASS_COUNT * (CLASS_COUNT + 1));
	assert_int_equal(counts_keyed(&sum), 2 * (1 + 2 + 3 + 4));
}

static void
test_counts_empty_drops(void **state)
{
	struct counts *c;

	(void)state;
	c = counts_new();
	counts_reset(c, 0, 60);
	assert_true(counts_empty(c));
	/* Drops alone are news: the interval was not quiet, we were blind. */
	c->t.drops = 1;
	assert_false(counts_empty(c));
	counts_free(c);
	counts_free(NULL);
}

/* What the tally handed out, in order: closed intervals and gaps. */
struct event {
	int gap;
	int64_t start;
	uint32_t len;
	uint64_t n; /* gap: intervals; emit: packets */
	uint64_t late;
	uint64_t tcp445;
	uint64_t unmonitored;
	uint64_t outliers;
};

struct events {
	struct event v[32];
	size_t n;
};

static void
on_emit(struct counts *c, void *arg)
{
	struct events *e = arg;
	struct event *ev;

	assert_true(e->n < NITEMS(e->v));
	ev = &e->v[e->n++];
	memset(ev, 0, sizeof(*ev));
	ev->start = c->start;
	ev->len = c->len;
	ev->n = counts_seen(&c->t);
	ev->late = c->t.late;
	ev->tcp445 = c->key[keyidx(PROTO_TCP, 445)];
	ev->unmonitored = c->t.classes[CLASS_UNMONITORED];
	ev->outliers = c->t.outliers;
}

static void
on_gap(int64_t start, uint64_t n, uint32_t len, void *arg)
{
	struct events *e = arg;
	struct event *ev;

	assert_true(e->n < NITEMS(e->v));
	ev = &e->v[e->n++];
	memset(ev, 0, sizeof(*ev));
	ev->gap = 1;
	ev->start = start;
	ev->n = n;
	ev->len = len;
}

static void
assert_emit(const struct events *e, size_t i, int64_t start, uint64_t n)
{
	assert_true(i < e->n);
	assert_false(e->v[i].gap);
	assert_int_equal(e->v[i].start, start);
	assert_int_equal(e->v[i].n, n);
}

static void
assert_gap(const struct events *e, size_t i, int64_t start, uint64_t n,
    uint32_t len)
{
	assert_true(i < e->n);
	assert_true(e->v[i].gap);
	assert_int_equal(e->v[i].start, start);
	assert_int_equal(e->v[i].n, n);
	assert_int_equal(e->v[i].len, len);
}

/*
 * A tally of len-second intervals, with the outlier rule at max_gap (0:
 * none), whose closed intervals and gaps go to e, emptied first.
 */
static void
tally_start(struct tally *t, struct events *e, uint32_t len, int64_t max_gap)
{
	memset(e, 0, sizeof(*e));
	tally_init(t, len, NULL, on_emit, on_gap, e);
	tally_set_max_gap(t, max_gap);
}

/* One TCP SYN to port 445 at sec. */
static void
packet_at(struct tally *t, int64_t sec)
{
	struct pkt pk = mkpkt(CLASS_TCP, 445, TCPK_SYN);

	tally_packet(t, sec, &pk);
}

static void
packets_at(struct tally *t, const int64_t *secs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		packet_at(t, secs[i]);
}

/* PACKETS(t, sec, ...): one packet at each sec, in order. */
#define PACKETS(t, ...) \
	packets_at((t), (const int64_t[]){__VA_ARGS__}, \
	    NITEMS(((const int64_t[]){__VA_ARGS__})))

static void
test_tally_same_interval(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 0);
	PACKETS(&t, 100, 60, 119);
	assert_int_equal(e.n, 0);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 60, 3);
	assert_int_equal(e.v[0].len, 60);
	assert_int_equal(e.v[0].tcp445, 3);
	assert_int_equal(e.v[0].late, 0);
	/* Finishing twice closes nothing more. */
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	tally_free(&t);
}

static void
test_tally_advance(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 0);
	packet_at(&t, 1000000000); /* interval 999999960 */
	packet_at(&t, 1000000019);
	packet_at(&t, 1000000020); /* interval 1000000020 */
	/* 999999960 stays open for stragglers until packets move on. */
	assert_int_equal(e.n, 0);
	packet_at(&t, 1000000080);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 2);
	packet_at(&t, 1000000139);
	assert_int_equal(e.n, 1);
	tally_finish(&t);
	assert_int_equal(e.n, 3);
	assert_emit(&e, 1, 1000000020, 1);
	assert_emit(&e, 2, 1000000080, 2);
	assert_int_equal(e.v[2].tcp445, 2);
	tally_free(&t);
}

/* Empty intervals between packets go to the gap callback in one call. */
static void
test_tally_gap(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 0);
	packet_at(&t, 10);
	packet_at(&t, 250); /* 60, 120, 180 were empty */
	assert_int_equal(e.n, 2);
	assert_emit(&e, 0, 0, 1);
	assert_gap(&e, 1, 60, 3, 60);
	packet_at(&t, 300); /* next interval: no gap, 240 stays open */
	assert_int_equal(e.n, 2);
	/* Ten years ahead costs one call, not millions. */
	packet_at(&t, 300 + 315360000);
	assert_int_equal(e.n, 5);
	assert_emit(&e, 2, 240, 1);
	assert_emit(&e, 3, 300, 1);
	assert_gap(&e, 4, 360, 315360000 / 60 - 1, 60);
	tally_finish(&t);
	assert_emit(&e, 5, 300 + 315360000, 1);
	tally_free(&t);
}

/* The live loop's timer closes intervals without a packet. */
static void
test_tally_advance_timer(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 300, 0);
	tally_advance(&t, 1234); /* opens 1200 */
	assert_int_equal(e.n, 0);
	assert_int_equal(t.cur->start, 1200);
	tally_advance(&t, 1499); /* still inside */
	assert_int_equal(e.n, 0);
	tally_advance(&t, 1500);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 1200, 0);
	tally_advance(&t, 2450); /* closes 1500; 1800, 2100 empty */
	assert_int_equal(e.n, 3);
	assert_emit(&e, 1, 1500, 0);
	assert_gap(&e, 2, 1800, 2, 300);
	assert_int_equal(t.cur->start, 2400);
	tally_advance(&t, 100); /* the clock stepped back */
	assert_int_equal(e.n, 3);
	assert_int_equal(t.cur->start, 2400);
	tally_free(&t);
}

/* An older timestamp is counted in the open interval and marked late. */
static void
test_tally_late(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 0);
	packet_at(&t, 130); /* opens 120 */
	packet_at(&t, 10); /* late: an interval already gone */
	packet_at(&t, 119); /* late by one second */
	packet_at(&t, 120);
	assert_int_equal(e.n, 0);
	packet_at(&t, 180);
	tally_finish(&t);
	assert_int_equal(e.n, 2);
	assert_emit(&e, 0, 120, 4);
	assert_int_equal(e.v[0].late, 2);
	assert_int_equal(e.v[0].tcp445, 4);
	assert_emit(&e, 1, 180, 1);
	assert_int_equal(e.v[1].late, 0);
	tally_free(&t);
}

/*
 * A packet of the previous interval that arrives after the next one began
 * (a capture merged from two interfaces) still counts in its own interval;
 * one older than that is late.  Impossible timestamps are late too.
 */
static void
test_tally_straggler(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 0);
	PACKETS(&t, 119, 120);
	packet_at(&t, 119); /* straggler of interval 60 */
	packet_at(&t, 59); /* older than any open interval: late */
	PACKETS(&t, INT64_MAX, INT64_MIN);
	tally_finish(&t);
	assert_int_equal(e.n, 2);
	assert_emit(&e, 0, 60, 5);
	assert_int_equal(e.v[0].late, 3);
	assert_emit(&e, 1, 120, 1);
	assert_int_equal(e.v[1].late, 0);
	tally_free(&t);
}

/*
 * One timestamp far ahead among its neighbours is an outlier: no interval
 * opens for it, no gap is reported, and it counts only as an outlier.
 */
static void
test_tally_outlier_ahead(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 86400);
	packet_at(&t, 1000000000); /* interval 999999960 */
	packet_at(&t, 2061000000); /* 2035: held */
	assert_int_equal(e.n, 0);
	packet_at(&t, 1000000001); /* back near the old time: an outlier */
	packet_at(&t, 1000000030); /* next interval as usual */
	tally_finish(&t);
	assert_int_equal(e.n, 2);
	assert_emit(&e, 0, 999999960, 2);
	assert_int_equal(e.v[0].outliers, 1);
	assert_int_equal(e.v[0].tcp445, 2);
	assert_emit(&e, 1, 1000000020, 1);
	assert_int_equal(e.v[1].outliers, 0);
	tally_free(&t);
}

/* A jump that the next packet confirms was real: the gap is reported. */
static void
test_tally_outlier_confirmed(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 3600);
	packet_at(&t, 10);
	packet_at(&t, 11); /* confirms the first packet (test_tally_first) */
	packet_at(&t, 10 + 7200); /* held */
	assert_int_equal(e.n, 0);
	packet_at(&t, 10 + 7205); /* confirms it */
	assert_int_equal(e.n, 2);
	assert_emit(&e, 0, 0, 2);
	assert_gap(&e, 1, 60, 7200 / 60 - 1, 60);
	tally_finish(&t);
	assert_int_equal(e.n, 3);
	assert_emit(&e, 2, 7200, 2);
	assert_int_equal(e.v[2].outliers, 0);
	/* Within the gap, a jump is not even a suspect. */
	memset(&e, 0, sizeof(e));
	PACKETS(&t, 10, 10 + 3600);
	assert_int_equal(e.n, 2);
	tally_finish(&t);
	tally_free(&t);
}

/*
 * A timestamp far behind is an outlier too, not a late packet; a held
 * suspect with nothing after it is one; an outlier after an outlier.
 */
static void
test_tally_outlier_behind(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 86400);
	packet_at(&t, 1000000000);
	packet_at(&t, 1000000000); /* confirms the first packet */
	packet_at(&t, 0); /* 1970 */
	packet_at(&t, 2061000000); /* decides 1970, and is held itself */
	packet_at(&t, 1000000001); /* decides 2035 */
	packet_at(&t, 1000000002);
	packet_at(&t, 2061000000); /* the last packet: never confirmed */
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 4);
	assert_int_equal(e.v[0].late, 0);
	assert_int_equal(e.v[0].outliers, 3);
	tally_free(&t);
}

/*
 * A jump far back that the next packet confirms (captures concatenated
 * out of order) starts counting again there, instead of making every
 * later packet late.
 */
static void
test_tally_outlier_back_confirmed(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 86400);
	PACKETS(&t, 2061000000, 2061000001);
	packet_at(&t, 1000000000); /* held */
	assert_int_equal(e.n, 0);
	packet_at(&t, 1000000001);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 2061000000 / 60 * 60, 2);
	packet_at(&t, 1000000070);
	tally_finish(&t);
	assert_int_equal(e.n, 3);
	assert_emit(&e, 1, 999999960, 2);
	assert_int_equal(e.v[1].late, 0);
	assert_int_equal(e.v[1].outliers, 0);
	assert_emit(&e, 2, 1000000020, 1);
	tally_free(&t);
}

/*
 * Before any interval is open there is nothing to measure a packet
 * against: a first packet far from the ones after it (years ahead or
 * behind) is an outlier, and opens nothing.
 */
static void
test_tally_first(void **state)
{
	static const int64_t strays[] = {2061000000, 31536000, 0, -1000000000};
	struct tally t;
	struct events e;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(strays); i++) {
		tally_start(&t, &e, 60, 86400);
		PACKETS(&t, strays[i], 1000000000);
		assert_int_equal(e.n, 0);
		packet_at(&t, 1000000001); /* the first was an outlier */
		packet_at(&t, 1000000030); /* 999999960 stays open */
		assert_int_equal(e.n, 0);
		tally_finish(&t);
		assert_int_equal(e.n, 2);
		assert_emit(&e, 0, 999999960, 2);
		assert_int_equal(e.v[0].outliers, 1);
		assert_int_equal(e.v[0].late, 0);
		assert_emit(&e, 1, 1000000020, 1);
		assert_int_equal(e.v[1].outliers, 0);
		tally_free(&t);
	}

	/* A stray second packet: the first opens, the stray is an outlier. */
	tally_start(&t, &e, 60, 86400);
	PACKETS(&t, 1000000000, 2061000000, 1000000001);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 2);
	assert_int_equal(e.v[0].outliers, 1);
	tally_free(&t);

	/* Two strays, then the real time: both are outliers. */
	tally_start(&t, &e, 60, 86400);
	PACKETS(&t, 31536000, 2061000000, 1000000000);
	assert_int_equal(e.n, 0);
	packet_at(&t, 1000000001);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 2);
	assert_int_equal(e.v[0].outliers, 2);
	tally_free(&t);

	/*
	 * The first two packets at the same far time, the capture going on
	 * there: followed, nothing is an outlier.
	 */
	tally_start(&t, &e, 60, 86400);
	PACKETS(&t, 2061000000, 2061000000, 2061000070);
	tally_finish(&t);
	assert_int_equal(e.n, 2);
	assert_emit(&e, 0, 2061000000 / 60 * 60, 2);
	assert_int_equal(e.v[0].outliers, 0);
	assert_emit(&e, 1, 2061000060, 1);
	tally_free(&t);

	/*
	 * A third packet within the gap of both held ones loses nothing:
	 * the first opens, the second is confirmed by the third.
	 */
	tally_start(&t, &e, 60, 3600);
	PACKETS(&t, 0, 4000, 2000);
	tally_finish(&t);
	assert_int_equal(e.n, 3);
	assert_emit(&e, 0, 0, 1);
	assert_gap(&e, 1, 60, 3960 / 60 - 1, 60);
	assert_emit(&e, 2, 3960, 2);
	assert_int_equal(e.v[2].late, 1);
	assert_int_equal(e.v[2].outliers, 0);
	tally_free(&t);

	/*
	 * With nothing after it, a single packet is counted; of two far
	 * apart, the first, and the last one is an outlier.
	 */
	tally_start(&t, &e, 60, 86400);
	packet_at(&t, 2061000000);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 2061000000 / 60 * 60, 1);
	assert_int_equal(e.v[0].outliers, 0);
	memset(&e, 0, sizeof(e));
	PACKETS(&t, 1000000000, 2061000000);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 1);
	assert_int_equal(e.v[0].outliers, 1);
	tally_free(&t);

	/* An impossible timestamp decides nothing: as at the end, then late. */
	tally_start(&t, &e, 60, 86400);
	PACKETS(&t, 1000000000, INT64_MAX, 1000000001);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 3);
	assert_int_equal(e.v[0].late, 1);
	tally_free(&t);

	/* Without the outlier rule the first packet opens at once. */
	tally_start(&t, &e, 60, 0);
	PACKETS(&t, 2061000000, 1000000000);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 2061000000 / 60 * 60, 2);
	assert_int_equal(e.v[0].late, 1);
	tally_free(&t);
}

/*
 * A clock reading decides held first packets: those far from it are
 * outliers and the interval of the clock opens; one near it opens.  Live,
 * the intervals open on the clock before any packet, so a stray first
 * packet is an ordinary suspect, decided on the next tick, and the
 * interval closes on time.
 */
static void
test_tally_first_clock(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 86400);
	PACKETS(&t, 2061000000, 31536000);
	tally_advance(&t, 1000000000);
	assert_int_equal(e.n, 0);
	assert_int_equal(t.cur->start, 999999960);
	tally_advance(&t, 1000000020);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 0);
	assert_int_equal(e.v[0].outliers, 2);
	tally_free(&t);

	tally_start(&t, &e, 60, 86400);
	PACKETS(&t, 2061000000, 1000000000);
	assert_int_equal(tally_tick(&t, 1000000003, 2), 0);
	assert_int_equal(t.cur->start, 999999960);
	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 1);
	assert_int_equal(e.v[0].outliers, 1);
	tally_free(&t);

	/* Live: open on the clock, a first packet years ahead or behind. */
	tally_start(&t, &e, 60, 86400);
	tally_begin(&t, 1000000000);
	packet_at(&t, 2061000000);
	assert_int_equal(tally_tick(&t, 1000000001, 2), 0);
	PACKETS(&t, 31536000, 1000000002);
	assert_int_equal(e.n, 0);
	assert_int_equal(tally_tick(&t, 1000000022, 2), 0);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 999999960, 1);
	assert_int_equal(e.v[0].outliers, 2);
	tally_finish(&t);
	tally_free(&t);
}

/*
 * The live timer: a wall clock set back by hours restarts the intervals
 * at once instead of waiting for the clock to catch up; a held suspect is
 * decided by the clock.
 */
static void
test_tally_tick(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 86400);
	tally_begin(&t, 100000);
	assert_int_equal(tally_tick(&t, 100001, 2), 0);
	packet_at(&t, 100010);
	assert_int_equal(tally_tick(&t, 100081, 2), 0); /* 99960 closes */
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 99960, 1);
	/* A clock a moment behind the open interval (coarse) is no step. */
	assert_int_equal(tally_tick(&t, 100019, 2), 0);
	assert_int_equal(e.n, 1);
	/* Three hours back: close what is open, restart at now. */
	assert_int_equal(tally_tick(&t, 100081 - 10800, 2), 1);
	assert_int_equal(e.n, 2);
	assert_emit(&e, 1, 100020, 0);
	assert_int_equal(t.cur->start, 89280);
	packet_at(&t, 89285);
	assert_int_equal(tally_tick(&t, 89342, 2), 0);
	assert_int_equal(e.n, 3);
	assert_emit(&e, 2, 89280, 1);
	/* A suspect decided by the clock: stray, then confirmed. */
	packet_at(&t, 89345 + 200000);
	assert_int_equal(tally_tick(&t, 89346, 2), 0);
	assert_int_equal(t.cur->start, 89340);
	packet_at(&t, 89347 + 200000);
	assert_int_equal(tally_tick(&t, 89348 + 200000, 2), 0);
	assert_int_equal(t.cur->start, interval_start(89347 + 200000, 60));
	tally_finish(&t);
	/* 89340 (one outlier), the gap, the new interval with its packet. */
	assert_int_equal(e.n, 6);
	assert_emit(&e, 3, 89340, 0);
	assert_int_equal(e.v[3].outliers, 1);
	assert_true(e.v[4].gap);
	assert_emit(&e, 5, interval_start(89347 + 200000, 60), 1);
	tally_free(&t);
}

static void
test_interval_start(void **state)
{
	(void)state;
	assert_int_equal(interval_start(0, 60), 0);
	assert_int_equal(interval_start(59, 60), 0);
	assert_int_equal(interval_start(60, 60), 60);
	assert_int_equal(interval_start(1000000019, 60), 999999960);
	assert_int_equal(interval_start(-1, 60), -60);
	assert_int_equal(interval_start(-59, 60), -60);
	assert_int_equal(interval_start(-60, 60), -60);
	assert_int_equal(interval_start(-61, 60), -120);
	assert_int_equal(interval_start(7, 1), 7);
	assert_int_equal(interval_start(-7, 1), -7);
	assert_int_equal(interval_start(86399, 86400), 0);
	assert_int_equal(interval_start(-86400, 86400), -86400);
	assert_int_equal(interval_start(-86401, 86400), -172800);
}

/* Before 1970 intervals still start at floor(sec / len) * len. */
static void
test_tally_negative(void **state)
{
	struct tally t;
	struct events e;

	(void)state;
	tally_start(&t, &e, 60, 0);
	packet_at(&t, -61); /* opens -120 */
	assert_int_equal(t.cur->start, -120);
	packet_at(&t, -60); /* opens -60 */
	packet_at(&t, -1);
	packet_at(&t, 0); /* opens 0 */
	packet_at(&t, 150); /* opens 120 after an empty 60 */
	tally_finish(&t);
	assert_int_equal(e.n, 5);
	assert_emit(&e, 0, -120, 1);
	assert_emit(&e, 1, -60, 2);
	assert_emit(&e, 2, 0, 1);
	assert_gap(&e, 3, 60, 1, 60);
	assert_emit(&e, 4, 120, 1);
	tally_free(&t);

	tally_start(&t, &e, 60, 0);
	packet_at(&t, -1);
	packet_at(&t, -301); /* late */
	packet_at(&t, 59); /* opens 0 */
	tally_finish(&t);
	assert_int_equal(e.n, 2);
	assert_emit(&e, 0, -60, 2);
	assert_int_equal(e.v[0].late, 1);
	assert_emit(&e, 1, 0, 1);
	tally_free(&t);
}

/*
 * With a monitored list, a packet to any other address is counted as
 * unmonitored and under no key; packets without an address are left as
 * they are.
 */
static void
test_tally_monitored(void **state)
{
	struct prefixes *ps;
	struct tally t;
	struct events e;
	struct pkt pk;
	char err[128];

	(void)state;
	ps = prefixes_new();
	assert_int_equal(prefixes_add(ps, "192.0.2.0/24", err, sizeof(err)), 0);
	assert_int_equal(prefixes_add(ps, "2001:db8::/32", err, sizeof(err)),
	    0);
	memset(&e, 0, sizeof(e));
	tally_init(&t, 60, ps, on_emit, on_gap, &e);

	pk = mkpkt_to(CLASS_TCP, 445, 4, addr4_in);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_TCP);
	pk = mkpkt_to(CLASS_TCP, 445, 4, addr4_out);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_UNMONITORED);
	pk = mkpkt_to(CLASS_TCP, 445, 6, addr6_in);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_TCP);
	pk = mkpkt_to(CLASS_TCP, 445, 6, addr6_out);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_UNMONITORED);
	/* Fragments and other protocols have a destination too. */
	pk = mkpkt_to(CLASS_FRAGMENT, 0, 4, addr4_out);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_UNMONITORED);
	pk = mkpkt_to(CLASS_OTHER, 0, 6, addr6_in);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_OTHER);
	pk = mkpkt(CLASS_NONIP, 0, TCPK_OTHER);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_NONIP);
	pk = mkpkt(CLASS_MALFORMED, 0, TCPK_OTHER);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_MALFORMED);

	tally_finish(&t);
	assert_int_equal(e.n, 1);
	assert_emit(&e, 0, 0, 8);
	assert_int_equal(e.v[0].tcp445, 2);
	assert_int_equal(e.v[0].unmonitored, 3);
	tally_free(&t);
	prefixes_free(ps);
}

/* The IPv4 bytes of a packet are not matched against IPv6 prefixes. */
static void
test_tally_monitored_family(void **state)
{
	/* 32.1.13.184 is 2001:0db8 read as IPv4. */
	static const uint8_t v4_like_v6[] = {0x20, 0x01, 0x0d, 0xb8};
	struct prefixes *ps;
	struct tally t;
	struct events e;
	struct pkt pk;
	char err[128];

	(void)state;
	ps = prefixes_new();
	assert_int_equal(prefixes_add(ps, "2001:db8::/32", err, sizeof(err)),
	    0);
	memset(&e, 0, sizeof(e));
	tally_init(&t, 60, ps, on_emit, on_gap, &e);
	pk = mkpkt_to(CLASS_UDP, 53, 4, v4_like_v6);
	tally_packet(&t, 0, &pk);
	assert_int_equal(pk.cls, CLASS_UNMONITORED);
	tally_finish(&t);
	tally_free(&t);
	prefixes_free(ps);
}

/* An IPv4 or IPv6 packet from src to dst under a key. */
static struct pkt
mkpkt_from(enum pkt_class cls, unsigned key, int family, const uint8_t *src,
    const uint8_t *dst)
{
	struct pkt pk = mkpkt_to(cls, key, family, dst);

	pk.src = src;
	return pk;
}

static void
addr4(uint8_t a[4], uint32_t v)
{
	a[0] = (uint8_t)(v >> 24);
	a[1] = (uint8_t)(v >> 16);
	a[2] = (uint8_t)(v >> 8);
	a[3] = (uint8_t)v;
}

/* The record's sketches, freed here whether or not record_clear does. */
static void
record_free_sketches(struct record *r)
{
	size_t i;

	for (i = 0; i < r->nentries; i++) {
		hll_free(r->entries[i].src);
		hll_free(r->entries[i].dst);
		r->entries[i].src = r->entries[i].dst = NULL;
	}
	hll_free(r->all_src);
	hll_free(r->all_dst);
	r->all_src = r->all_dst = NULL;
}

/*
 * Small sets are counted exactly; a repeated address counts once; the
 * record gets the sketches, and all_src is the union over the keys.
 */
static void
test_counts_sketches(void **state)
{
	uint8_t fk[FRAME_KEY] = {1}, src[4], dst[4], s6[16];
	struct sketchkey key;
	struct sketch sk;
	struct counts *c;
	struct record r;
	struct pkt pk;
	uint64_t ns, nd;
	uint32_t i;

	(void)state;
	sketchkey_derive(fk, &key);
	sketch_init(&sk, &key, 1u << 30);
	c = counts_new();
	counts_sketches(c, &sk);
	counts_reset(c, 0, 60);
	/* 100 sources scan 3 targets on tcp/445, each three times. */
	for (i = 0; i < 900; i++) {
		addr4(src, 0x0a000000u + i / 9);
		addr4(dst, 0xc0000200u + i % 3);
		pk = mkpkt_from(CLASS_TCP, 445, 4, src, dst);
		counts_add(c, &pk);
	}
	/* Five IPv6 sources on udp/53, one of which also scanned above. */
	memcpy(s6, addr6_in, sizeof(s6));
	for (i = 0; i < 5; i++) {
		s6[15] = (uint8_t)i;
		pk = mkpkt_from(CLASS_UDP, 53, 6, s6, addr6_out);
		counts_add(c, &pk);
	}
	counts_distinct(c, keyidx(PROTO_TCP, 445), &ns, &nd);
	assert_int_equal(ns, 100);
	assert_int_equal(nd, 3);
	counts_distinct(c, keyidx(PROTO_UDP, 53), &ns, &nd);
	assert_int_equal(ns, 5);
	assert_int_equal(nd, 1);
	counts_distinct(c, keyidx(PROTO_UDP, 54), &ns, &nd);
	assert_int_equal(ns, 0);

	record_init(&r);
	counts_to_record(c, &r);
	assert_int_equal(r.sketch_p, HLL_P_DEFAULT);
	assert_memory_equal(r.sketch_keyid, key.id, RECORD_KEYID);
	assert_int_equal(r.nentries, 2);
	assert_int_equal(llround(hll_estimate(r.entries[0].src)), 100);
	assert_int_equal(llround(hll_estimate(r.entries[1].src)), 5);
	assert_int_equal(llround(hll_estimate(r.all_src)), 105);
	assert_int_equal(llround(hll_estimate(r.all_dst)), 4);
	/* Moved, not copied: the counts hold them no more. */
	assert_null(c->src[keyidx(PROTO_TCP, 445)]);
	record_free_sketches(&r);
	record_clear(&r);

	/* The next interval starts empty. */
	counts_reset(c, 60, 60);
	pk = mkpkt_from(CLASS_TCP, 445, 4, src, dst);
	counts_add(c, &pk);
	counts_distinct(c, keyidx(PROTO_TCP, 445), &ns, &nd);
	assert_int_equal(ns, 1);
	assert_int_equal(nd, 1);
	counts_free(c);
	sketch_clear(&sk);
}

/* The built-in key's sketches serve --print only: a version-1 record. */
static void
test_counts_sketches_builtin(void **state)
{
	uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {192, 0, 2, 1};
	struct sketch sk;
	struct counts *c;
	struct record r;
	struct pkt pk;
	uint64_t ns, nd;

	(void)state;
	sketch_init(&sk, NULL, 1u << 30);
	c = counts_new();
	counts_sketches(c, &sk);
	counts_reset(c, 0, 60);
	pk = mkpkt_from(CLASS_ICMP, 8, 4, src, dst);
	counts_add(c, &pk);
	record_init(&r);
	counts_to_record(c, &r);
	assert_int_equal(r.sketch_p, 0);
	assert_null(r.entries[0].src);
	assert_null(r.all_src);
	record_clear(&r);
	counts_distinct(c, keyidx(PROTO_ICMP, 8), &ns, &nd);
	assert_int_equal(ns, 1);
	counts_free(c);
	sketch_clear(&sk);
}

/*
 * Past the budget every sketch of the interval is folded one precision
 * lower, as often as needed; new sketches start there, and the next
 * interval starts at the configured precision again.
 */
static void
test_counts_sketch_fold(void **state)
{
	uint8_t src[4], dst[4] = {192, 0, 2, 1};
	struct sketch sk;
	struct counts *c;
	struct pkt pk;
	uint64_t ns, nd;
	uint32_t i, k;

	(void)state;
	/* 20 dense sketches of 16 KiB do not fit in 200,000 bytes. */
	sketch_init(&sk, NULL, 200000);
	c = counts_new();
	counts_sketches(c, &sk);
	counts_reset(c, 0, 60);
	for (k = 0; k < 20; k++)
		for (i = 0; i < 4000; i++) {
			addr4(src, 0x0a000000u + k * 4000 + i);
			pk = mkpkt_from(CLASS_UDP, 1000 + k, 4, src, dst);
			counts_add(c, &pk);
		}
	counts_flush(c);
	assert_true(c->sk_bytes <= 200000);
	assert_int_equal(c->p, 13);
	for (k = 0; k < 20; k++) {
		i = keyidx(PROTO_UDP, (uint16_t)(1000 + k));
		assert_int_equal(hll_precision(c->src[i]), 13);
		assert_int_equal(hll_precision(c->dst[i]), 13);
		counts_distinct(c, i, &ns, &nd);
		/* 1.04 / sqrt(2^13) = 1.15%: 5 standard errors. */
		assert_true(ns > 4000 * 0.94 && ns < 4000 * 1.06);
		assert_int_equal(nd, 1);
	}
	counts_reset(c, 60, 60);
	assert_int_equal(c->p, HLL_P_DEFAULT);
	counts_free(c);
	sketch_clear(&sk);
}

/* The tally keeps the addresses of a packet it holds (tally.h). */
static void
test_tally_held_addresses(void **state)
{
	uint8_t frame[8], dst[4] = {192, 0, 2, 1};
	struct sketch sk;
	struct events e;
	struct tally t;
	struct pkt pk;
	uint64_t ns, nd;

	(void)state;
	sketch_init(&sk, NULL, 1u << 30);
	memset(&e, 0, sizeof(e));
	tally_init(&t, 60, NULL, on_emit, on_gap, &e);
	counts_sketches(t.cur, &sk);
	counts_sketches(t.prev, &sk);
	tally_set_max_gap(&t, 3600);
	/* The first packet is held until the next confirms it. */
	addr4(frame, 0x0a000001u);
	pk = mkpkt_from(CLASS_TCP, 23, 4, frame, dst);
	tally_packet(&t, 10, &pk);
	assert_int_equal(t.nfirst, 1);
	/* Its frame's buffer is reused for the next packet. */
	addr4(frame, 0x0a000002u);
	pk = mkpkt_from(CLASS_TCP, 23, 4, frame, dst);
	tally_packet(&t, 20, &pk);
	assert_true(t.open);
	counts_distinct(t.cur, keyidx(PROTO_TCP, 23), &ns, &nd);
	assert_int_equal(ns, 2);
	assert_int_equal(nd, 1);
	tally_finish(&t);
	tally_free(&t);
	sketch_clear(&sk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_order),
	    cmocka_unit_test(test_counts_classes),
	    cmocka_unit_test(test_counts_reset),
	    cmocka_unit_test(test_counts_reset_touched_only),
	    cmocka_unit_test(test_counts_keyidx),
	    cmocka_unit_test(test_totals_add),
	    cmocka_unit_test(test_counts_empty_drops),
	    cmocka_unit_test(test_counts_sketches),
	    cmocka_unit_test(test_counts_sketches_builtin),
	    cmocka_unit_test(test_counts_sketch_fold),
	    cmocka_unit_test(test_tally_held_addresses),
	    cmocka_unit_test(test_interval_start),
	    cmocka_unit_test(test_tally_same_interval),
	    cmocka_unit_test(test_tally_advance),
	    cmocka_unit_test(test_tally_gap),
	    cmocka_unit_test(test_tally_advance_timer),
	    cmocka_unit_test(test_tally_late),
	    cmocka_unit_test(test_tally_straggler),
	    cmocka_unit_test(test_tally_outlier_ahead),
	    cmocka_unit_test(test_tally_outlier_confirmed),
	    cmocka_unit_test(test_tally_outlier_behind),
	    cmocka_unit_test(test_tally_outlier_back_confirmed),
	    cmocka_unit_test(test_tally_first),
	    cmocka_unit_test(test_tally_first_clock),
	    cmocka_unit_test(test_tally_tick),
	    cmocka_unit_test(test_tally_negative),
	    cmocka_unit_test(test_tally_monitored),
	    cmocka_unit_test(test_tally_monitored_family),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

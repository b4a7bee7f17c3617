/*
 * Unit tests for record: a hand-encoded record decodes to exactly its
 * fields and encodes back to exactly its bytes; records at every bound
 * survive a round trip; and every malformed form is refused with a reason
 * (man/teiten-protocol.7).  Decoded input always sits in a heap buffer of
 * exactly its length, so AddressSanitizer sees any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "interval.h"
#include "keyidx.h"
#include "record.h"
#include "varint.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Sensor "s1", interval 1700000040 + 60 s, 256 addresses; tcp 22:3 and
 * 445:1, udp 53:2, no icmp, icmp6 128:1.  Worked out by hand from the
 * layout in record.c.
 */
static const uint8_t fixture[] = {
    0x01, /* version */
    0x02, 's', '1', /* id */
    0xd0, 0xc4, 0x9f, 0xd5, 0x0c, /* start: zigzag 1700000040 = 3400000080 */
    0x3c, /* length 60 */
    0x80, 0x02, /* 256 addresses */
    0x04, 0x02, 0x00, 0x01, /* tcp 4, udp 2, icmp 0, icmp6 1 */
    0x05, 0x06, 0x07, 0x00, /* fragment, other, nonip, malformed */
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, /* unmonitored, syn, synack, rst, other */
    0x00, 0xac, 0x02, 0x01, /* late 0, drops 300, spool drops 1 */
    0x02, /* tcp: 2 entries */
    0x16, 0x03, /* key 22 (gap 22 after -1): 3 */
    0xa6, 0x03, 0x01, /* key 445 (gap 422): 1 */
    0x01, /* udp: 1 entry */
    0x35, 0x02, /* key 53: 2 */
    0x00, /* icmp: none */
    0x01, /* icmp6: 1 entry */
    0x80, 0x01, 0x01, /* key 128: 1 */
};

static const uint64_t fixture_totals[RT_COUNT] = {4, 2, 0, 1, 5, 6, 7, 0, 9, 10,
    11, 12, 13, 0, 300, 1};

static const struct record_entry fixture_entries[] = {
    {PROTO_TCP, 22, 3, NULL, NULL},
    {PROTO_TCP, 445, 1, NULL, NULL},
    {PROTO_UDP, 53, 2, NULL, NULL},
    {PROTO_ICMP6, 128, 1, NULL, NULL},
};

/* Decode a copy of b in a buffer of exactly n bytes. */
static int
decode_exact(struct record *r, const uint8_t *b, size_t n, const char **why)
{
	uint8_t *copy;
	int rc;

	copy = malloc(n ? n : 1);
	assert_non_null(copy);
	if (n)
		memcpy(copy, b, n);
	*why = NULL;
	rc = record_decode(r, copy, n, why);
	free(copy);
	return rc;
}

/* Encode r into a fresh buffer; the caller frees it. */
static uint8_t *
encode(const struct record *r, size_t *n)
{
	size_t max = record_encoded_max(r);
	uint8_t *buf;

	assert_non_null(buf = malloc(max));
	*n = record_encode(r, buf, max);
	assert_true(*n > 0 && *n <= max);
	return buf;
}

/*
 * Two sketches are the same if both are absent, or if they have the same
 * precision, encoding and estimate.
 */
static void
assert_sketch_equal(const struct hll *a, const struct hll *b)
{
	uint8_t *ea, *eb;
	size_t na, nb;

	if (a == NULL || b == NULL) {
		assert_true(a == NULL && b == NULL);
		return;
	}
	assert_int_equal(hll_precision(a), hll_precision(b));
	assert_int_equal(hll_is_dense(a), hll_is_dense(b));
	assert_true(hll_estimate(a) == hll_estimate(b));
	assert_non_null(ea = malloc(hll_encoded_max(a)));
	assert_non_null(eb = malloc(hll_encoded_max(b)));
	na = hll_encode(a, ea, hll_encoded_max(a));
	nb = hll_encode(b, eb, hll_encoded_max(b));
	assert_true(na > 0);
	assert_int_equal(na, nb);
	assert_memory_equal(ea, eb, na);
	free(ea);
	free(eb);
}

static void
assert_record_equal(const struct record *a, const struct record *b)
{
	size_t i;

	assert_int_equal(a->sketch_p, b->sketch_p);
	assert_memory_equal(a->sketch_keyid, b->sketch_keyid, RECORD_KEYID);
	assert_sketch_equal(a->all_src, b->all_src);
	assert_sketch_equal(a->all_dst, b->all_dst);
	for (i = 0; i < a->nentries && i < b->nentries; i++) {
		assert_sketch_equal(a->entries[i].src, b->entries[i].src);
		assert_sketch_equal(a->entries[i].dst, b->entries[i].dst);
	}
	assert_string_equal(a->sensor, b->sensor);
	assert_true(a->start == b->start);
	assert_int_equal(a->len, b->len);
	assert_true(a->naddrs == b->naddrs);
	assert_memory_equal(a->totals, b->totals, sizeof(a->totals));
	assert_int_equal(a->nentries, b->nentries);
	for (i = 0; i < a->nentries; i++) {
		assert_int_equal(a->entries[i].proto, b->entries[i].proto);
		assert_int_equal(a->entries[i].key, b->entries[i].key);
		assert_true(a->entries[i].packets == b->entries[i].packets);
	}
}

/* Encode, decode and encode again: same fields, same bytes. */
static size_t
round_trip(const struct record *r)
{
	struct record back;
	const char *why;
	uint8_t *b1, *b2;
	size_t n1, n2;

	b1 = encode(r, &n1);
	record_init(&back);
	if (decode_exact(&back, b1, n1, &why) != 0)
		fail_msg("own encoding refused: %s", why);
	assert_record_equal(r, &back);
	b2 = encode(&back, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(b1, b2, n1);
	record_clear(&back);
	free(b1);
	free(b2);
	return n1;
}

/* Set the keyed totals from the entries. */
static void
sum_totals(struct record *r)
{
	size_t i;
	int p;

	for (p = 0; p < PROTO_COUNT; p++)
		r->totals[p] = 0;
	for (i = 0; i < r->nentries; i++)
		r->totals[r->entries[i].proto] += r->entries[i].packets;
}

static void
fixture_record(struct record *r)
{
	size_t i;

	record_init(r);
	strcpy(r->sensor, "s1");
	r->start = 1700000040;
	r->len = 60;
	r->naddrs = 256;
	memcpy(r->totals, fixture_totals, sizeof(r->totals));
	for (i = 0; i < NITEMS(fixture_entries); i++)
		record_add(r, fixture_entries[i].proto, fixture_entries[i].key,
		    fixture_entries[i].packets);
}

static void
test_fixture_decode(void **state)
{
	struct record r;
	const char *why;
	size_t i;
	int pass;

	(void)state;
	record_init(&r);
	/* Twice into the same record: the old entries are replaced. */
	for (pass = 0; pass < 2; pass++) {
		if (decode_exact(&r, fixture, sizeof(fixture), &why) != 0)
			fail_msg("fixture refused: %s", why);
		assert_string_equal(r.sensor, "s1");
		assert_true(r.start == 1700000040);
		assert_int_equal(r.len, 60);
		assert_true(r.naddrs == 256);
		assert_memory_equal(r.totals, fixture_totals,
		    sizeof(fixture_totals));
		assert_int_equal(r.nentries, NITEMS(fixture_entries));
		for (i = 0; i < NITEMS(fixture_entries); i++) {
			assert_int_equal(r.entries[i].proto,
			    fixture_entries[i].proto);
			assert_int_equal(r.entries[i].key,
			    fixture_entries[i].key);
			assert_true(
			    r.entries[i].packets == fixture_entries[i].packets);
		}
	}
	record_clear(&r);
}

static void
test_fixture_encode(void **state)
{
	struct record r;
	uint8_t *buf;
	size_t n;

	(void)state;
	fixture_record(&r);
	buf = encode(&r, &n);
	assert_int_equal(n, sizeof(fixture));
	assert_memory_equal(buf, fixture, n);
	free(buf);
	record_clear(&r);
}

static void
test_encode_small_buffer(void **state)
{
	struct record r;
	uint8_t *buf;
	size_t max;

	(void)state;
	fixture_record(&r);
	max = record_encoded_max(&r);
	assert_true(max >= sizeof(fixture));
	assert_non_null(buf = malloc(max));
	assert_int_equal(record_encode(&r, buf, max - 1), 0);
	assert_int_equal(record_encode(&r, buf, 0), 0);
	free(buf);
	record_clear(&r);
}

static void
test_round_trip_empty(void **state)
{
	struct record r;
	size_t n;

	(void)state;
	record_init(&r);
	strcpy(r.sensor, "x");
	r.start = 0;
	r.len = 1;
	n = round_trip(&r);
	/* version, id, start, length, addresses, 16 totals, 4 counts */
	assert_int_equal(n, 2 + 1 + 3 + RT_COUNT + PROTO_COUNT);
	record_clear(&r);
}

static void
test_round_trip_bounds(void **state)
{
	static const struct {
		int64_t start;
		uint32_t len;
	} iv[] = {
	    {-3600, 60},
	    {-60, 60},
	    {-86400, INTERVAL_MAX},
	    {86400 * 20000, INTERVAL_MAX},
	    {1700006400, INTERVAL_MAX},
	    /* Starts are kept within +-2^40 s (interval.h). */
	    {((int64_t)1 << 40) - 1, 1},
	    {-((int64_t)1 << 40) + 1, 1},
	    {((int64_t)1 << 40) - 16, 60},
	    {-((int64_t)1 << 40) + 16, 60},
	    {-((int64_t)1 << 40) + 64, 64},
	};
	struct record r;
	uint64_t sum;
	size_t i;
	int t;

	(void)state;
	for (i = 0; i < NITEMS(iv); i++) {
		fixture_record(&r);
		r.start = iv[i].start;
		r.len = iv[i].len;
		r.naddrs = UINT64_MAX;
		/* The largest total that keeps their sum in 64 bits. */
		r.totals[RT_SPOOL_DROPS] = 0;
		for (t = 0, sum = 0; t < RT_COUNT; t++)
			sum += r.totals[t];
		r.totals[RT_SPOOL_DROPS] = UINT64_MAX - sum;
		round_trip(&r);
		record_clear(&r);
	}
	fixture_record(&r);
	memset(r.sensor, 'a', RECORD_ID_MAX);
	r.sensor[RECORD_ID_MAX] = '\0';
	round_trip(&r);
	strcpy(r.sensor, "aZ09._-");
	round_trip(&r);
	record_clear(&r);
}

/* Every key of every protocol: the largest record there is. */
static void
test_round_trip_every_key(void **state)
{
	struct record r;
	size_t n;
	unsigned k;
	int p, big;

	(void)state;
	for (big = 0; big < 2; big++) {
		record_init(&r);
		strcpy(r.sensor, "everything");
		r.start = 1700000040;
		r.len = 60;
		for (p = 0; p < PROTO_COUNT; p++)
			for (k = 0; k < proto_nkeys(p); k++)
				record_add(&r, p, (uint16_t)k,
				    big ? UINT64_MAX / KEYIDX_COUNT
					: k % 1000 + 1);
		sum_totals(&r);
		assert_int_equal(r.nentries, KEYIDX_COUNT);
		n = round_trip(&r);
		printf("every key, %s counts: %zu bytes\n",
		    big ? "largest" : "small", n);
		/* A gap of 0 is one byte; counts to 1000 take one or two. */
		if (!big)
			assert_true(n <= 3 * (size_t)KEYIDX_COUNT + 200);
		/* The largest possible record still fits in a frame. */
		assert_true(n <= FRAME_MAX_PAYLOAD);
		assert_true(record_encoded_max(&r) <= FRAME_MAX_PAYLOAD);
		record_clear(&r);
	}
}

/* A deterministic generator, so that failures repeat. */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* 2,000 keys with Zipf-like counts: a busy but ordinary interval. */
static void
typical_record(struct record *r)
{
	static const unsigned per[PROTO_COUNT] = {1400, 500, 40, 60};
	static uint8_t seen[65536];
	uint32_t s = 1;
	unsigned k, got;
	int p;

	record_init(r);
	strcpy(r->sensor, "tokyo-1");
	r->start = 1700000040;
	r->len = 60;
	r->naddrs = 65536;
	for (p = 0; p < PROTO_COUNT; p++) {
		memset(seen, 0, sizeof(seen));
		for (got = 0; got < per[p]; got++) {
			do
				k = lcg(&s) % proto_nkeys(p);
			while (seen[k]);
			seen[k] = 1;
		}
		for (k = 0; k < proto_nkeys(p); k++)
			if (seen[k])
				record_add(r, p, (uint16_t)k,
				    1 + 100000 / (1 + lcg(&s) % 2000));
	}
	sum_totals(r);
}

static void
test_typical_size(void **state)
{
	struct record r;
	size_t n;

	(void)state;
	typical_record(&r);
	assert_int_equal(r.nentries, 2000);
	n = round_trip(&r);
	printf("typical record, 2000 keys: %zu bytes\n", n);
	assert_true(n < 8192);
	record_clear(&r);
}

static void
test_valid_id(void **state)
{
	static const char *good[] = {"a", "s1", "tokyo-1", "aZ09._-", "-", "..",
	    ("0123456789012345678901234567890123456789012345678901234567"
	     "890123")};
	static const char *bad[] = {"", "a b", " a", "a/b", "a:b", "a\n",
	    "a\tb", "caf\xc3\xa9", "a+b", "a@b", "a,b", "\x7f",
	    ("0123456789012345678901234567890123456789012345678901234567"
	     "8901234")};
	size_t i;

	(void)state;
	assert_int_equal(strlen(good[NITEMS(good) - 1]), RECORD_ID_MAX);
	assert_int_equal(strlen(bad[NITEMS(bad) - 1]), RECORD_ID_MAX + 1);
	for (i = 0; i < NITEMS(good); i++)
		if (!record_valid_id(good[i]))
			fail_msg("\"%s\" refused", good[i]);
	for (i = 0; i < NITEMS(bad); i++)
		if (record_valid_id(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
}

/*
 * A record built field by field: the header from the fields given, with
 * the totals past icmp6 zero, then the entry lists as raw bytes.
 */
struct built {
	const char *what;
	const char *why; /* part of the reason, or NULL if accepted */
	uint8_t version;
	const char *id;
	uint8_t idlen;
	uint64_t zstart; /* already zigzag-encoded */
	uint64_t len;
	uint64_t keyed[PROTO_COUNT];
	size_t ntail;
	uint8_t tail[48];
};

#define ZS 3400000080u /* zigzag(1700000040) */
#define ID65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
/* The entry lists, with their length. */
#define TAIL(...) \
	sizeof((const uint8_t[]){__VA_ARGS__}), \
	{ \
		__VA_ARGS__ \
	}
/* No entries of any protocol. */
#define NONE TAIL(0x00, 0x00, 0x00, 0x00)
#define MAX9 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

static size_t
build(const struct built *c, uint8_t *b)
{
	size_t n = 0;
	int t;

	b[n++] = c->version;
	b[n++] = c->idlen;
	memcpy(b + n, c->id, c->idlen);
	n += c->idlen;
	n += varint_put(b + n, c->zstart);
	n += varint_put(b + n, c->len);
	n += varint_put(b + n, 0);
	for (t = 0; t < RT_COUNT; t++)
		n += varint_put(b + n, t < PROTO_COUNT ? c->keyed[t] : 0);
	memcpy(b + n, c->tail, c->ntail);
	return n + c->ntail;
}

/* Runs every case and reports each failure before failing the test. */
static void
check_built(const struct built *cases, size_t ncases)
{
	uint8_t b[256], *again;
	struct record r;
	const char *why;
	size_t i, n, m;
	int rc, bad = 0;

	for (i = 0; i < ncases; i++) {
		n = build(&cases[i], b);
		record_init(&r);
		rc = decode_exact(&r, b, n, &why);
		if (cases[i].why == NULL && rc != 0) {
			print_error("%s: refused: %s\n", cases[i].what, why);
			bad++;
		} else if (cases[i].why == NULL) {
			/* Accepted means canonical: the same bytes back. */
			again = encode(&r, &m);
			if (m != n || memcmp(again, b, n) != 0) {
				print_error("%s: encodes differently\n",
				    cases[i].what);
				bad++;
			}
			free(again);
		} else if (rc != -1) {
			print_error("%s: accepted\n", cases[i].what);
			bad++;
		} else if (why == NULL || strstr(why, cases[i].why) == NULL) {
			print_error("%s: reason \"%s\", want \"%s\"\n",
			    cases[i].what, why ? why : "(none)", cases[i].why);
			bad++;
		}
		record_clear(&r);
	}
	if (bad)
		fail_msg("%d of %zu cases failed", bad, ncases);
}

static void
test_key_bounds(void **state)
{
	const struct built cases[] = {
	    {"tcp key 65535", NULL, 1, "s1", 2, ZS, 60, {1, 0, 0, 0},
		TAIL(0x01, 0xff, 0xff, 0x03, 0x01, 0x00, 0x00, 0x00)},
	    {"tcp key 65536", "key", 1, "s1", 2, ZS, 60, {1, 0, 0, 0},
		TAIL(0x01, 0x80, 0x80, 0x04, 0x01, 0x00, 0x00, 0x00)},
	    {"udp key 65535", NULL, 1, "s1", 2, ZS, 60, {0, 1, 0, 0},
		TAIL(0x00, 0x01, 0xff, 0xff, 0x03, 0x01, 0x00, 0x00)},
	    {"udp key 65536", "key", 1, "s1", 2, ZS, 60, {0, 1, 0, 0},
		TAIL(0x00, 0x01, 0x80, 0x80, 0x04, 0x01, 0x00, 0x00)},
	    {"icmp key 255", NULL, 1, "s1", 2, ZS, 60, {0, 0, 1, 0},
		TAIL(0x00, 0x00, 0x01, 0xff, 0x01, 0x01, 0x00)},
	    {"icmp key 256", "key", 1, "s1", 2, ZS, 60, {0, 0, 1, 0},
		TAIL(0x00, 0x00, 0x01, 0x80, 0x02, 0x01, 0x00)},
	    {"icmp6 key 255", NULL, 1, "s1", 2, ZS, 60, {0, 0, 0, 1},
		TAIL(0x00, 0x00, 0x00, 0x01, 0xff, 0x01, 0x01)},
	    {"icmp6 key 256", "key", 1, "s1", 2, ZS, 60, {0, 0, 0, 1},
		TAIL(0x00, 0x00, 0x00, 0x01, 0x80, 0x02, 0x01)},
	    /* 65000, then a gap of 534 or 535 after it. */
	    {"tcp keys 65000, 65535", NULL, 1, "s1", 2, ZS, 60, {2, 0, 0, 0},
		TAIL(0x02, 0xe8, 0xfb, 0x03, 0x01, 0x96, 0x04, 0x01, 0x00, 0x00,
		    0x00)},
	    {"tcp keys 65000, 65536", "key", 1, "s1", 2, ZS, 60, {2, 0, 0, 0},
		TAIL(0x02, 0xe8, 0xfb, 0x03, 0x01, 0x97, 0x04, 0x01, 0x00, 0x00,
		    0x00)},
	    /* 100, then a gap of 155: 256. */
	    {"icmp keys 100, 256", "key", 1, "s1", 2, ZS, 60, {0, 0, 2, 0},
		TAIL(0x00, 0x00, 0x02, 0x64, 0x01, 0x9b, 0x01, 0x01, 0x00)},
	    {"tcp gap 2^64-1", "key", 1, "s1", 2, ZS, 60, {1, 0, 0, 0},
		TAIL(0x01, MAX9, 0x01, 0x01, 0x00, 0x00, 0x00)},
	    {"tcp gap 2^63", "key", 1, "s1", 2, ZS, 60, {1, 0, 0, 0},
		TAIL(0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x01, 0x01, 0x00, 0x00, 0x00)},
	    /* Keys 0 and 1 of every protocol, next to each other. */
	    {"adjacent keys", NULL, 1, "s1", 2, ZS, 60, {2, 2, 2, 2},
		TAIL(0x02, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
		    0x02, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x01, 0x00,
		    0x01)},
	};

	(void)state;
	check_built(cases, NITEMS(cases));
}

static void
test_malformed(void **state)
{
	const struct built cases[] = {
	    {"version 0", "version", 0, "s1", 2, ZS, 60, {0}, NONE},
	    {"version 3", "version", 3, "s1", 2, ZS, 60, {0}, NONE},
	    {"version 255", "version", 255, "s1", 2, ZS, 60, {0}, NONE},
	    {"id length 0", "id length", 1, "", 0, ZS, 60, {0}, NONE},
	    {"id length 65", "id length", 1, ID65, 65, ZS, 60, {0}, NONE},
	    {"id with a space", "sensor id", 1, "s 1", 3, ZS, 60, {0}, NONE},
	    {"id with a slash", "sensor id", 1, "../x", 4, ZS, 60, {0}, NONE},
	    {"id with a colon", "sensor id", 1, "a:b", 3, ZS, 60, {0}, NONE},
	    {"id with a newline", "sensor id", 1, "a\n", 2, ZS, 60, {0}, NONE},
	    {"id with a high byte", "sensor id", 1, "\xc3\xa9", 2, ZS, 60, {0},
		NONE},
	    {"id of one NUL", "sensor id", 1, "\0", 1, ZS, 60, {0}, NONE},
	    /* The decoded id would read "s1", and encode with length 2. */
	    {"id with a NUL inside", "sensor id", 1, "s1\0", 3, ZS, 60, {0},
		NONE},
	    {"length 0", "interval length", 1, "s1", 2, 0, 0, {0}, NONE},
	    {"length 86401", "interval length", 1, "s1", 2, 0, 86401, {0},
		NONE},
	    {"length 2^32 + 60", "interval length", 1, "s1", 2, 0,
		((uint64_t)1 << 32) + 60, {0}, NONE},
	    {"length 2^64-1", "interval length", 1, "s1", 2, 0, UINT64_MAX, {0},
		NONE},
	    {"start 1700000041", "multiple", 1, "s1", 2, ZS + 2, 60, {0}, NONE},
	    {"start -30", "multiple", 1, "s1", 2, 59, 60, {0}, NONE},
	    {"start 86400 of 86399", "multiple", 1, "s1", 2, 172800, 86399, {0},
		NONE},
	    /* Beyond +-2^40 s, where no capture time can be. */
	    {"start 2^40", "interval start", 1, "s1", 2, (uint64_t)1 << 41, 1,
		{0}, NONE},
	    {"start -2^40", "interval start", 1, "s1", 2,
		((uint64_t)1 << 41) - 1, 1, {0}, NONE},
	    {"start INT64_MAX", "interval start", 1, "s1", 2, UINT64_MAX - 1,
		60, {0}, NONE},
	    /* floor(INT64_MIN / 60) * 60 is below INT64_MIN. */
	    {"start INT64_MIN", "interval start", 1, "s1", 2, UINT64_MAX, 60,
		{0}, NONE},
	    {"start INT64_MIN of 7", "interval start", 1, "s1", 2, UINT64_MAX,
		7, {0}, NONE},
	    {"start INT64_MIN + 2 of 7", "interval start", 1, "s1", 2,
		UINT64_MAX - 4, 7, {0}, NONE},
	    {"tcp count 65537", "entry count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x81, 0x80, 0x04, 0x00, 0x00, 0x00)},
	    {"tcp count 2^63", "entry count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
		    0x00, 0x00, 0x00)},
	    {"icmp count 257", "entry count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x00, 0x81, 0x02, 0x00)},
	    {"icmp6 count 257", "entry count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x00, 0x00, 0x81, 0x02)},
	    {"tcp count 100 in 7 bytes", "entry count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x64, 0x00, 0x01, 0x00, 0x00, 0x00)},
	    {"udp count 2 in 2 bytes", "entry count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x02, 0x00, 0x01)},
	    {"no icmp6 count", "entry count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x00, 0x00)},
	    {"zero packets", "packet count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x01, 0x16, 0x00, 0x00, 0x00, 0x00)},
	    {"zero packets, second entry", "packet count", 1, "s1", 2, ZS, 60,
		{1, 0, 0, 0},
		TAIL(0x02, 0x16, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00)},
	    {"packet count truncated", "packet count", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x00, 0x00, 0x01, 0x05, 0x80)},
	    {"packet sum overflows", "overflow", 1, "s1", 2, ZS, 60,
		{UINT64_MAX, 0, 0, 0},
		TAIL(0x02, 0x00, MAX9, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00)},
	    /* Each total fits, all of them together do not. */
	    {"tcp and udp totals 2^63 each", "totals overflow", 1, "s1", 2, ZS,
		60, {(uint64_t)1 << 63, (uint64_t)1 << 63, 0, 0},
		TAIL(0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x01, 0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x01, 0x00, 0x00)},
	    {"tcp total too large", "add up", 1, "s1", 2, ZS, 60, {5, 0, 0, 0},
		TAIL(0x01, 0x16, 0x04, 0x00, 0x00, 0x00)},
	    {"tcp total too small", "add up", 1, "s1", 2, ZS, 60, {3, 0, 0, 0},
		TAIL(0x01, 0x16, 0x04, 0x00, 0x00, 0x00)},
	    {"icmp total without entries", "add up", 1, "s1", 2, ZS, 60,
		{0, 0, 1, 0}, NONE},
	    {"icmp6 entry without total", "add up", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x00, 0x00, 0x01, 0x80, 0x01, 0x01)},
	    {"trailing zero byte", "trailing", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x00, 0x00, 0x00, 0x00)},
	    {"trailing record", "trailing", 1, "s1", 2, ZS, 60, {0},
		TAIL(0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 's', '1')},
	};

	(void)state;
	check_built(cases, NITEMS(cases));
}

/* The built records themselves: a good one must be accepted. */
static void
test_built_good(void **state)
{
	const struct built cases[] = {
	    {"empty", NULL, 1, "s1", 2, ZS, 60, {0}, NONE},
	    {"start -60", NULL, 1, "s1", 2, 119, 60, {0}, NONE},
	    {"length 86400", NULL, 1, "s1", 2, 2 * 86400, 86400, {0}, NONE},
	    {"id of 64", NULL, 1, ID65, 64, ZS, 60, {0}, NONE},
	    /* The last multiples of 60 inside +-2^40. */
	    {"start 2^40 - 16", NULL, 1, "s1", 2, ((uint64_t)1 << 41) - 32, 60,
		{0}, NONE},
	    {"start -2^40 + 16", NULL, 1, "s1", 2, ((uint64_t)1 << 41) - 33, 60,
		{0}, NONE},
	};

	(void)state;
	check_built(cases, NITEMS(cases));
}

/* --- Version 2: sketches ------------------------------------------------ */

static const uint8_t test_keyid[RECORD_KEYID] = {0x5e, 0x1f, 0x00, 0xff, 0x01,
    0x80, 0x7f, 0x42};

/* splitmix64: distinct items give distinct, well-spread hashes. */
static uint64_t
item_hash(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A sketch of precision p of the items first .. first + n - 1. */
static struct hll *
sketch_of(unsigned p, uint64_t first, uint64_t n)
{
	struct hll *h = hll_new(p);
	uint64_t i;

	for (i = 0; i < n; i++)
		hll_add(h, item_hash(first + i));
	return h;
}

/*
 * Give r sketches of precision p: entry i sees n[i % nn] sources and half
 * as many targets (one at least), from ranges that overlap between
 * entries; the interval's sketches are their unions.
 */
static void
add_sketches(struct record *r, unsigned p, const uint64_t *n, size_t nn)
{
	struct record_entry *e;
	size_t i;

	r->sketch_p = p;
	memcpy(r->sketch_keyid, test_keyid, RECORD_KEYID);
	r->all_src = hll_new(p);
	r->all_dst = hll_new(p);
	for (i = 0; i < r->nentries; i++) {
		e = &r->entries[i];
		e->src = sketch_of(p, i * 1000, n[i % nn]);
		e->dst = sketch_of(p, ((uint64_t)1 << 40) + i * 7,
		    n[i % nn] / 2 + 1);
		hll_merge(r->all_src, e->src);
		hll_merge(r->all_dst, e->dst);
	}
}

/*
 * Every precision, with sparse and dense sketches: the same fields, bytes
 * and estimates back.  Sparse sketches of a few items count them exactly.
 */
static void
test_v2_round_trip(void **state)
{
	static const unsigned ps[] = {HLL_P_MIN, 5, 10, HLL_P_DEFAULT,
	    HLL_P_MAX};
	struct record r;
	uint8_t *b;
	size_t i, n;

	(void)state;
	for (i = 0; i < NITEMS(ps); i++) {
		const uint64_t sizes[] = {1, 2, 7,
		    4 * HLL_SPARSE_MAX(ps[i]) + 10};

		fixture_record(&r);
		add_sketches(&r, ps[i], sizes, NITEMS(sizes));
		assert_false(hll_is_dense(r.entries[0].src));
		assert_false(hll_is_dense(r.entries[1].src));
		assert_true(hll_is_dense(r.entries[3].src));
		assert_true(fabs(hll_estimate(r.entries[0].src) - 1) < 0.01);
		assert_true(fabs(hll_estimate(r.entries[1].src) - 2) < 0.01);
		b = encode(&r, &n);
		assert_int_equal(b[0], 2);
		free(b);
		n = round_trip(&r);
		printf("fixture with sketches of precision %u: %zu bytes\n",
		    ps[i], n);
		record_clear(&r);
	}
}

/* A record without sketches is written as version 1, as before. */
static void
test_v1_without_sketches(void **state)
{
	struct record r;
	const char *why;
	uint8_t *b;
	size_t n;

	(void)state;
	fixture_record(&r);
	add_sketches(&r, HLL_P_DEFAULT, (const uint64_t[]){3}, 1);
	b = encode(&r, &n);
	/* Decoding version 1 into a record with sketches frees them. */
	assert_int_equal(decode_exact(&r, b, n, &why), 0);
	free(b);
	assert_int_equal(r.sketch_p, HLL_P_DEFAULT);
	assert_int_equal(decode_exact(&r, fixture, sizeof(fixture), &why), 0);
	assert_int_equal(r.sketch_p, 0);
	assert_null(r.all_src);
	assert_null(r.all_dst);
	assert_null(r.entries[0].src);
	assert_null(r.entries[0].dst);
	b = encode(&r, &n);
	assert_int_equal(n, sizeof(fixture));
	assert_memory_equal(b, fixture, n);
	free(b);
	record_clear(&r);
}

/* No entries: the interval's sketches may be empty, or not. */
static void
test_v2_empty_interval(void **state)
{
	struct record r;
	size_t n;

	(void)state;
	record_init(&r);
	strcpy(r.sensor, "x");
	r.start = 0;
	r.len = 1;
	r.sketch_p = HLL_P_MIN;
	r.all_src = hll_new(HLL_P_MIN);
	r.all_dst = hll_new(HLL_P_MIN);
	n = round_trip(&r);
	/* version 1's 25, precision, key id, two sketches of a byte */
	assert_int_equal(n,
	    2 + 1 + 3 + RT_COUNT + PROTO_COUNT + 1 + RECORD_KEYID + 2);
	hll_add(r.all_src, 1);
	round_trip(&r);
	hll_free(r.all_src);
	r.all_src = sketch_of(HLL_P_MIN, 0, 1000);
	assert_true(hll_is_dense(r.all_src));
	round_trip(&r);
	record_clear(&r);
}

/* The busy interval of test_typical_size, with sketches. */
static void
test_v2_typical_size(void **state)
{
	static const uint64_t few[] = {1, 1, 2, 3, 5, 8, 13, 40};
	static const uint64_t some[] = {100, 200, 400};
	struct record r;
	size_t n;

	(void)state;
	typical_record(&r);
	add_sketches(&r, HLL_P_DEFAULT, few, NITEMS(few));
	n = round_trip(&r);
	printf("typical record, 2000 keys, 1 to 40 sources each: %zu bytes\n",
	    n);
	assert_true(n < FRAME_MAX_PAYLOAD);
	record_clear(&r);
	typical_record(&r);
	add_sketches(&r, HLL_P_DEFAULT, some, NITEMS(some));
	n = round_trip(&r);
	printf("typical record, 2000 keys, 100 to 400 sources each: %zu "
	       "bytes\n",
	    n);
	record_clear(&r);
}

/*
 * A version-2 record "s1" at 1700000040, 60 s, with the keyed totals
 * given, up to and with its key id; the caller appends the rest.
 */
static size_t
v2_head(uint8_t *b, unsigned p, uint64_t tcp)
{
	struct built c = {"", NULL, 2, "s1", 2, ZS, 60, {tcp, 0, 0, 0}, 0, {0}};
	size_t n = build(&c, b);

	b[n++] = (uint8_t)p;
	memcpy(b + n, test_keyid, RECORD_KEYID);
	return n + RECORD_KEYID;
}

static size_t
put_sketch(uint8_t *b, const struct hll *h)
{
	size_t n = hll_encode(h, b, hll_encoded_max(h));

	assert_true(n > 0);
	return n;
}

static size_t
put_bytes(uint8_t *b, const uint8_t *raw, size_t n)
{
	memcpy(b, raw, n);
	return n;
}

#define BYTES(...) \
	(const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/*
 * Precision p, the interval's sketches as, ad, then tcp port 22 with
 * packets and sketches s, d as raw bytes (NULL: the sketch of item 0),
 * and extra bytes at the end.
 */
struct v2case {
	const char *what;
	const char *why; /* part of the reason, or NULL if accepted */
	unsigned p;
	const uint8_t *s;
	size_t ns;
	const uint8_t *d;
	size_t nd;
	int empty_all; /* the interval's sketches empty */
	int trailing;
};

static size_t
v2_build(const struct v2case *c, uint8_t *b)
{
	struct hll *one = sketch_of(HLL_P_MIN, 0, 1), *none = hll_new(4);
	size_t n;

	n = v2_head(b, c->p, 1);
	n += put_sketch(b + n, c->empty_all ? none : one);
	n += put_sketch(b + n, c->empty_all ? none : one);
	n += put_bytes(b + n, BYTES(0x01, 0x16, 0x01)); /* tcp 22: 1 */
	n += c->s ? put_bytes(b + n, c->s, c->ns) : put_sketch(b + n, one);
	n += c->d ? put_bytes(b + n, c->d, c->nd) : put_sketch(b + n, one);
	n += put_bytes(b + n, BYTES(0x00, 0x00, 0x00));
	if (c->trailing)
		b[n++] = 0x00;
	hll_free(one);
	hll_free(none);
	return n;
}

/*
 * Sparse words are (index << 6 | rank), index 26 bits, rank 1 to 39; the
 * first as a varint, each next as its gap to the one before less one.
 * 0x41 = index 1 rank 1; 0x3f after it = 0x41 + 0x3f + 1 = index 2 rank 1.
 */
#define SPARSE1 0x02, 0x41 /* one word */
#define DENSE4(...) 0x00, __VA_ARGS__ /* p = 4: 12 bytes of registers */
#define ZERO12 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

static void
test_v2_strict(void **state)
{
	const struct v2case cases[] = {
	    {"good", NULL, 4, NULL, 0, NULL, 0, 0, 0},
	    {"precision 18", NULL, 18, NULL, 0, NULL, 0, 0, 0},
	    {"two sparse words", NULL, 4, BYTES(0x03, 0x41, 0x3f), NULL, 0, 0,
		0},
	    {"dense, register 0 = 1", NULL, 4,
		BYTES(DENSE4(0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), NULL, 0,
		0, 0},
	    /* 65 - p = 61 = 0x3d: the largest rank at p = 4. */
	    {"dense, register 15 = 61", NULL, 4,
		BYTES(DENSE4(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf4)), NULL, 0,
		0, 0},
	    {"precision 0", "precision", 0, NULL, 0, NULL, 0, 0, 0},
	    {"precision 3", "precision", 3, NULL, 0, NULL, 0, 0, 0},
	    {"precision 19", "precision", 19, NULL, 0, NULL, 0, 0, 0},
	    {"precision 255", "precision", 255, NULL, 0, NULL, 0, 0, 0},
	    {"trailing byte", "trailing", 4, NULL, 0, NULL, 0, 0, 1},
	    {"empty src", "empty sketch on an entry", 4, BYTES(0x01), NULL, 0,
		0, 0},
	    {"empty dst", "empty sketch on an entry", 4, NULL, 0, BYTES(0x01),
		0, 0},
	    {"empty dense src", "empty sketch on an entry", 4,
		BYTES(DENSE4(ZERO12)), NULL, 0, 0, 0},
	    {"empty interval sketches", "empty interval sketch", 4, NULL, 0,
		NULL, 0, 1, 0},
	    /*
	     * Gaps make words ascend; the order of indices fails only for
	     * a word of the same index: a gap of 0 after index 1 rank 1
	     * gives index 1 rank 2.
	     */
	    {"sparse index twice", "order", 4, BYTES(0x03, 0x41, 0x00), NULL, 0,
		0, 0},
	    {"sparse rank 0", "word", 4, BYTES(0x02, 0x40), NULL, 0, 0, 0},
	    {"sparse rank 40", "word", 4, BYTES(0x02, 0x68), NULL, 0, 0, 0},
	    {"sparse word past 32 bits", "word", 4,
		BYTES(0x02, 0x81, 0x80, 0x80, 0x80, 0x10), NULL, 0, 0, 0},
	    /* HLL_SPARSE_MAX(4) = 2 words; 3 must be dense. */
	    {"three sparse words at p 4", "too large", 4,
		BYTES(0x04, 0x41, 0x3f, 0x3f), NULL, 0, 0, 0},
	    {"sparse count cut short", "", 4, BYTES(0x03, 0x41), NULL, 0, 0, 0},
	    {"dense register 62", "out of range", 4,
		BYTES(DENSE4(0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), NULL, 0,
		0, 0},
	    {"dense register 15 = 62", "out of range", 4,
		BYTES(DENSE4(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8)), NULL, 0,
		0, 0},
	    {"dense registers cut short", "", 4,
		BYTES(DENSE4(0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), NULL, 0, 0,
		0},
	    {"dense of p 5 in p 4", "", 4, BYTES(DENSE4(0x01, ZERO12, ZERO12)),
		NULL, 0, 0, 0},
	    {"bad sketch varint", "sketch", 4, BYTES(0x80), NULL, 0, 0, 0},
	};
	uint8_t b[512], *again;
	struct record r;
	const char *why;
	size_t i, n, m;
	int rc, bad = 0;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		n = v2_build(&cases[i], b);
		record_init(&r);
		rc = decode_exact(&r, b, n, &why);
		if (cases[i].why == NULL && rc != 0) {
			print_error("%s: refused: %s\n", cases[i].what, why);
			bad++;
		} else if (cases[i].why == NULL) {
			again = encode(&r, &m);
			if (m != n || memcmp(again, b, n) != 0) {
				print_error("%s: encodes differently\n",
				    cases[i].what);
				bad++;
			}
			free(again);
		} else if (rc != -1) {
			print_error("%s: accepted\n", cases[i].what);
			bad++;
		} else if (why == NULL || strstr(why, cases[i].why) == NULL) {
			print_error("%s: reason \"%s\", want \"%s\"\n",
			    cases[i].what, why ? why : "(none)", cases[i].why);
			bad++;
		}
		record_clear(&r);
	}
	if (bad)
		fail_msg("%d of %zu cases failed", bad, NITEMS(cases));
}

/*
 * Totals that are not keyed, hand-encoded: fragment 2^64 - 2 and other 1
 * add up to UINT64_MAX and are accepted; other 2 would make them wrap.
 */
static void
test_totals_overflow(void **state)
{
	uint8_t b[] = {
	    0x01, 0x02, 's', '1', /* version, id */
	    0xd0, 0xc4, 0x9f, 0xd5, 0x0c, 0x3c, 0x00, /* start, 60 s, addrs */
	    0x00, 0x00, 0x00, 0x00, /* tcp udp icmp icmp6 */
	    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
	    0x01, /* fragment 2^64 - 2, other 1 */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, /* nonip ... spooldrops */
	    0x00, 0x00, 0x00, 0x00, /* no entries */
	};
	struct record r;
	const char *why;

	(void)state;
	record_init(&r);
	assert_int_equal(decode_exact(&r, b, sizeof(b), &why), 0);
	assert_true(r.totals[RT_FRAGMENT] == UINT64_MAX - 1);
	assert_true(r.totals[RT_OTHER] == 1);
	b[25] = 0x02; /* other 2: the sum is 2^64 */
	assert_int_equal(decode_exact(&r, b, sizeof(b), &why), -1);
	assert_non_null(strstr(why, "totals overflow"));
	b[25] = 0x01;
	b[35] = 0x01; /* spooldrops 1 instead */
	assert_int_equal(decode_exact(&r, b, sizeof(b), &why), -1);
	assert_non_null(strstr(why, "totals overflow"));
	record_clear(&r);
}

/* Every proper prefix of a good record is refused, and says why. */
static void
check_truncations(const uint8_t *b, size_t n)
{
	struct record r;
	const char *why;
	size_t i;

	record_init(&r);
	for (i = 0; i < n; i++) {
		if (decode_exact(&r, b, i, &why) != -1)
			fail_msg("first %zu of %zu bytes accepted", i, n);
		if (why == NULL)
			fail_msg("first %zu of %zu bytes: no reason", i, n);
	}
	assert_int_equal(decode_exact(&r, b, n, &why), 0);
	record_clear(&r);
}

static void
test_truncated(void **state)
{
	struct record r;
	uint8_t *b;
	size_t n;

	(void)state;
	check_truncations(fixture, sizeof(fixture));
	typical_record(&r);
	b = encode(&r, &n);
	check_truncations(b, n);
	free(b);
	record_clear(&r);
	/* Version 2, with sparse sketches and dense ones of p = 4 and 6. */
	fixture_record(&r);
	add_sketches(&r, HLL_P_MIN, (const uint64_t[]){1, 2, 30}, 3);
	b = encode(&r, &n);
	check_truncations(b, n);
	free(b);
	record_clear(&r);
	fixture_record(&r);
	add_sketches(&r, 6, (const uint64_t[]){1, 8, 100}, 3);
	b = encode(&r, &n);
	check_truncations(b, n);
	free(b);
	record_clear(&r);
}

/* One byte more, or one total changed: only a keyed total must add up. */
static void
test_patched_fixture(void **state)
{
	uint8_t b[sizeof(fixture) + 1];
	struct record r;
	const char *why;

	(void)state;
	memcpy(b, fixture, sizeof(fixture));
	b[sizeof(fixture)] = 0x00;
	record_init(&r);
	assert_int_equal(decode_exact(&r, b, sizeof(b), &why), -1);
	assert_non_null(strstr(why, "trailing"));
	/* tcp total 4 -> 5 */
	memcpy(b, fixture, sizeof(fixture));
	b[12] = 0x05;
	assert_int_equal(decode_exact(&r, b, sizeof(fixture), &why), -1);
	assert_non_null(strstr(why, "add up"));
	/* fragment 5 -> 6: not keyed, still good */
	memcpy(b, fixture, sizeof(fixture));
	b[16] = 0x06;
	assert_int_equal(decode_exact(&r, b, sizeof(fixture), &why), 0);
	assert_true(r.totals[RT_FRAGMENT] == 6);
	record_clear(&r);
}

static void
test_total_names(void **state)
{
	int t, u;

	(void)state;
	assert_string_equal(record_total_name(RT_TCP), "tcp");
	assert_string_equal(record_total_name(RT_SPOOL_DROPS), "spooldrops");
	assert_string_equal(record_total_name(RT_COUNT), "?");
	for (t = 0; t < RT_COUNT; t++)
		for (u = t + 1; u < RT_COUNT; u++)
			assert_string_not_equal(record_total_name(t),
			    record_total_name(u));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture_decode),
	    cmocka_unit_test(test_fixture_encode),
	    cmocka_unit_test(test_encode_small_buffer),
	    cmocka_unit_test(test_round_trip_empty),
	    cmocka_unit_test(test_round_trip_bounds),
	    cmocka_unit_test(test_round_trip_every_key),
	    cmocka_unit_test(test_typical_size),
	    cmocka_unit_test(test_valid_id),
	    cmocka_unit_test(test_built_good),
	    cmocka_unit_test(test_key_bounds),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_totals_overflow),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_patched_fixture),
	    cmocka_unit_test(test_total_names),
	    cmocka_unit_test(test_v2_round_trip),
	    cmocka_unit_test(test_v1_without_sketches),
	    cmocka_unit_test(test_v2_empty_interval),
	    cmocka_unit_test(test_v2_typical_size),
	    cmocka_unit_test(test_v2_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

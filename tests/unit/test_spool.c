/*
 * Unit tests for spool (sensor/spool.h): the full-spool policies.  Every
 * record here is sensor "s1", 60 s, no entries, all totals 0 but the spool
 * drops, which stay below 128: 1 version + 1 id length + 2 id + 5 start
 * (zigzag of 1700000040 and later) + 1 length + 1 addresses + 16 totals +
 * 4 entry counts = 31 bytes.  A put needs room for the record and one
 * varint (10 bytes): 41.  With a limit of 100 bytes, two records fit
 * (31 + 41 = 72) and a third does not (62 + 41 = 103).
 */
#define _XOPEN_SOURCE 700
#include <sys/stat.h>

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "hll.h"
#include "record.h"
#include "spool.h"
#include "tmpdir.h"

#define S ((int64_t)1700000040)
#define LIMIT 100

struct fixture {
	char dir[64];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "spool") == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = tmpdir_remove(f->dir);

	free(f);
	return rc;
}

static struct spool *
open_spool(const struct fixture *f, uint64_t max, enum spool_full policy)
{
	char err[256] = "";
	struct spool *s = spool_open(f->dir, max, policy, err, sizeof(err));

	if (s == NULL)
		fail_msg("spool_open: %s", err);
	return s;
}

/* Store the plain record of start; returns spool_put's verdict. */
static int
put(struct spool *s, int64_t start, uint64_t tcp22, uint64_t udp53, int merge)
{
	struct record r;
	int rc;

	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "s1");
	r.start = start;
	r.len = 60;
	if (tcp22)
		record_add(&r, PROTO_TCP, 22, tcp22);
	if (udp53)
		record_add(&r, PROTO_UDP, 53, udp53);
	r.totals[RT_TCP] = tcp22;
	r.totals[RT_UDP] = udp53;
	rc = spool_put(s, &r, merge, 1);
	record_clear(&r);
	return rc;
}

/* The spooled record of start, decoded. */
static void
get(struct spool *s, int64_t start, struct record *r, size_t *len)
{
	const char *why;
	uint8_t *buf;

	assert_int_equal(spool_read(s, start, &buf, len), 0);
	record_init(r);
	if (record_decode(r, buf, *len, &why) == -1)
		fail_msg("spooled record of %lld: %s", (long long)start, why);
	free(buf);
}

static uint64_t
spool_drops_of(struct spool *s, int64_t start)
{
	struct record r;
	uint64_t n;
	size_t len;

	get(s, start, &r, &len);
	n = r.totals[RT_SPOOL_DROPS];
	record_clear(&r);
	return n;
}

static int
exists(const struct fixture *f, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return access(path, F_OK) == 0;
}

static void
test_size(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, LIMIT, SPOOL_DROP_NEW);
	struct record r;
	size_t len;
	int64_t next;

	assert_int_equal(put(s, S, 0, 0, 0), 1);
	get(s, S, &r, &len);
	assert_int_equal(len, 31);
	assert_string_equal(r.sensor, "s1");
	assert_true(r.start == S);
	record_clear(&r);
	assert_true(exists(f, "1700000040.rec"));
	assert_int_equal(spool_count(s), 1);
	assert_int_equal(spool_next(s, 0, &next), 1);
	assert_true(next == S);
	assert_int_equal(spool_next(s, S, &next), 0);
	spool_free(s);
}

/* Drop-new: the third record is lost and counted in the next stored. */
static void
test_drop_new(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, LIMIT, SPOOL_DROP_NEW);

	assert_int_equal(put(s, S, 0, 0, 0), 1);
	assert_int_equal(put(s, S + 60, 0, 0, 0), 1);
	assert_int_equal(put(s, S + 120, 0, 0, 0), 0);
	assert_int_equal(put(s, S + 180, 0, 0, 0), 0);
	assert_int_equal(spool_count(s), 2);
	assert_int_equal(spool_dropped(s), 2);
	assert_false(exists(f, "1700000160.rec"));
	/* The oldest ones stay untouched. */
	assert_int_equal(spool_drops_of(s, S), 0);
	assert_int_equal(spool_drops_of(s, S + 60), 0);
	/* Acknowledged: room again, and the two losses ride along. */
	assert_int_equal(spool_remove(s, S), 0);
	assert_false(exists(f, "1700000040.rec"));
	assert_int_equal(put(s, S + 240, 0, 0, 0), 1);
	assert_int_equal(spool_drops_of(s, S + 240), 2);
	/* Reported once: the next record carries none. */
	assert_int_equal(spool_remove(s, S + 60), 0);
	assert_int_equal(put(s, S + 300, 0, 0, 0), 1);
	assert_int_equal(spool_drops_of(s, S + 300), 0);
	assert_int_equal(spool_dropped(s), 2);
	spool_free(s);
}

/*
 * Drop-oldest: each new record pushes out the oldest, and carries both
 * that loss and the losses the pushed-out record was carrying.
 */
static void
test_drop_oldest(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, LIMIT, SPOOL_DROP_OLDEST);
	int64_t next;

	assert_int_equal(put(s, S, 0, 0, 0), 1);
	assert_int_equal(put(s, S + 60, 0, 0, 0), 1);
	assert_int_equal(put(s, S + 120, 0, 0, 0), 1); /* S goes */
	assert_false(exists(f, "1700000040.rec"));
	assert_int_equal(spool_count(s), 2);
	assert_int_equal(spool_next(s, 0, &next), 1);
	assert_true(next == S + 60);
	assert_int_equal(spool_drops_of(s, S + 120), 1);
	assert_int_equal(put(s, S + 180, 0, 0, 0), 1); /* S + 60 goes */
	assert_int_equal(spool_drops_of(s, S + 180), 1);
	/* S + 120 goes, and the 1 it carried with it: 2. */
	assert_int_equal(put(s, S + 240, 0, 0, 0), 1);
	assert_int_equal(spool_drops_of(s, S + 240), 2);
	assert_int_equal(spool_count(s), 2);
	assert_int_equal(spool_dropped(s), 3);
	assert_true(exists(f, "1700000220.rec"));
	assert_true(exists(f, "1700000280.rec"));
	spool_free(s);
}

/* Too small for even one record: dropped under either policy. */
static void
test_too_small(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, 40, SPOOL_DROP_OLDEST);

	assert_int_equal(put(s, S, 0, 0, 0), 0);
	assert_int_equal(spool_count(s), 0);
	assert_int_equal(spool_dropped(s), 1);
	spool_free(s);
	s = open_spool(f, 41, SPOOL_DROP_OLDEST);
	assert_int_equal(put(s, S, 0, 0, 0), 1);
	spool_free(s);
}

/* Records set aside count against the limit and go first. */
static void
test_set_aside_first(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, LIMIT, SPOOL_DROP_OLDEST);
	int64_t next;

	assert_int_equal(put(s, S, 0, 0, 0), 1);
	assert_int_equal(put(s, S + 60, 0, 0, 0), 1);
	spool_reject(s, S + 60, "refused");
	assert_true(exists(f, "1700000100.rejected"));
	assert_false(exists(f, "1700000100.rec"));
	assert_int_equal(spool_count(s), 1);
	assert_int_equal(spool_set_aside(s), 1);
	/* Full: the rejected file goes, not the record S. */
	assert_int_equal(put(s, S + 120, 0, 0, 0), 1);
	assert_false(exists(f, "1700000100.rejected"));
	assert_true(exists(f, "1700000040.rec"));
	assert_int_equal(spool_dropped(s), 0);
	assert_int_equal(spool_drops_of(s, S + 120), 0);
	assert_int_equal(spool_next(s, 0, &next), 1);
	assert_true(next == S);
	spool_free(s);

	/* Under drop-new a rejected file holds its room. */
	s = open_spool(f, LIMIT, SPOOL_DROP_NEW);
	spool_reject(s, S, "refused");
	assert_int_equal(put(s, S + 180, 0, 0, 0), 0);
	assert_true(exists(f, "1700000040.rejected"));
	spool_free(s);
}

/* Reopened: records and set-aside files count; temporaries go. */
static void
test_reopen(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, LIMIT, SPOOL_DROP_NEW);
	char path[128], err[256];
	FILE *fp;

	assert_int_equal(put(s, S, 0, 0, 0), 1);
	assert_int_equal(put(s, S + 60, 0, 0, 0), 1);
	/* Locked while open. */
	assert_null(
	    spool_open(f->dir, LIMIT, SPOOL_DROP_NEW, err, sizeof(err)));
	assert_non_null(strstr(err, "in use"));
	spool_free(s);
	snprintf(path, sizeof(path), "%s/1700000160.tmp", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);
	s = open_spool(f, LIMIT, SPOOL_DROP_NEW);
	assert_false(exists(f, "1700000160.tmp"));
	assert_int_equal(spool_count(s), 2);
	/* 62 bytes in it already: no room for a third. */
	assert_int_equal(put(s, S + 120, 0, 0, 0), 0);
	spool_free(s);
}

/* The same interval: merged (a restart) or replaced (a replay). */
static void
test_merge_replace(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, 1000, SPOOL_DROP_NEW);
	struct record r;
	size_t len;

	assert_int_equal(put(s, S, 3, 0, 0), 1);
	assert_int_equal(put(s, S, 2, 1, 1), 1);
	assert_int_equal(spool_count(s), 1);
	get(s, S, &r, &len);
	assert_int_equal(r.nentries, 2);
	assert_int_equal(r.entries[0].proto, PROTO_TCP);
	assert_int_equal(r.entries[0].key, 22);
	assert_int_equal(r.entries[0].packets, 5);
	assert_int_equal(r.entries[1].proto, PROTO_UDP);
	assert_int_equal(r.entries[1].key, 53);
	assert_int_equal(r.entries[1].packets, 1);
	assert_int_equal(r.totals[RT_TCP], 5);
	assert_int_equal(r.totals[RT_UDP], 1);
	record_clear(&r);
	assert_int_equal(put(s, S, 7, 0, 0), 1);
	get(s, S, &r, &len);
	assert_int_equal(r.nentries, 1);
	assert_int_equal(r.entries[0].packets, 7);
	assert_int_equal(r.totals[RT_UDP], 0);
	record_clear(&r);
	spool_free(s);
}

/*
 * Store a record of start with tcp 22: packets, and, if p is not 0,
 * sketches of precision p: sources first .. first + n - 1, one target
 * (the same sets for the interval).
 */
static int
put_sketched(struct spool *s, int64_t start, uint64_t packets, unsigned p,
    uint64_t first, uint64_t n, int merge)
{
	struct record_entry *e;
	struct record r;
	uint64_t i;
	int rc;

	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "s1");
	r.start = start;
	r.len = 60;
	e = record_add(&r, PROTO_TCP, 22, packets);
	r.totals[RT_TCP] = packets;
	if (p != 0) {
		r.sketch_p = p;
		memset(r.sketch_keyid, 0x11, RECORD_KEYID);
		e->src = hll_new(p);
		e->dst = hll_new(p);
		for (i = first; i < first + n; i++)
			hll_add(e->src, i * 0x9e3779b97f4a7c15ull);
		hll_add(e->dst, 1);
		r.all_src = hll_new(p);
		r.all_dst = hll_new(p);
		hll_merge(r.all_src, e->src);
		hll_merge(r.all_dst, e->dst);
	}
	rc = spool_put(s, &r, merge, 1);
	record_clear(&r);
	return rc;
}

/*
 * A restart's record merged with the earlier file: sketches are united
 * at the lower precision, or dropped when either record has none.
 */
static void
test_merge_sketches(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, 1 << 20, SPOOL_DROP_NEW);
	struct record r;
	size_t len;

	/* Sources 0-99 and 50-149: 150 distinct, counted exactly. */
	assert_int_equal(put_sketched(s, S, 3, 14, 0, 100, 0), 1);
	assert_int_equal(put_sketched(s, S, 2, 12, 50, 100, 1), 1);
	get(s, S, &r, &len);
	assert_int_equal(r.sketch_p, 12);
	assert_int_equal(r.nentries, 1);
	assert_int_equal(r.entries[0].packets, 5);
	assert_int_equal(hll_precision(r.entries[0].src), 12);
	assert_true(fabs(hll_estimate(r.entries[0].src) - 150) < 0.5);
	assert_true(fabs(hll_estimate(r.all_src) - 150) < 0.5);
	assert_true(fabs(hll_estimate(r.entries[0].dst) - 1) < 0.5);
	record_clear(&r);
	/* A record without sketches: the sum has none. */
	assert_int_equal(put_sketched(s, S, 1, 0, 0, 0, 1), 1);
	get(s, S, &r, &len);
	assert_int_equal(r.sketch_p, 0);
	assert_int_equal(r.entries[0].packets, 6);
	assert_null(r.entries[0].src);
	assert_null(r.all_src);
	record_clear(&r);
	/* ... nor when the earlier one had none. */
	assert_int_equal(put_sketched(s, S, 1, 14, 0, 10, 1), 1);
	get(s, S, &r, &len);
	assert_int_equal(r.sketch_p, 0);
	assert_int_equal(r.entries[0].packets, 7);
	record_clear(&r);
	spool_free(s);
}

static uint64_t
mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * A live record of keys first..first+n-1, every sketch dense at p = 14
 * (a copy of the one of 20,000 items): 24,591 bytes a key.
 */
static int
put_dense(struct spool *s, unsigned first, unsigned n, int merge)
{
	struct hll *d = hll_new(14);
	struct record_entry *e;
	struct record r;
	unsigned i;
	int rc;

	for (i = 0; i < 20000; i++)
		hll_add(d, mix(i + 1));
	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "s1");
	r.start = S;
	r.len = 60;
	r.sketch_p = 14;
	r.all_src = hll_new(14);
	r.all_dst = hll_new(14);
	hll_merge(r.all_src, d);
	hll_merge(r.all_dst, d);
	for (i = 0; i < n; i++) {
		e = record_add(&r, PROTO_TCP, (uint16_t)(first + i), 1);
		e->src = hll_new(14);
		e->dst = hll_new(14);
		hll_merge(e->src, d);
		hll_merge(e->dst, d);
	}
	r.totals[RT_TCP] = n;
	rc = spool_put(s, &r, merge, 1);
	record_clear(&r);
	hll_free(d);
	return rc;
}

/*
 * What is spooled can be sent: 700 keys of dense sketches (17 MB) fit in
 * a frame; a restart's 700 more, merged in, would take 34 MB, over the
 * 32 MiB frame limit, and are folded to precision 13.  Counted once.
 */
static void
test_fit_frame(void **state)
{
	struct fixture *f = *state;
	struct spool *s = open_spool(f, 256u << 20, SPOOL_DROP_NEW);
	struct record r;
	size_t len;

	assert_int_equal(put_dense(s, 1, 700, 1), 1);
	get(s, S, &r, &len);
	assert_int_equal(r.sketch_p, 14);
	assert_true(len > 700 * 24578 && len <= FRAME_MAX_PAYLOAD);
	record_clear(&r);
	assert_int_equal(spool_folded(s), 0);
	assert_int_equal(put_dense(s, 701, 700, 1), 1);
	assert_int_equal(spool_folded(s), 1);
	assert_int_equal(spool_unsketched(s), 0);
	get(s, S, &r, &len);
	assert_int_equal(r.sketch_p, 13);
	assert_int_equal(r.nentries, 1400);
	assert_true(len > 1400 * 12290 && len <= FRAME_MAX_PAYLOAD);
	assert_int_equal(hll_precision(r.entries[1399].dst), 13);
	assert_true(
	    fabs(hll_estimate(r.entries[0].src) - 20000) < 20000 * 0.05);
	record_clear(&r);
	spool_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merge_sketches, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_drop_new, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_oldest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_aside_first, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merge_replace, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_fit_frame, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

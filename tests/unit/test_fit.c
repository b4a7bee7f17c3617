/*
 * Unit tests for fit (sensor/fit.h): a record over the limit has its
 * sketches folded one precision at a time until it fits, exactly as if
 * built at the lower precision; one that does not fit even at HLL_P_MIN
 * goes as version 1; one that fits is left alone.  And the bound fit.h
 * states: under FRAME_MAX_PAYLOAD, a record of every key with every sketch
 * at its largest encoding fits at precision 7, not at 8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fit.h"
#include "frame.h"
#include "hll.h"
#include "keyidx.h"
#include "record.h"
#include "varint.h"

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A sketch of n items from seed, at precision p. */
static struct hll *
sketch(unsigned p, uint64_t seed, size_t n)
{
	struct hll *h = hll_new(p);
	size_t i;

	for (i = 0; i < n; i++)
		hll_add(h, splitmix(&seed));
	return h;
}

static struct hll *
copy(const struct hll *h)
{
	struct hll *c = hll_new(hll_precision(h));

	hll_merge(c, h);
	return c;
}

/*
 * A record of n TCP keys 1..n, each entry's sketches copies of src and
 * dst (and so all_src, all_dst), at their precision.
 */
static void
build(struct record *r, size_t n, const struct hll *src, const struct hll *dst)
{
	struct record_entry *e;
	size_t i;

	record_init(r);
	snprintf(r->sensor, sizeof(r->sensor), "s1");
	r->start = 1700000040;
	r->len = 60;
	r->sketch_p = hll_precision(src);
	memset(r->sketch_keyid, 0xab, RECORD_KEYID);
	r->all_src = copy(src);
	r->all_dst = copy(dst);
	for (i = 0; i < n; i++) {
		e = record_add(r, PROTO_TCP, (uint16_t)(i + 1), 1000 + i);
		e->src = copy(src);
		e->dst = copy(dst);
		r->totals[RT_TCP] += 1000 + i;
	}
}

static size_t
encode(const struct record *r, uint8_t **buf)
{
	size_t n;

	*buf = malloc(record_encoded_max(r));
	assert_non_null(*buf);
	n = record_encode(r, *buf, record_encoded_max(r));
	assert_true(n > 0);
	return n;
}

static void
assert_same_sketch(const struct hll *a, const struct hll *b)
{
	uint8_t x[HLL_SPARSE_MAX(HLL_P_MAX) * 5 + 16 + (3u << HLL_P_MAX) / 4];
	uint8_t y[sizeof(x)];
	size_t nx, ny;

	assert_int_equal(hll_precision(a), hll_precision(b));
	nx = hll_encode(a, x, sizeof(x));
	ny = hll_encode(b, y, sizeof(y));
	assert_true(nx > 0);
	assert_int_equal(nx, ny);
	assert_memory_equal(x, y, nx);
}

/*
 * 200 keys, dense sketches at p = 14: 4.9 MB.  Under a 3 MiB limit they
 * go to p = 13 (2.5 MB), each sketch the one built at 13 from the same
 * items; the record decodes, its packets intact.
 */
static void
test_fold(void **state)
{
	struct hll *src = sketch(14, 1, 20000), *dst = sketch(14, 2, 5000);
	struct hll *src13 = sketch(13, 1, 20000), *dst13 = sketch(13, 2, 5000);
	struct record r, d;
	const size_t max = 3u << 20;
	const char *why;
	uint8_t *buf;
	size_t i, n, before;

	(void)state;
	assert_true(hll_is_dense(src) && hll_is_dense(dst));
	build(&r, 200, src, dst);
	before = fit_size(&r);
	n = encode(&r, &buf);
	free(buf);
	/* Exact for the sketches, at most 13 bytes over per entry. */
	assert_true(before >= n && before - n < 200 * 13 + 300);
	assert_true(n > max);
	assert_int_equal(fit_record(&r, max), FIT_FOLDED);
	assert_int_equal(r.sketch_p, 13);
	assert_true(fit_size(&r) <= max);
	n = encode(&r, &buf);
	assert_true(n <= max && n > max / 2);
	record_init(&d);
	if (record_decode(&d, buf, n, &why) == -1)
		fail_msg("decode: %s", why);
	assert_int_equal(d.sketch_p, 13);
	assert_int_equal(d.nentries, 200);
	assert_same_sketch(d.all_src, src13);
	assert_same_sketch(d.all_dst, dst13);
	for (i = 0; i < d.nentries; i++) {
		assert_int_equal(d.entries[i].key, i + 1);
		assert_int_equal(d.entries[i].packets, 1000 + i);
		assert_same_sketch(d.entries[i].src, src13);
		assert_same_sketch(d.entries[i].dst, dst13);
	}
	record_clear(&d);
	record_clear(&r);
	free(buf);
	hll_free(src);
	hll_free(dst);
	hll_free(src13);
	hll_free(dst13);
}

/* Folded more than once when one step is not enough. */
static void
test_fold_twice(void **state)
{
	struct hll *src = sketch(14, 3, 30000), *dst = sketch(14, 4, 30000);
	struct record r;
	uint8_t *buf;
	size_t n;

	(void)state;
	build(&r, 100, src, dst);
	assert_int_equal(fit_record(&r, 1u << 20), FIT_FOLDED);
	/* 202 dense sketches: 12289 bytes each at 14, 3073 at 12. */
	assert_int_equal(r.sketch_p, 12);
	n = encode(&r, &buf);
	assert_true(n <= 1u << 20);
	free(buf);
	record_clear(&r);
	hll_free(src);
	hll_free(dst);
}

/*
 * Too large even at HLL_P_MIN: sent without sketches, as version 1, its
 * counts whole.
 */
static void
test_unsketched(void **state)
{
	struct hll *src = sketch(10, 5, 5000), *dst = sketch(10, 6, 5000);
	struct record r, v1, d;
	const char *why;
	uint8_t *buf;
	size_t n, n1, i;

	(void)state;
	build(&r, 1000, src, dst);
	/* The same counts without sketches. */
	build(&v1, 1000, src, dst);
	for (i = 0; i < v1.nentries; i++) {
		hll_free(v1.entries[i].src);
		hll_free(v1.entries[i].dst);
		v1.entries[i].src = v1.entries[i].dst = NULL;
	}
	hll_free(v1.all_src);
	hll_free(v1.all_dst);
	v1.all_src = v1.all_dst = NULL;
	v1.sketch_p = 0;
	n1 = encode(&v1, &buf);
	free(buf);
	/* 2002 sketches of at least 1 byte each cannot fit in 1,000 more. */
	assert_int_equal(fit_record(&r, n1 + 1000), FIT_UNSKETCHED);
	assert_int_equal(r.sketch_p, 0);
	assert_null(r.all_src);
	assert_null(r.all_dst);
	for (i = 0; i < r.nentries; i++)
		assert_true(
		    r.entries[i].src == NULL && r.entries[i].dst == NULL);
	n = encode(&r, &buf);
	assert_int_equal(n, n1);
	assert_int_equal(buf[0], 1);
	record_init(&d);
	if (record_decode(&d, buf, n, &why) == -1)
		fail_msg("decode: %s", why);
	assert_int_equal(d.sketch_p, 0);
	assert_int_equal(d.nentries, 1000);
	assert_true(d.totals[RT_TCP] == r.totals[RT_TCP]);
	for (i = 0; i < d.nentries; i++)
		assert_int_equal(d.entries[i].packets, 1000 + i);
	free(buf);
	record_clear(&d);
	record_clear(&r);
	record_clear(&v1);
	hll_free(src);
	hll_free(dst);
}

/* A record that fits is left as it is, also one just at the limit. */
static void
test_as_is(void **state)
{
	struct hll *src = sketch(14, 7, 3), *dst = sketch(14, 8, 50000);
	struct record r;
	uint8_t *buf, *buf2;
	size_t n, n2;

	(void)state;
	build(&r, 10, src, dst);
	n = encode(&r, &buf);
	assert_int_equal(fit_record(&r, FRAME_MAX_PAYLOAD), FIT_AS_IS);
	assert_int_equal(fit_record(&r, fit_size(&r)), FIT_AS_IS);
	assert_int_equal(r.sketch_p, 14);
	n2 = encode(&r, &buf2);
	assert_int_equal(n, n2);
	assert_memory_equal(buf, buf2, n);
	free(buf);
	free(buf2);
	/* A version-1 record is never touched. */
	record_clear(&r);
	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "s1");
	record_add(&r, PROTO_UDP, 53, 7);
	r.totals[RT_UDP] = 7;
	n = encode(&r, &buf);
	assert_int_equal(fit_record(&r, 1), FIT_AS_IS);
	n2 = encode(&r, &buf2);
	assert_int_equal(n, n2);
	assert_memory_equal(buf, buf2, n);
	free(buf);
	free(buf2);
	record_clear(&r);
	hll_free(src);
	hll_free(dst);
}

/*
 * The largest encoding of one sketch at p: dense, or sparse with as many
 * words as it keeps, whichever hll_encoded_max() says is more.
 */
static size_t
sketch_max(unsigned p)
{
	struct hll *d = sketch(p, 9, (size_t)8 << p), *s = hll_new(p);
	uint64_t seed = 10;
	size_t a, b;

	assert_true(hll_is_dense(d));
	/* HLL_SPARSE_MAX(p) words: distinct 26-bit indexes, up to the last. */
	while (!hll_is_dense(s)) {
		struct hll *t = copy(s);

		hll_add(t, splitmix(&seed));
		if (hll_is_dense(t)) {
			hll_free(t);
			break;
		}
		hll_free(s);
		s = t;
	}
	a = hll_encoded_max(d);
	b = hll_encoded_max(s);
	hll_free(d);
	hll_free(s);
	return a > b ? a : b;
}

/*
 * fit.h's bound: every key (KEYIDX_COUNT entries, the most a record
 * decodes), every sketch at its largest, packet counts of 10-byte varints:
 * fits at precision 7 under FRAME_MAX_PAYLOAD less the drop count's
 * varint, not at 8.  So the version-1 fallback is never taken, and folding
 * never goes below 7.  record_encoded_max() is linear in the sketches'
 * hll_encoded_max(): counted here without building 263,170 sketches.
 */
static void
test_bound(void **state)
{
	struct record r;
	size_t base, n7, n8, i;
	int p;

	(void)state;
	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "%064d", 0);
	for (p = 0; p < PROTO_COUNT; p++)
		for (i = 0; i < proto_nkeys((enum proto)p); i++)
			record_add(&r, (enum proto)p, (uint16_t)i, 1);
	assert_int_equal(r.nentries, KEYIDX_COUNT);
	base = record_encoded_max(&r) + 1 + RECORD_KEYID;
	n7 = base + (2 + 2 * (size_t)KEYIDX_COUNT) * sketch_max(7);
	n8 = base + (2 + 2 * (size_t)KEYIDX_COUNT) * sketch_max(8);
	print_message("every key, largest sketches: %zu bytes at p = 7, %zu "
		      "at p = 8\n",
	    n7, n8);
	assert_true(n7 <= FRAME_MAX_PAYLOAD - VARINT_MAX);
	assert_true(n8 > FRAME_MAX_PAYLOAD);
	record_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_fold_twice),
	    cmocka_unit_test(test_unsketched),
	    cmocka_unit_test(test_as_is),
	    cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

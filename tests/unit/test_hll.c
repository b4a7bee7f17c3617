/*
 * Unit tests for hll: estimates against the true number of distinct
 * items (exact while sparse, within 4 standard errors when dense), merge
 * equal to the sketch of the union and fold equal to the sketch built at
 * the lower precision (compared by their canonical encodings), round trips
 * and the decoder's refusals.  Items are distinct 64-bit hashes from
 * splitmix64, which stands in for the keyed hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "hll.h"
#include "varint.h"

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Items first..first+n-1, each added twice (repeats change nothing). */
static struct hll *
build(unsigned p, uint64_t first, uint64_t n)
{
	struct hll *h = hll_new(p);
	uint64_t i;

	for (i = first; i < first + n; i++)
		hll_add(h, splitmix64(i));
	for (i = first; i < first + n; i++)
		hll_add(h, splitmix64(i));
	return h;
}

/* The encoding in a heap buffer of exactly its size; *n its length. */
static uint8_t *
encode(const struct hll *h, size_t *n)
{
	size_t max = hll_encoded_max(h);
	uint8_t *b = malloc(max), *exact;

	assert_non_null(b);
	assert_int_equal(hll_encode(h, b, max - 1 + (max == 0)), 0);
	*n = hll_encode(h, b, max);
	assert_true(*n > 0 && *n <= max);
	exact = malloc(*n);
	assert_non_null(exact);
	memcpy(exact, b, *n);
	free(b);
	return exact;
}

static void
assert_same(const struct hll *a, const struct hll *b)
{
	size_t na, nb;
	uint8_t *ea = encode(a, &na), *eb = encode(b, &nb);

	assert_int_equal(hll_precision(a), hll_precision(b));
	assert_int_equal(na, nb);
	assert_memory_equal(ea, eb, na);
	free(ea);
	free(eb);
}

static void
test_small_exact(void **state)
{
	uint64_t n;

	(void)state;
	for (n = 0; n <= 2048; n += n < 120 ? 1 : 97) {
		struct hll *h = build(14, 1000 * n, n);

		assert_false(hll_is_dense(h));
		assert_int_equal(hll_is_empty(h), n == 0);
		/* Linear counting over 2^26 indices: exact when rounded. */
		assert_int_equal((uint64_t)llround(hll_estimate(h)), n);
		hll_free(h);
	}
}

static void
test_dense_error(void **state)
{
	static const uint64_t sizes[] = {2049, 5000, 20000, 100000, 1000000};
	size_t i;
	unsigned p;

	(void)state;
	for (p = 10; p <= 16; p += 2) {
		double se = 1.04 / sqrt((double)(1u << p));

		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct hll *h = build(p, sizes[i] << 20, sizes[i]);
			double e = hll_estimate(h);

			if (sizes[i] > HLL_SPARSE_MAX(p))
				assert_true(hll_is_dense(h));
			assert_true(fabs(e - (double)sizes[i]) <=
			    4 * se * (double)sizes[i]);
			hll_free(h);
		}
	}
}

static void
test_merge_is_union(void **state)
{
	/*
	 * A = items [0, a), B = [b0, b0 + nb): sparse with sparse, sparse
	 * turning dense, dense with dense, and sparse with dense both ways.
	 */
	static const uint64_t cases[][3] = {{10, 50, 60}, {1500, 1000, 1800},
	    {30000, 20000, 40000}, {5, 100, 30000}, {30000, 1, 2}};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hll *a = build(14, 0, cases[i][0]);
		struct hll *b = build(14, cases[i][1], cases[i][2]);
		struct hll *u = build(14, 0, cases[i][0]);
		struct hll *e = hll_new(14);
		uint64_t k;

		for (k = cases[i][1]; k < cases[i][1] + cases[i][2]; k++)
			hll_add(u, splitmix64(k));
		hll_merge(a, b);
		assert_same(a, u);
		/* Into an empty sketch: a copy. */
		hll_merge(e, b);
		assert_same(e, b);
		hll_free(a);
		hll_free(b);
		hll_free(u);
		hll_free(e);
	}
}

static void
test_fold(void **state)
{
	static const uint64_t sizes[] = {3, 300, 3000, 100000};
	size_t i;
	unsigned q;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (q = HLL_P_MIN; q < 14; q += 3) {
			struct hll *h = build(14, 7, sizes[i]);
			struct hll *d = build(q, 7, sizes[i]);
			struct hll *m = build(14, 7, sizes[i] / 2);
			struct hll *lo =
			    build(q, 7 + sizes[i] / 2, sizes[i] - sizes[i] / 2);

			hll_fold(h, q);
			assert_same(h, d);
			/* Merging a lower precision folds to it. */
			hll_merge(m, lo);
			assert_int_equal(hll_precision(m), q);
			assert_same(m, d);
			hll_free(h);
			hll_free(d);
			hll_free(m);
			hll_free(lo);
		}
	}
}

static void
test_round_trip(void **state)
{
	static const uint64_t sizes[] = {0, 1, 2, 100, 2048, 2049, 50000};
	size_t i, n;
	unsigned p;

	(void)state;
	for (p = HLL_P_MIN; p <= HLL_P_MAX; p += 7) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct hll *h = build(p, 99, sizes[i]);
			struct hll *d = hll_new(HLL_P_MAX);
			uint8_t *b = encode(h, &n);
			const uint8_t *pp = b;
			const char *why;

			assert_int_equal(hll_decode(d, p, &pp, b + n, &why), 0);
			assert_ptr_equal(pp, b + n);
			assert_same(h, d);
			assert_true(hll_estimate(h) == hll_estimate(d));
			/* Every cut is refused, never read past. */
			if (n > 1) {
				uint8_t *cut = malloc(n - 1);

				assert_non_null(cut);
				memcpy(cut, b, n - 1);
				pp = cut;
				assert_int_equal(hll_decode(d, p, &pp,
						     cut + n - 1, &why),
				    -1);
				free(cut);
			}
			free(b);
			hll_free(h);
			hll_free(d);
		}
	}
}

static int
decode_bytes(const uint8_t *b, size_t n, unsigned p, const char **why)
{
	struct hll *h = hll_new(p);
	uint8_t *exact = malloc(n ? n : 1);
	const uint8_t *pp = exact;
	int rc;

	assert_non_null(exact);
	memcpy(exact, b, n);
	rc = hll_decode(h, p, &pp, exact + n, why);
	free(exact);
	hll_free(h);
	return rc;
}

static void
test_refusals(void **state)
{
	/* t = 3: two words; word = index << 6 | rank. */
	static const uint8_t ok[] = {3, 0x41, 0x7f};
	static const uint8_t rank0[] = {2, 0x40};
	static const uint8_t rank40[] = {2, 40 | 0x40};
	static const uint8_t same_index[] = {3, 0x41, 0x00};
	uint8_t dense[1 + 12];
	uint8_t many[1 + 4];
	const char *why;

	(void)state;
	assert_int_equal(decode_bytes(ok, sizeof(ok), 14, &why), 0);
	assert_int_equal(decode_bytes(ok, sizeof(ok), 3, &why), -1);
	assert_string_equal(why, "bad sketch precision");
	assert_int_equal(decode_bytes(ok, sizeof(ok), 19, &why), -1);
	assert_int_equal(decode_bytes(rank0, sizeof(rank0), 14, &why), -1);
	assert_string_equal(why, "bad sparse sketch word");
	assert_int_equal(decode_bytes(rank40, sizeof(rank40), 14, &why), -1);
	assert_int_equal(decode_bytes(same_index, sizeof(same_index), 14, &why),
	    -1);
	assert_string_equal(why, "sparse sketch words out of order");
	/* p = 4: 16 registers in 12 bytes; the last may be 61 at most. */
	memset(dense, 0, sizeof(dense));
	dense[12] = 61 << 2;
	assert_int_equal(decode_bytes(dense, sizeof(dense), 4, &why), 0);
	dense[12] = 62 << 2;
	assert_int_equal(decode_bytes(dense, sizeof(dense), 4, &why), -1);
	assert_string_equal(why, "sketch register out of range");
	/* p = 4 keeps 2 sparse words: 3 is not canonical. */
	many[0] = 4;
	many[1] = 0x41;
	many[2] = 0x7f;
	many[3] = 0x7f;
	assert_int_equal(decode_bytes(many, sizeof(many), 4, &why), -1);
	assert_string_equal(why, "sparse sketch too large for its precision");
	assert_int_equal(decode_bytes(many, 0, 14, &why), -1);
}

static void
test_reset_reuse(void **state)
{
	struct hll *h = build(14, 0, 5000), *fresh = build(12, 77, 40);
	uint64_t i;

	(void)state;
	assert_true(hll_is_dense(h));
	hll_reset(h, 12);
	assert_true(hll_is_empty(h));
	assert_false(hll_is_dense(h));
	for (i = 77; i < 117; i++)
		hll_add(h, splitmix64(i));
	assert_same(h, fresh);
	assert_true(hll_bytes(h) > 0);
	hll_free(h);
	hll_free(fresh);
	hll_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_exact),
	    cmocka_unit_test(test_dense_error),
	    cmocka_unit_test(test_merge_is_union),
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_reset_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

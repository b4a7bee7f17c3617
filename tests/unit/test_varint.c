/*
 * Unit tests for varint: the exact LEB128 bytes of values at every
 * length boundary, the refusal of overlong, overflowing and truncated
 * encodings (so each value has one encoding), and zigzag at its extremes.
 * Every input is read from a heap buffer of exactly its size, so that
 * AddressSanitizer sees a read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "varint.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

struct vector {
	uint64_t v;
	size_t n;
	uint8_t b[VARINT_MAX + 1];
};

/* Worked out by hand: 7 bits a byte, low group first, 0x80 = more. */
static const struct vector vectors[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {300, 2, {0xac, 0x02}},
    {16383, 2, {0xff, 0x7f}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {(uint64_t)1 << 32, 5, {0x80, 0x80, 0x80, 0x80, 0x10}},
    {((uint64_t)1 << 63) - 1, 9,
	{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
    {(uint64_t)1 << 63, 10,
	{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
    {UINT64_MAX, 10,
	{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
};

/* Decode n bytes copied to a buffer of exactly n bytes. */
static int
get_exact(const uint8_t *b, size_t n, uint64_t *v, size_t *used)
{
	const uint8_t *p, *start;
	uint8_t *copy;
	int rc;

	copy = malloc(n ? n : 1);
	assert_non_null(copy);
	if (n)
		memcpy(copy, b, n);
	p = start = copy;
	rc = varint_get(&p, copy + n, v);
	*used = (size_t)(p - start);
	free(copy);
	return rc;
}

static void
test_put(void **state)
{
	uint8_t buf[VARINT_MAX + 4];
	size_t i, n;

	(void)state;
	for (i = 0; i < NITEMS(vectors); i++) {
		memset(buf, 0xee, sizeof(buf));
		n = varint_put(buf, vectors[i].v);
		if (n != vectors[i].n)
			fail_msg("%llu: %zu bytes, want %zu",
			    (unsigned long long)vectors[i].v, n, vectors[i].n);
		assert_memory_equal(buf, vectors[i].b, n);
		/* Nothing written past the encoding. */
		assert_int_equal(buf[n], 0xee);
	}
}

static void
test_get(void **state)
{
	uint8_t buf[VARINT_MAX + 1];
	uint64_t v;
	size_t i, used;

	(void)state;
	for (i = 0; i < NITEMS(vectors); i++) {
		v = 12345;
		assert_int_equal(get_exact(vectors[i].b, vectors[i].n, &v,
				     &used),
		    0);
		assert_int_equal(used, vectors[i].n);
		if (v != vectors[i].v)
			fail_msg("got %llu, want %llu", (unsigned long long)v,
			    (unsigned long long)vectors[i].v);
		/* A following byte is left alone. */
		memcpy(buf, vectors[i].b, vectors[i].n);
		buf[vectors[i].n] = 0x05;
		assert_int_equal(get_exact(buf, vectors[i].n + 1, &v, &used),
		    0);
		assert_int_equal(used, vectors[i].n);
		assert_true(v == vectors[i].v);
	}
}

/* Every shift of a single bit survives put then get. */
static void
test_round_trip(void **state)
{
	uint8_t buf[VARINT_MAX];
	uint64_t v, got;
	size_t n, used;
	int bit;

	(void)state;
	for (bit = 0; bit < 64; bit++) {
		v = (uint64_t)1 << bit;
		n = varint_put(buf, v);
		assert_int_equal(n, (size_t)bit / 7 + 1);
		assert_int_equal(get_exact(buf, n, &got, &used), 0);
		assert_int_equal(used, n);
		assert_true(got == v);
		n = varint_put(buf, v - 1);
		assert_int_equal(get_exact(buf, n, &got, &used), 0);
		assert_true(got == v - 1);
	}
}

static void
test_refused(void **state)
{
	static const struct {
		const char *what;
		size_t n;
		uint8_t b[12];
	} bad[] = {
	    {"empty", 0, {0}},
	    {"overlong 0", 2, {0x80, 0x00}},
	    {"overlong 0, three bytes", 3, {0x80, 0x80, 0x00}},
	    {"overlong 1", 2, {0x81, 0x00}},
	    {"overlong 127", 2, {0xff, 0x00}},
	    {"overlong 128", 3, {0x80, 0x81, 0x00}},
	    {"overlong 2^63-1, ten bytes", 10,
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}},
	    {"eleven bytes", 11,
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x01}},
	    {"eleven bytes of 0xff", 11,
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0x01}},
	    {"tenth byte 0x02 overflows", 10,
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}},
	    {"tenth byte 0x7f overflows", 10,
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
	    {"tenth byte 0x81 continues", 11,
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81,
		    0x00}},
	    {"truncated after one byte", 1, {0x80}},
	    {"truncated after two bytes", 2, {0xff, 0xff}},
	    {"truncated after nine bytes", 9,
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	    {"tenth byte 0x81, nothing after", 10,
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81}},
	};
	uint64_t v;
	size_t i, used;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++) {
		v = 42;
		if (get_exact(bad[i].b, bad[i].n, &v, &used) != -1)
			fail_msg("%s: accepted as %llu", bad[i].what,
			    (unsigned long long)v);
		/* Neither the position nor the value moves on failure. */
		assert_int_equal(used, 0);
		assert_true(v == 42);
	}
}

static void
test_zigzag(void **state)
{
	static const struct {
		int64_t s;
		uint64_t u;
	} zz[] = {
	    {0, 0},
	    {-1, 1},
	    {1, 2},
	    {-2, 3},
	    {2, 4},
	    {-64, 127},
	    {64, 128},
	    {INT64_MAX, UINT64_MAX - 1},
	    {INT64_MIN, UINT64_MAX},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(zz); i++) {
		if (zigzag_encode(zz[i].s) != zz[i].u)
			fail_msg("zigzag_encode(%lld) = %llu, want %llu",
			    (long long)zz[i].s,
			    (unsigned long long)zigzag_encode(zz[i].s),
			    (unsigned long long)zz[i].u);
		if (zigzag_decode(zz[i].u) != zz[i].s)
			fail_msg("zigzag_decode(%llu) = %lld, want %lld",
			    (unsigned long long)zz[i].u,
			    (long long)zigzag_decode(zz[i].u),
			    (long long)zz[i].s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put),
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_zigzag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

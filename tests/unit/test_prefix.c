/*
 * Unit tests for prefix: parsing of monitored CIDR blocks, matching at
 * the boundaries of each block, and the address count that records carry
 * (doc/CONTRACTS.md contracts 1 and 4).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "prefix.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static int
add(struct prefixes *ps, const char *text)
{
	char err[160];

	err[0] = '\0';
	if (prefixes_add(ps, text, err, sizeof(err)) == 0)
		return 0;
	/* A refusal always says why. */
	assert_true(err[0] != '\0');
	return -1;
}

static struct prefixes *
one(const char *text)
{
	struct prefixes *ps = prefixes_new();

	assert_int_equal(add(ps, text), 0);
	return ps;
}

static int
match4(const struct prefixes *ps, const char *a)
{
	uint8_t b[4];

	assert_int_equal(inet_pton(AF_INET, a, b), 1);
	return prefixes_match4(ps, b);
}

static int
match6(const struct prefixes *ps, const char *a)
{
	uint8_t b[16];

	assert_int_equal(inet_pton(AF_INET6, a, b), 1);
	return prefixes_match6(ps, b);
}

static void
test_add_good(void **state)
{
	static const char *good[] = {
	    "192.0.2.0/24",
	    "192.0.2.1",
	    "192.0.2.1/32",
	    "0.0.0.0/0",
	    "192.0.2.0/23",
	    "10.0.0.0/8",
	    "128.0.0.0/1",
	    "2001:db8::/32",
	    "2001:db8::1",
	    "2001:db8::1/128",
	    "::/0",
	    "2001:db8:0:8::/61",
	    "::ffff:192.0.2.0/120",
	};
	struct prefixes *ps;
	size_t i;

	(void)state;
	ps = prefixes_new();
	assert_int_equal(prefixes_count(ps), 0);
	for (i = 0; i < NITEMS(good); i++) {
		if (add(ps, good[i]) != 0)
			fail_msg("refused %s", good[i]);
		assert_int_equal(prefixes_count(ps), i + 1);
	}
	prefixes_free(ps);
	prefixes_free(NULL);
}

static void
test_add_bad(void **state)
{
	static const char *bad[] = {
	    "",
	    "/24",
	    "192.0.2",
	    "192.0.2.256",
	    "192.0.2.0.0",
	    "example.org",
	    " 192.0.2.0/24",
	    "192.0.2.0 /24",
	    "192.0.2.0/",
	    "192.0.2.0/33",
	    "192.0.2.0/-1",
	    "192.0.2.0/+24",
	    "192.0.2.0/ 24",
	    "192.0.2.0/24 ",
	    "192.0.2.0/24x",
	    "192.0.2.0/0x18",
	    "192.0.2.0/24/24",
	    "192.0.2.0/18446744073709551640",
	    "2001:db8::/129",
	    "2001:db8::/-0",
	    "2001:db8:::/32",
	    "2001:db8::/99999999999999999999999",
	    /* Longer than any address with a length: refused, not cut. */
	    "2001:0db8:0000:0000:0000:0000:0000:0001/128/////////////",
	};
	struct prefixes *ps;
	size_t i;

	(void)state;
	ps = prefixes_new();
	for (i = 0; i < NITEMS(bad); i++)
		if (add(ps, bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(prefixes_count(ps), 0);
	prefixes_free(ps);
}

/* Host bits set mean the operator meant another network: refuse. */
static void
test_add_hostbits(void **state)
{
	static const char *bad[] = {
	    "192.0.2.1/24",
	    "192.0.3.0/23",
	    "0.0.0.1/0",
	    "128.0.0.0/0",
	    "192.0.2.3/31",
	    "2001:db8::1/64",
	    "::1/127",
	    "::1/0",
	    "2001:db8:0:c::/61",
	    "2001:db8:0:9::/61",
	};
	struct prefixes *ps;
	char err[160];
	size_t i;

	(void)state;
	ps = prefixes_new();
	for (i = 0; i < NITEMS(bad); i++) {
		err[0] = '\0';
		assert_int_equal(prefixes_add(ps, bad[i], err, sizeof(err)),
		    -1);
		/* The message names the offending entry. */
		if (strstr(err, bad[i]) == NULL)
			fail_msg("\"%s\" does not name %s", err, bad[i]);
	}
	assert_int_equal(prefixes_count(ps), 0);
	prefixes_free(ps);
}

static void
test_match_v4(void **state)
{
	struct prefixes *ps;

	(void)state;
	ps = prefixes_new();
	/* An empty list matches nothing; "no list" is the caller's case. */
	assert_false(match4(ps, "192.0.2.1"));
	prefixes_free(ps);

	ps = one("192.0.2.0/23");
	assert_true(match4(ps, "192.0.2.0"));
	assert_true(match4(ps, "192.0.3.255"));
	assert_false(match4(ps, "192.0.1.255"));
	assert_false(match4(ps, "192.0.4.0"));
	assert_false(match6(ps, "::c000:200")); /* same bytes, v6 */
	prefixes_free(ps);

	ps = one("192.0.2.1");
	assert_true(match4(ps, "192.0.2.1"));
	assert_false(match4(ps, "192.0.2.0"));
	assert_false(match4(ps, "192.0.2.2"));
	assert_false(match4(ps, "193.0.2.1"));
	prefixes_free(ps);

	ps = one("192.0.2.2/31");
	assert_false(match4(ps, "192.0.2.1"));
	assert_true(match4(ps, "192.0.2.2"));
	assert_true(match4(ps, "192.0.2.3"));
	assert_false(match4(ps, "192.0.2.4"));
	prefixes_free(ps);

	ps = one("128.0.0.0/1");
	assert_true(match4(ps, "128.0.0.0"));
	assert_true(match4(ps, "255.255.255.255"));
	assert_false(match4(ps, "127.255.255.255"));
	prefixes_free(ps);

	ps = one("0.0.0.0/0");
	assert_true(match4(ps, "0.0.0.0"));
	assert_true(match4(ps, "255.255.255.255"));
	assert_false(match6(ps, "::"));
	prefixes_free(ps);
}

static void
test_match_v6(void **state)
{
	struct prefixes *ps;

	(void)state;
	ps = one("2001:db8:0:8::/61");
	assert_true(match6(ps, "2001:db8:0:8::"));
	assert_true(match6(ps, "2001:db8:0:f:ffff:ffff:ffff:ffff"));
	assert_false(match6(ps, "2001:db8:0:7:ffff:ffff:ffff:ffff"));
	assert_false(match6(ps, "2001:db8:0:10::"));
	prefixes_free(ps);

	ps = one("2001:db8::1");
	assert_true(match6(ps, "2001:db8::1"));
	assert_false(match6(ps, "2001:db8::"));
	assert_false(match6(ps, "2001:db8::3"));
	assert_false(match6(ps, "3001:db8::1"));
	prefixes_free(ps);

	ps = one("2001:db8::/32");
	assert_true(match6(ps, "2001:db8::"));
	assert_true(match6(ps, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(match6(ps, "2001:db9::"));
	assert_false(match6(ps, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(match4(ps, "32.1.13.184")); /* 2001:0db8 as v4 */
	prefixes_free(ps);

	ps = one("::/0");
	assert_true(match6(ps, "::"));
	assert_true(match6(ps, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(match4(ps, "0.0.0.0"));
	prefixes_free(ps);
}

static void
test_match_several(void **state)
{
	struct prefixes *ps;
	char err[160];

	(void)state;
	ps = prefixes_new();
	assert_int_equal(prefixes_add_list(ps,
			     "192.0.2.0/24, 198.51.100.0/25\t2001:db8::/48,,",
			     err, sizeof(err)),
	    0);
	assert_int_equal(prefixes_count(ps), 3);
	assert_true(match4(ps, "192.0.2.200"));
	assert_true(match4(ps, "198.51.100.127"));
	assert_false(match4(ps, "198.51.100.128"));
	assert_true(match6(ps, "2001:db8:0:1::"));
	assert_false(match6(ps, "2001:db8:1::"));
	/* A bad entry in a list is refused and named. */
	assert_int_equal(prefixes_add_list(ps, "203.0.113.0/24 bogus", err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "bogus"));
	prefixes_free(ps);
}

static void
test_naddrs(void **state)
{
	static const struct {
		const char *list;
		uint64_t n;
	} cases[] = {
	    {"", 0},
	    {"192.0.2.1", 1},
	    {"192.0.2.0/24", 256},
	    {"192.0.2.0/24 198.51.100.0/24", 512},
	    {"192.0.2.0/23 192.0.2.7", 513}, /* overlap: twice */
	    {"0.0.0.0/0", (uint64_t)1 << 32},
	    {"2001:db8::1", 1},
	    {"2001:db8::/96", (uint64_t)1 << 32},
	    {"2001:db8::/65", (uint64_t)1 << 63},
	    {"2001:db8::/66 2001:db8::/65",
		((uint64_t)1 << 62) + ((uint64_t)1 << 63)},
	    /* 2^64 and more do not fit: saturate. */
	    {"2001:db8::/64", UINT64_MAX},
	    {"::/0", UINT64_MAX},
	    {"2001:db8::/65 2001:db8::/65", UINT64_MAX},
	    {"2001:db8::/66 2001:db8::/65 2001:db8::/66", UINT64_MAX},
	    {"2001:db8::/64 192.0.2.0/24", UINT64_MAX},
	};
	struct prefixes *ps;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		ps = prefixes_new();
		assert_int_equal(prefixes_add_list(ps, cases[i].list, err,
				     sizeof(err)),
		    0);
		if (prefixes_naddrs(ps) != cases[i].n)
			fail_msg("%s: %llu", cases[i].list,
			    (unsigned long long)prefixes_naddrs(ps));
		prefixes_free(ps);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_good),
	    cmocka_unit_test(test_add_bad),
	    cmocka_unit_test(test_add_hostbits),
	    cmocka_unit_test(test_match_v4),
	    cmocka_unit_test(test_match_v6),
	    cmocka_unit_test(test_match_several),
	    cmocka_unit_test(test_naddrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

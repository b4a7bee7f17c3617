/*
 * Unit tests for sketchkey (common/sketchkey.h).  The expected bytes were
 * computed outside libsodium, in Python: hashlib.blake2b(label + filekey,
 * digest_size=16) for the derived keys, and a SipHash-2-4 written from the
 * paper (checked against its reference vectors) for the address hashes.
 * tests/unit/sketchkey_vectors.py prints them.
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
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "frame.h"
#include "sketchkey.h"
#include "tmpdir.h"

static const uint8_t addr4[] = {198, 51, 100, 7};
static const uint8_t addr6[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 7};

static const uint8_t up_hash[] = {0x79, 0x49, 0xb9, 0x73, 0xed, 0x5c, 0x65,
    0xfd, 0xb8, 0x84, 0x0c, 0xd1, 0xcf, 0x0c, 0x46, 0x78};
static const uint8_t up_id[] = {0x32, 0x6e, 0x06, 0x04, 0xc3, 0x59, 0xa7, 0x1b};
static const uint8_t zero_hash[] = {0x19, 0x67, 0xcd, 0x5e, 0x81, 0x8f, 0x10,
    0x23, 0xf3, 0x14, 0x19, 0x5c, 0x46, 0xe7, 0x5a, 0x70};
static const uint8_t zero_id[] = {0x43, 0x3b, 0x49, 0x9d, 0x4c, 0xee, 0x4c,
    0xbd};

/* The file key 00 01 ... 1f. */
static void
key_up(uint8_t k[FRAME_KEY])
{
	int i;

	for (i = 0; i < FRAME_KEY; i++)
		k[i] = (uint8_t)i;
}

static void
test_derive(void **state)
{
	uint8_t fk[FRAME_KEY];
	struct sketchkey k;

	(void)state;
	key_up(fk);
	sketchkey_derive(fk, &k);
	assert_memory_equal(k.hash, up_hash, sizeof(up_hash));
	assert_memory_equal(k.id, up_id, sizeof(up_id));
	assert_true(sketchkey_hash(&k, addr4, 4) == 0x29c15b67559b8d8dull);
	assert_true(sketchkey_hash(&k, addr6, 16) == 0x4cff1149679d93a8ull);
}

/* The built-in key is fixed: the same output on every host and run. */
static void
test_builtin(void **state)
{
	struct sketchkey k;

	(void)state;
	sketchkey_builtin(&k);
	assert_memory_equal(k.hash, zero_hash, sizeof(zero_hash));
	assert_memory_equal(k.id, zero_id, sizeof(zero_id));
	assert_true(sketchkey_hash(&k, addr4, 4) == 0x9f14126d74b31db4ull);
	assert_true(sketchkey_hash(&k, addr6, 16) == 0xe2a7f525069d5acdull);
	sketchkey_clear(&k);
	assert_true(sodium_is_zero((const uint8_t *)&k, sizeof(k)));
}

static void
test_read(void **state)
{
	static const char hex[] = "000102030405060708090a0b0c0d0e0f\n"
				  "101112131415161718191a1b1c1d1e1f\n";
	char dir[64], path[128], err[256];
	struct sketchkey k;
	FILE *f;

	(void)state;
	assert_int_equal(tmpdir_make(dir, sizeof(dir), "sketchkey"), 0);
	snprintf(path, sizeof(path), "%s/sketch.key", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(hex, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	/* A secret others can read is refused, as every key file is. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(sketchkey_load(path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(sketchkey_load(path, &k, err, sizeof(err)), 0);
	assert_memory_equal(k.hash, up_hash, sizeof(up_hash));
	assert_memory_equal(k.id, up_id, sizeof(up_id));
	assert_int_equal(tmpdir_remove(dir), 0);
	snprintf(path, sizeof(path), "%s/absent", dir);
	assert_int_equal(sketchkey_load(path, &k, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_derive),
	    cmocka_unit_test(test_builtin),
	    cmocka_unit_test(test_read),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

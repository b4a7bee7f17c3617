/*
 * Unit tests for keyfile (common/keyfile.h): a key file or keys file that
 * others may read or write, or that is not a regular file, is refused
 * before a byte of it is used; keys are exactly 64 hex digits, which may
 * be wrapped over lines as "xxd -p" wraps them; keyfile_create() makes a
 * file of mode 0600 that keyfile_read() reads back and refuses to replace
 * one unless told; the keyring
 * finds each sensor's key, in sorted order, and refuses malformed lines
 * and ids listed twice, naming the line.
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

#include "frame.h"
#include "keyfile.h"
#include "tmpdir.h"

/* 00 01 ... 1f, and ff fe ... e0 */
#define HEX_UP \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_DOWN \
	"FFFEFDFCFBFAF9F8F7F6F5F4F3F2F1F0EFEEEDECEBEAE9E8E7E6E5E4E3E2E1E0"

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "keyfile") == -1)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/key", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = 0;

	if (unlink(f->path) == -1)
		rc = -1;
	if (rmdir(f->dir) == -1)
		rc = -1;
	free(f);
	return rc;
}

static void
put(const struct fixture *f, const char *text, mode_t mode)
{
	FILE *fp;

	(void)unlink(f->path);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	/* chmod, not the umask, decides. */
	assert_int_equal(chmod(f->path, mode), 0);
}

static void
up(uint8_t key[FRAME_KEY])
{
	int i;

	for (i = 0; i < FRAME_KEY; i++)
		key[i] = (uint8_t)i;
}

static void
down(uint8_t key[FRAME_KEY])
{
	int i;

	for (i = 0; i < FRAME_KEY; i++)
		key[i] = (uint8_t)(0xff - i);
}

static void
test_read(void **state)
{
	struct fixture *f = *state;
	uint8_t key[FRAME_KEY], want[FRAME_KEY];
	char err[256] = "";

	put(f, HEX_UP "\n", 0600);
	assert_int_equal(keyfile_read(f->path, key, err, sizeof(err)), 0);
	up(want);
	assert_memory_equal(key, want, FRAME_KEY);
	/* Upper case, no newline, blanks around it; owner read-only. */
	put(f, "  " HEX_DOWN " \t", 0400);
	assert_int_equal(keyfile_read(f->path, key, err, sizeof(err)), 0);
	down(want);
	assert_memory_equal(key, want, FRAME_KEY);
	/* head -c 32 | xxd -p: 60 digits, then 4; CRLF line ends too. */
	put(f,
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d\n"
	    "1e1f\n",
	    0600);
	assert_int_equal(keyfile_read(f->path, key, err, sizeof(err)), 0);
	up(want);
	assert_memory_equal(key, want, FRAME_KEY);
	put(f,
	    "FFFEFDFCFBFAF9F8F7F6F5F4F3F2F1F0\r\n"
	    "EFEEEDECEBEAE9E8E7E6E5E4E3E2E1E0\r\n\r\n",
	    0600);
	assert_int_equal(keyfile_read(f->path, key, err, sizeof(err)), 0);
	down(want);
	assert_memory_equal(key, want, FRAME_KEY);
}

/* Every mode that lets others in, or the group write, is refused. */
static void
test_secrecy(void **state)
{
	static const mode_t bad[] = {0604, 0602, 0601, 0606, 0644, 0666, 0620,
	    0660, 0777};
	struct fixture *f = *state;
	uint8_t key[FRAME_KEY];
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(f, HEX_UP "\n", bad[i]);
		err[0] = '\0';
		if (keyfile_read(f->path, key, err, sizeof(err)) != -1)
			fail_msg("key file of mode %03o accepted",
			    (unsigned)bad[i]);
		assert_non_null(strstr(err, f->path));
		assert_non_null(strstr(err, "chmod 600"));
		put(f, "s1 " HEX_UP "\n", bad[i]);
		err[0] = '\0';
		if (keyring_load(f->path, err, sizeof(err)) != NULL)
			fail_msg("keys file of mode %03o accepted",
			    (unsigned)bad[i]);
		assert_non_null(strstr(err, "chmod 600"));
	}
}

static void
test_not_regular(void **state)
{
	struct fixture *f = *state;
	uint8_t key[FRAME_KEY];
	char err[256] = "", missing[160];

	put(f, HEX_UP, 0600); /* for teardown */
	assert_int_equal(keyfile_read(f->dir, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(keyring_load(f->dir, err, sizeof(err)));
	snprintf(missing, sizeof(missing), "%s/none", f->dir);
	err[0] = '\0';
	assert_int_equal(keyfile_read(missing, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, missing));
}

static void
test_bad_keys(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\n",
	    /* 63 and 65 digits */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
	    HEX_UP "0\n",
	    /* a g among them */
	    "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
	    HEX_UP " " HEX_UP "\n",
	    /* a keys-file line, a comment, a 0x prefix: not a key file */
	    "s1 " HEX_UP "\n",
	    "# key\n" HEX_UP "\n",
	    "0x" HEX_UP "\n",
	    /* a key, then more digits on the next line */
	    HEX_UP "\n00\n",
	};
	struct fixture *f = *state;
	uint8_t key[FRAME_KEY];
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(f, bad[i], 0600);
		err[0] = '\0';
		if (keyfile_read(f->path, key, err, sizeof(err)) != -1)
			fail_msg("bad key file %zu accepted", i);
		/* The refusal says how to make a key. */
		assert_non_null(strstr(err, "keygen"));
	}
}

static void
test_keyring(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr;
	uint8_t want[FRAME_KEY];
	char err[256] = "";

	put(f,
	    "# sensors of the site\n"
	    "\n"
	    "tokyo-2\t" HEX_DOWN "\n"
	    "  # indented comment\n"
	    "  osaka.1  " HEX_UP "  \r\n"
	    "a_b " HEX_UP "\n",
	    0600);
	kr = keyring_load(f->path, err, sizeof(err));
	if (kr == NULL)
		fail_msg("keyring_load: %s", err);
	assert_int_equal(keyring_count(kr), 3);
	assert_string_equal(keyring_id(kr, 0), "a_b");
	assert_string_equal(keyring_id(kr, 1), "osaka.1");
	assert_string_equal(keyring_id(kr, 2), "tokyo-2");
	assert_null(keyring_id(kr, 3));
	up(want);
	assert_non_null(keyring_find(kr, "osaka.1"));
	assert_memory_equal(keyring_find(kr, "osaka.1"), want, FRAME_KEY);
	down(want);
	assert_memory_equal(keyring_find(kr, "tokyo-2"), want, FRAME_KEY);
	assert_null(keyring_find(kr, "tokyo"));
	assert_null(keyring_find(kr, "tokyo-2x"));
	assert_null(keyring_find(kr, ""));
	keyring_free(kr);
	keyring_free(NULL);

	/* Only comments: an empty keyring. */
	put(f, "# none yet\n", 0600);
	kr = keyring_load(f->path, err, sizeof(err));
	assert_non_null(kr);
	assert_int_equal(keyring_count(kr), 0);
	assert_null(keyring_find(kr, "a"));
	keyring_free(kr);
}

static void
test_keyring_bad(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"s1\n", ":1: expected"},
	    {"# ok\ns1 " HEX_UP " extra\n", ":2: expected"},
	    {"s/1 " HEX_UP "\n", ":1: bad sensor id"},
	    {"s1 " HEX_UP "\ns2 00\n", ":2: key of s2"},
	    {"s1 " HEX_UP "\ns2 " HEX_UP "\ns1 " HEX_DOWN "\n",
		"s1 listed twice"},
	};
	struct fixture *f = *state;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(f, bad[i].text, 0600);
		err[0] = '\0';
		if (keyring_load(f->path, err, sizeof(err)) != NULL)
			fail_msg("bad keys file %zu accepted", i);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("keys file %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].want);
	}
}

/* A new key file: mode 0600, read back, never silently replaced. */
static void
test_create(void **state)
{
	struct fixture *f = *state;
	uint8_t key[FRAME_KEY], want[FRAME_KEY];
	char err[256] = "", text[80];
	struct stat st;
	FILE *fp;

	(void)unlink(f->path);
	up(want);
	/* A umask that would let everyone read: the mode is still 0600. */
	umask(0);
	assert_int_equal(keyfile_create(f->path, want, 0, err, sizeof(err)), 0);
	umask(022);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(text, HEX_UP "\n");
	assert_int_equal(keyfile_read(f->path, key, err, sizeof(err)), 0);
	assert_memory_equal(key, want, FRAME_KEY);
	/* An existing file stays as it was unless replace is set. */
	down(want);
	assert_int_equal(keyfile_create(f->path, want, 0, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "--force"));
	assert_int_equal(keyfile_read(f->path, key, err, sizeof(err)), 0);
	up(want);
	assert_memory_equal(key, want, FRAME_KEY);
	down(want);
	assert_int_equal(keyfile_create(f->path, want, 1, err, sizeof(err)), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(keyfile_read(f->path, key, err, sizeof(err)), 0);
	assert_memory_equal(key, want, FRAME_KEY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secrecy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyring_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for config_load: each key found calls its setter, and every
 * mistake comes back as one line naming the file and the line
 * (doc/CONTRACTS.md contract 9).  Config files are written to a temporary
 * directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "interval.h"

#define MAXCALLS 16

/* The setters' record of what they were given, in order. */
struct calls {
	char v[MAXCALLS][512];
	int n;
};

static const char *
record(void *arg, const char *name, const char *value)
{
	struct calls *c = arg;

	assert_true(c->n < MAXCALLS);
	snprintf(c->v[c->n++], sizeof(c->v[0]), "%s=%s", name, value);
	return NULL;
}

static const char *
set_interval(void *arg, const char *value)
{
	uint32_t len;

	record(arg, "interval", value);
	if (interval_parse(value, &len) == -1)
		return "must be a whole number of seconds, 1 to 86400";
	return NULL;
}

static const char *
set_name(void *arg, const char *value)
{
	return record(arg, "name", value);
}

static const char *
set_filter(void *arg, const char *value)
{
	return record(arg, "filter", value);
}

static const char *
set_address(void *arg, const char *value)
{
	return record(arg, "address", value);
}

static const struct config_key keys[] = {
    {"sensor", "interval", set_interval},
    {"sensor", "name", set_name},
    {"sensor", "filter", set_filter},
    {"aggregator", "address", set_address},
    {NULL, NULL, NULL},
};

static const char *
tmpdir(void)
{
	const char *d = getenv("TMPDIR");

	return d != NULL && *d != '\0' ? d : "/tmp";
}

/* Write text to a new temporary file; its name goes in path. */
static void
write_conf(char *path, size_t len, const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, len, "%s/teiten-test-config.XXXXXX", tmpdir());
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Load text as a config file; returns config_load's result. */
static int
load(const char *text, struct calls *c, char *err, size_t errlen, char *path,
    size_t pathlen)
{
	int rc;

	write_conf(path, pathlen, text);
	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	rc = config_load(path, keys, c, err, errlen);
	unlink(path);
	return rc;
}

/* err must be "PATH:LINE: ..." and mention what. */
static void
assert_err_at(const char *err, const char *path, int line, const char *what)
{
	char prefix[512];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", err, prefix);
	if (what != NULL && strstr(err + strlen(prefix), what) == NULL)
		fail_msg("\"%s\" does not mention \"%s\"", err, what);
	assert_null(strchr(err, '\n'));
}

static void
test_good(void **state)
{
	static const char text[] = "; teiten sensor\n"
				   "# comments of both kinds\n"
				   "\n"
				   "[sensor]\n"
				   "interval = 300\n"
				   "name=tokyo-1\n"
				   "filter = not port 22\n"
				   "\n"
				   "[aggregator]\n"
				   "address = 192.0.2.10:4740\n";
	struct calls c;
	char err[512], path[256];

	(void)state;
	assert_int_equal(load(text, &c, err, sizeof(err), path, sizeof(path)),
	    0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.v[0], "interval=300");
	assert_string_equal(c.v[1], "name=tokyo-1");
	assert_string_equal(c.v[2], "filter=not port 22");
	assert_string_equal(c.v[3], "address=192.0.2.10:4740");
}

static void
test_empty(void **state)
{
	struct calls c;
	char err[512], path[256];

	(void)state;
	assert_int_equal(load("", &c, err, sizeof(err), path, sizeof(path)), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(load("; only a comment\n\n", &c, err, sizeof(err),
			     path, sizeof(path)),
	    0);
	assert_int_equal(c.n, 0);
}

static void
test_unknown_key(void **state)
{
	struct calls c;
	char err[512], path[256];

	(void)state;
	assert_int_equal(load("[sensor]\ninterval = 60\ncolour = blue\n"
			      "name = x\n",
			     &c, err, sizeof(err), path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 3, "colour");
	/* A known key in the wrong section is unknown there. */
	assert_int_equal(load("[aggregator]\ninterval = 60\n", &c, err,
			     sizeof(err), path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 2, "interval");
	assert_int_equal(c.n, 0);
	assert_int_equal(load("[sensor]\nname = a\n\n[bogus]\nkey = 1\n", &c,
			     err, sizeof(err), path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 5, "key");
	/* Before any section. */
	assert_int_equal(load("name = x\n[sensor]\n", &c, err, sizeof(err),
			     path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 1, "name");
	assert_int_equal(c.n, 0);
}

static void
test_setter_fails(void **state)
{
	struct calls c;
	char err[512], path[256];

	(void)state;
	assert_int_equal(load("[sensor]\nname = x\n\n; why not\ninterval = 0\n",
			     &c, err, sizeof(err), path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 5, "interval");
	/* The setter's own reason reaches the user. */
	assert_non_null(strstr(err, "whole number of seconds"));
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[1], "interval=0");
}

/* With several mistakes the first one is reported, with its line. */
static void
test_first_error(void **state)
{
	struct calls c;
	char err[512], path[256];

	(void)state;
	assert_int_equal(load("[sensor]\n\ncolour = 1\ninterval = 0\n"
			      "size = 2\n",
			     &c, err, sizeof(err), path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 3, "colour");
	assert_int_equal(load("[sensor]\ninterval = 99999\ncolour = 1\n", &c,
			     err, sizeof(err), path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 2, "interval");
}

static void
test_syntax_error(void **state)
{
	struct calls c;
	char err[512], path[256];

	(void)state;
	assert_int_equal(load("[sensor]\nname = x\ninterval 60\n", &c, err,
			     sizeof(err), path, sizeof(path)),
	    -1);
	assert_err_at(err, path, 3, NULL);
	assert_int_equal(load("[sensor\nname = x\n", &c, err, sizeof(err), path,
			     sizeof(path)),
	    -1);
	assert_err_at(err, path, 1, NULL);
}

/*
 * A BPF filter or a list of monitored prefixes easily passes 200
 * characters; the setter must get the whole value, not a piece of it
 * and an error about a line the file does not have.
 */
/*
 * Debian's inih splits lines over its 200-byte buffer.  The loader must
 * refuse such a line by its number rather than parse the pieces, and
 * accept the longest line that fits.
 */
static void
test_long_line(void **state)
{
	char text[1024], want[512], value[400], expect[64];
	struct calls c;
	char err[512], path[256];
	size_t n;

	(void)state;
	strcpy(value, "not port 22");
	for (n = 0; n < 20; n++)
		strcat(value, " and not port 1");
	snprintf(text, sizeof(text), "[sensor]\nname = x\nfilter = %s\n",
	    value);
	assert_int_equal(load(text, &c, err, sizeof(err), path, sizeof(path)),
	    -1);
	snprintf(expect, sizeof(expect), ":3: line longer than %d",
	    CONFIG_MAX_LINE);
	assert_non_null(strstr(err, expect));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);

	/* "filter = " is 9 characters; the value fills the line exactly. */
	memset(value, 'x', CONFIG_MAX_LINE - 9);
	value[CONFIG_MAX_LINE - 9] = '\0';
	snprintf(text, sizeof(text), "[sensor]\nfilter = %s\nname = x\n",
	    value);
	if (load(text, &c, err, sizeof(err), path, sizeof(path)) != 0)
		fail_msg("%d-character line refused: %s", CONFIG_MAX_LINE, err);
	snprintf(want, sizeof(want), "filter=%s", value);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], want);
	assert_string_equal(c.v[1], "name=x");

	/* One character more is refused. */
	strcat(value, "x");
	snprintf(text, sizeof(text), "[sensor]\nfilter = %s\n", value);
	assert_int_equal(load(text, &c, err, sizeof(err), path, sizeof(path)),
	    -1);
	assert_non_null(strstr(err, ":2: line longer than"));
}

static void
test_missing_file(void **state)
{
	char err[512], path[256];
	struct calls c;

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(path, sizeof(path), "%s/teiten-no-such-dir/teiten.conf",
	    tmpdir());
	assert_int_equal(config_load(path, keys, &c, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(c.n, 0);
}

/*
 * A directory opens but cannot be read: that is an unreadable file, not
 * an empty config.
 */
static void
test_directory(void **state)
{
	char err[512], path[256];
	struct calls c;

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(path, sizeof(path), "%s/teiten-test-dir.XXXXXX", tmpdir());
	assert_non_null(mkdtemp(path));
	err[0] = '\0';
	if (config_load(path, keys, &c, err, sizeof(err)) != -1) {
		rmdir(path);
		fail_msg("directory %s loaded as an empty config", path);
	}
	rmdir(path);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
}

static void
test_unreadable_file(void **state)
{
	char err[512], path[256];
	struct calls c;
	int rc;

	(void)state;
	/* Root reads through permissions; nothing to test then. */
	if (geteuid() == 0)
		skip();
	memset(&c, 0, sizeof(c));
	write_conf(path, sizeof(path), "[sensor]\nname = x\n");
	assert_int_equal(chmod(path, 0), 0);
	rc = config_load(path, keys, &c, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -1);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_non_null(strstr(err, strerror(EACCES)));
	assert_int_equal(c.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_setter_fails),
	    cmocka_unit_test(test_first_error),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_directory),
	    cmocka_unit_test(test_unreadable_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

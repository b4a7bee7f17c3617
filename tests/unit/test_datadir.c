/*
 * Unit tests for datadir (aggregator/datadir.h), the layout of DATADIR:
 * the path builders give exactly the documented paths, under a root or
 * under its catch-up tree, cut short to len; a marker holds one decimal
 * number, written through <marker>.tmp and renamed over, and reads back
 * as its default when absent; DATADIR/step is checked when it is read.
 * The expected paths are written out by hand from the layout in
 * datadir.h, not built with the code under test.
 */
#define _XOPEN_SOURCE 700
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datadir.h"
#include "tmpdir.h"

static int
setup(void **state)
{
	char *dir = calloc(1, 64);

	if (dir == NULL || tmpdir_make(dir, 64, "datadir") == -1) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int
teardown(void **state)
{
	char *dir = *state;
	int rc = tmpdir_remove(dir);

	free(dir);
	return rc;
}

/* dir/name holding exactly text. */
static void
put_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) == EOF, 0);
	assert_int_equal(fclose(fp), 0);
}

/* What dir/name holds, in buf. */
static void
get_file(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[256];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, cap - 1, fp);
	assert_false(ferror(fp));
	buf[n] = '\0';
	assert_int_equal(fclose(fp), 0);
}

/* The names in dir, sorted, each followed by a space. */
static void
list_dir(const char *dir, char *buf, size_t cap)
{
	struct dirent **ents;
	size_t at = 0;
	int i, n;

	assert_true((n = scandir(dir, &ents, NULL, alphasort)) >= 0);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 &&
		    strcmp(ents[i]->d_name, "..") != 0) {
			at += (size_t)snprintf(buf + at, cap - at, "%s ",
			    ents[i]->d_name);
			assert_true(at < cap);
		}
		free(ents[i]);
	}
	free(ents);
}

static void
test_proto_names(void **state)
{
	(void)state;
	assert_string_equal(datadir_proto(PROTO_TCP), "tcp");
	assert_string_equal(datadir_proto(PROTO_UDP), "udp");
	assert_string_equal(datadir_proto(PROTO_ICMP), "icmp");
	assert_string_equal(datadir_proto(PROTO_ICMP6), "icmp6");
	assert_string_equal(datadir_proto(PROTO_COUNT), "?");
}

/*
 * Every builder's path under root; the expectations are the layout of
 * datadir.h with root put in front.
 */
static void
check_paths(const char *root)
{
	char buf[DATADIR_PATH_MAX], want[DATADIR_PATH_MAX];

#define PATH_IS(suffix) \
	do { \
		snprintf(want, sizeof(want), "%s%s", root, suffix); \
		assert_string_equal(buf, want); \
	} while (0)
	datadir_marker_path(root, DATADIR_STEP, buf, sizeof(buf));
	PATH_IS("/step");
	datadir_marker_path(root, DATADIR_LAST_FINAL, buf, sizeof(buf));
	PATH_IS("/last_final");
	datadir_marker_path(root, DATADIR_GENERATION, buf, sizeof(buf));
	PATH_IS("/generation");
	datadir_marker_path(root, DATADIR_CATCHUP, buf, sizeof(buf));
	PATH_IS("/catchup");
	datadir_archive_dir(root, buf, sizeof(buf));
	PATH_IS("/archive");
	datadir_rrd_dir(root, buf, sizeof(buf));
	PATH_IS("/rrd");
	datadir_proto_dir(root, PROTO_TCP, buf, sizeof(buf));
	PATH_IS("/rrd/tcp");
	datadir_proto_dir(root, PROTO_ICMP6, buf, sizeof(buf));
	PATH_IS("/rrd/icmp6");
	/* Key indices: tcp from 0, udp from 65536, icmp, icmp6 after. */
	datadir_key_rrd(root, 0, buf, sizeof(buf));
	PATH_IS("/rrd/tcp/0.rrd");
	datadir_key_rrd(root, 22, buf, sizeof(buf));
	PATH_IS("/rrd/tcp/22.rrd");
	datadir_key_rrd(root, 65535, buf, sizeof(buf));
	PATH_IS("/rrd/tcp/65535.rrd");
	datadir_key_rrd(root, 65536 + 53, buf, sizeof(buf));
	PATH_IS("/rrd/udp/53.rrd");
	datadir_key_rrd(root, 131072 + 8, buf, sizeof(buf));
	PATH_IS("/rrd/icmp/8.rrd");
	datadir_key_rrd(root, 131328 + 128, buf, sizeof(buf));
	PATH_IS("/rrd/icmp6/128.rrd");
	datadir_key_rrd(root, 131583, buf, sizeof(buf));
	PATH_IS("/rrd/icmp6/255.rrd");
	datadir_sensors_rrd(root, buf, sizeof(buf));
	PATH_IS("/rrd/sensors.rrd");
	datadir_sensor_dir(root, buf, sizeof(buf));
	PATH_IS("/rrd/sensor");
	datadir_sensor_rrd(root, "tokyo-3", buf, sizeof(buf));
	PATH_IS("/rrd/sensor/tokyo-3.rrd");
	datadir_faults_dir(root, buf, sizeof(buf));
	PATH_IS("/faults");
	datadir_faults_rrd(root, "tokyo-3", buf, sizeof(buf));
	PATH_IS("/faults/tokyo-3.rrd");
	datadir_summary_dir(root, buf, sizeof(buf));
	PATH_IS("/summary");
	datadir_sum_dir(root, DATADIR_SUM_HOUR, buf, sizeof(buf));
	PATH_IS("/summary/hour");
	datadir_sum_dir(root, DATADIR_SUM_DAY, buf, sizeof(buf));
	PATH_IS("/summary/day");
	datadir_sum_bucket(root, DATADIR_SUM_HOUR, 1700000000, buf,
	    sizeof(buf));
	PATH_IS("/summary/hour/1700000000.sum");
	datadir_sum_bucket(root, DATADIR_SUM_DAY, -86400, buf, sizeof(buf));
	PATH_IS("/summary/day/-86400.sum");
	datadir_catchup_tree(root, buf, sizeof(buf));
	PATH_IS("/catchup.d");
#undef PATH_IS
}

static void
test_paths(void **state)
{
	(void)state;
	check_paths("/var/lib/teiten");
	check_paths("rel");
}

/* Under the catch-up tree, the same layout with catchup.d in front. */
static void
test_catchup_tree(void **state)
{
	char tree[DATADIR_PATH_MAX], buf[DATADIR_PATH_MAX];

	(void)state;
	datadir_catchup_tree("/var/lib/teiten", tree, sizeof(tree));
	assert_string_equal(tree, "/var/lib/teiten/catchup.d");
	datadir_key_rrd(tree, 65536 + 53, buf, sizeof(buf));
	assert_string_equal(buf, "/var/lib/teiten/catchup.d/rrd/udp/53.rrd");
	datadir_sum_bucket(tree, DATADIR_SUM_DAY, 1699920000, buf, sizeof(buf));
	assert_string_equal(buf,
	    "/var/lib/teiten/catchup.d/summary/day/1699920000.sum");
	datadir_sensors_rrd(tree, buf, sizeof(buf));
	assert_string_equal(buf, "/var/lib/teiten/catchup.d/rrd/sensors.rrd");
	check_paths(tree);
}

/* A short buffer gets the path's first len - 1 bytes, terminated. */
static void
test_truncation(void **state)
{
	char buf[32];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	datadir_key_rrd("/var/lib/teiten", 22, buf, 10);
	assert_string_equal(buf, "/var/lib/");
	assert_int_equal(buf[10], 'x'); /* nothing written past len */
	datadir_sensor_rrd("/d", "tokyo-3", buf, 8);
	assert_string_equal(buf, "/d/rrd/");
	datadir_marker_path("/d", DATADIR_STEP, buf, 1);
	assert_string_equal(buf, "");
	/* Exactly long enough: nothing is cut. */
	datadir_marker_path("/d", DATADIR_STEP, buf, sizeof("/d/step"));
	assert_string_equal(buf, "/d/step");
}

/*
 * datadir.h: DATADIR_PATH_MAX holds every path under a DATADIR shorter
 * than 3800 bytes, the catch-up tree's included.
 */
static void
test_path_max(void **state)
{
	char root[3800], tree[DATADIR_PATH_MAX], buf[DATADIR_PATH_MAX];
	char id[65];
	size_t n;

	(void)state;
	memset(root, 'r', sizeof(root) - 1);
	root[0] = '/';
	root[sizeof(root) - 1] = '\0';
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	datadir_catchup_tree(root, tree, sizeof(tree));
	n = strlen(tree);
	assert_int_equal(n, 3799 + strlen("/catchup.d"));
	datadir_sensor_rrd(tree, id, buf, sizeof(buf));
	assert_int_equal(strlen(buf), n + strlen("/rrd/sensor/") + 64 + 4);
	assert_string_equal(buf + strlen(buf) - 4, ".rrd");
	datadir_sum_bucket(tree, DATADIR_SUM_HOUR, INT64_MIN, buf, sizeof(buf));
	assert_string_equal(buf + n, "/summary/hour/-9223372036854775808.sum");
	datadir_key_rrd(tree, 131583, buf, sizeof(buf));
	assert_string_equal(buf + n, "/rrd/icmp6/255.rrd");
}

static void
test_markers_absent(void **state)
{
	const char *dir = *state;

	assert_true(datadir_last_final(dir) == INT64_MIN);
	assert_true(datadir_generation(dir) == 0);
	assert_int_equal(datadir_has_catchup(dir), 0);
	/* Clearing what is not there is not an error. */
	assert_int_equal(datadir_clear_catchup(dir), 0);
}

static void
test_markers_round_trip(void **state)
{
	const char *dir = *state;
	char text[64];

	assert_int_equal(datadir_save_last_final(dir, 1700000040), 0);
	assert_true(datadir_last_final(dir) == 1700000040);
	get_file(dir, "last_final", text, sizeof(text));
	assert_string_equal(text, "1700000040\n");
	/* A new value replaces the old one. */
	assert_int_equal(datadir_save_last_final(dir, -60), 0);
	assert_true(datadir_last_final(dir) == -60);
	assert_int_equal(datadir_save_last_final(dir, INT64_MAX), 0);
	assert_true(datadir_last_final(dir) == INT64_MAX);

	assert_int_equal(datadir_save_generation(dir, 7), 0);
	assert_true(datadir_generation(dir) == 7);
	get_file(dir, "generation", text, sizeof(text));
	assert_string_equal(text, "7\n");
	assert_int_equal(datadir_save_generation(dir, 8), 0);
	assert_true(datadir_generation(dir) == 8);

	assert_int_equal(datadir_save_catchup(dir, 1699999980), 0);
	assert_int_equal(datadir_has_catchup(dir), 1);
	get_file(dir, "catchup", text, sizeof(text));
	assert_string_equal(text, "1699999980\n");
	assert_int_equal(datadir_clear_catchup(dir), 0);
	assert_int_equal(datadir_has_catchup(dir), 0);

	assert_int_equal(datadir_save_step(dir, 300), 0);
	get_file(dir, "step", text, sizeof(text));
	assert_string_equal(text, "300\n");

	/* Renamed into place: no <marker>.tmp is left behind. */
	list_dir(dir, text, sizeof(text));
	assert_string_equal(text, "generation last_final step ");
}

/* A marker that holds no number reads as its default. */
static void
test_markers_garbage(void **state)
{
	const char *dir = *state;

	put_file(dir, "last_final", "soon\n");
	put_file(dir, "generation", "");
	assert_true(datadir_last_final(dir) == INT64_MIN);
	assert_true(datadir_generation(dir) == 0);
}

/*
 * DATADIR/timezone: UTC when absent (every DATADIR before it), a name
 * saved reads back, and a file holding no zone name is an error.
 */
static void
test_zone(void **state)
{
	const char *dir = *state;
	char zone[64], text[64];

	assert_int_equal(datadir_zone(dir, zone, sizeof(zone)), 0);
	assert_string_equal(zone, "UTC");
	assert_int_equal(datadir_save_zone(dir, "Asia/Tokyo"), 0);
	get_file(dir, "timezone", text, sizeof(text));
	assert_string_equal(text, "Asia/Tokyo\n");
	assert_int_equal(datadir_zone(dir, zone, sizeof(zone)), 0);
	assert_string_equal(zone, "Asia/Tokyo");
	/* Too long for the caller's buffer: refused, not cut. */
	assert_int_equal(datadir_zone(dir, zone, 5), -1);
	put_file(dir, "timezone", "\n");
	assert_int_equal(datadir_zone(dir, zone, sizeof(zone)), -1);
	assert_int_equal(errno, EINVAL);
	put_file(dir, "timezone", "Asia/Tokyo; rm -rf\n");
	assert_int_equal(datadir_zone(dir, zone, sizeof(zone)), -1);
	assert_int_equal(errno, EINVAL);
}

/* A stale .tmp from a crash is overwritten and renamed away. */
static void
test_markers_stale_tmp(void **state)
{
	const char *dir = *state;
	char text[64];

	put_file(dir, "generation.tmp", "123456789012345678\n");
	assert_int_equal(datadir_save_generation(dir, 3), 0);
	get_file(dir, "generation", text, sizeof(text));
	assert_string_equal(text, "3\n");
	list_dir(dir, text, sizeof(text));
	assert_string_equal(text, "generation ");
}

/*
 * A save that cannot be renamed into place fails and removes its .tmp;
 * the marker keeps what it was (here a directory in its way).
 */
static void
test_markers_save_fails(void **state)
{
	const char *dir = *state;
	char path[128], text[64];

	snprintf(path, sizeof(path), "%s/last_final", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(datadir_save_last_final(dir, 60), -1);
	list_dir(dir, text, sizeof(text));
	assert_string_equal(text, "last_final ");
	/* No DATADIR at all. */
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(datadir_save_generation(path, 1), -1);
	list_dir(dir, text, sizeof(text));
	assert_string_equal(text, "last_final ");
}

static void
step_is(const char *dir, const char *text, int err, uint32_t want)
{
	uint32_t step = 12345;

	put_file(dir, "step", text);
	errno = 0;
	if (err == 0) {
		assert_int_equal(datadir_step(dir, &step), 0);
		assert_int_equal(step, want);
	} else {
		assert_int_equal(datadir_step(dir, &step), -1);
		assert_int_equal(errno, err);
	}
}

static void
test_step(void **state)
{
	const char *dir = *state;
	uint32_t step = 0;

	errno = 0;
	assert_int_equal(datadir_step(dir, &step), -1);
	assert_int_equal(errno, ENOENT);

	step_is(dir, "60\n", 0, 60);
	step_is(dir, "300", 0, 300);
	step_is(dir, "1\n", 0, 1);
	step_is(dir, "86400\n", 0, 86400); /* INTERVAL_MAX, a day */

	step_is(dir, "", EINVAL, 0);
	step_is(dir, "\n", EINVAL, 0);
	step_is(dir, "0\n", EINVAL, 0);
	step_is(dir, "86401\n", EINVAL, 0);
	step_is(dir, "-60\n", EINVAL, 0);
	step_is(dir, "sixty\n", EINVAL, 0);
	step_is(dir, "60s\n", EINVAL, 0);
	step_is(dir, "99999999999999999999999\n", EINVAL, 0);

	/* What datadir_save_step() writes reads back. */
	assert_int_equal(datadir_save_step(dir, 3600), 0);
	assert_int_equal(datadir_step(dir, &step), 0);
	assert_int_equal(step, 3600);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_proto_names),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_catchup_tree),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_path_max),
	    cmocka_unit_test_setup_teardown(test_markers_absent, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_markers_round_trip, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_markers_garbage, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_zone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_markers_stale_tmp, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_markers_save_fails, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_step, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

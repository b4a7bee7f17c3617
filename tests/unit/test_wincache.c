/*
 * Unit tests for wincache (graph/wincache.h): a cached window is used
 * while the generation and the newest final interval inside the window are
 * those it was computed from, and computed again from the summary when
 * either changes or the file is damaged.  To tell a hit from a fresh
 * computation, the summary is changed behind the cache's back: a hit
 * still shows the old window.  D is 2024-01-01T00:00:00Z.
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

#include "rrdw.h"
#include "summary.h"
#include "window.h"
#include "wincache.h"
#include "tmpdir.h"

#define D ((int64_t)1704067200)
#define H 3600
#define TCP22 22
#define TCP443 443

struct fixture {
	char dir[64], cache[96], file[160];
	struct summary *s;
};

static void
add(struct summary *s, int64_t start, uint32_t idx, double avg)
{
	struct rrd_job j;

	memset(&j, 0, sizeof(j));
	j.start = start;
	j.len = 60;
	j.nsensors = 1;
	j.nvalues = 1;
	j.idx = &idx;
	j.avg = &avg;
	assert_int_equal(summary_add(s, &j), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256] = "";

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "wincache") == -1)
		return -1;
	snprintf(f->cache, sizeof(f->cache), "%s/cache", f->dir);
	if (mkdir(f->cache, 0700) == -1)
		return -1;
	/* [D, D + 2 h): 1704067200 + 7200 = 1704074400. */
	snprintf(f->file, sizeof(f->file), "%s/1704067200-1704074400.win",
	    f->cache);
	if ((f->s = summary_open(f->dir, err, sizeof(err))) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	summary_free(f->s);
	rc = tmpdir_remove(f->dir);
	free(f);
	return rc;
}

/* The window [D, D + 2 h) through the cache; its interval count. */
static uint64_t
get(const struct fixture *f, int64_t generation, int64_t last_final)
{
	struct window w;
	char err[512] = "";
	uint64_t n;

	if (wincache_window(f->dir, f->cache, generation, last_final, D,
		D + 2 * H, &w, err, sizeof(err)) == -1)
		fail_msg("wincache_window: %s", err);
	assert_null(window_check(&w));
	assert_true(w.start == D && w.end == D + 2 * H);
	n = w.nintervals;
	window_free(&w);
	return n;
}

static long
file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	return (long)st.st_size;
}

static void
test_name(void **state)
{
	char buf[64];

	(void)state;
	wincache_name(D, D + 2 * H, buf, sizeof(buf));
	assert_string_equal(buf, "1704067200-1704074400.win");
	wincache_name(-86400, 0, buf, sizeof(buf));
	assert_string_equal(buf, "-86400-0.win");
}

static void
test_hit_and_stale(void **state)
{
	struct fixture *f = *state;
	struct window w;
	char err[512] = "";

	add(f->s, D, TCP22, 3.0);
	add(f->s, D + 60, TCP22, 1.0);
	assert_int_equal(get(f, 1, D + 60), 2);
	/* Header 64 bytes, then 1 key: 4 + 8. */
	assert_int_equal(file_size(f->file), 64 + 4 + 8);

	/* Behind the cache's back: a hit still says 2. */
	add(f->s, D + 120, TCP443, 9.0);
	assert_int_equal(get(f, 1, D + 60), 2);
	/* A newer final interval inside the window: computed again. */
	assert_int_equal(get(f, 1, D + 120), 3);
	assert_int_equal(file_size(f->file), 64 + 2 * (4 + 8));
	/* Another generation: computed again. */
	add(f->s, D + 180, TCP443, 1.0);
	assert_int_equal(get(f, 1, D + 120), 3);
	assert_int_equal(get(f, 2, D + 120), 4);

	/* The cached window is the summary's, key for key. */
	assert_int_equal(wincache_window(f->dir, f->cache, 2, D + 120, D,
			     D + 2 * H, &w, err, sizeof(err)),
	    0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.idx[0], TCP443);
	assert_true(w.mean[0] == (9.0 + 1.0) / 4);
	assert_int_equal(w.idx[1], TCP22);
	assert_true(w.mean[1] == (3.0 + 1.0) / 4);
	window_free(&w);
}

/* Final intervals after the window's end do not make it stale. */
static void
test_after_end(void **state)
{
	struct fixture *f = *state;

	add(f->s, D, TCP22, 1.0);
	assert_int_equal(get(f, 1, D + 5 * H), 1);
	add(f->s, D + 60, TCP22, 1.0);
	assert_int_equal(get(f, 1, D + 6 * H), 1); /* still a hit */
	assert_int_equal(get(f, 1, D + 60), 2); /* inside: stale */
}

static void
test_damaged(void **state)
{
	struct fixture *f = *state;
	FILE *fp;

	add(f->s, D, TCP22, 1.0);
	assert_int_equal(get(f, 1, D), 1);
	add(f->s, D + 60, TCP22, 1.0);
	/* Cut short: damaged, computed again, written whole again. */
	assert_int_equal(truncate(f->file, 64 + 4), 0);
	assert_int_equal(get(f, 1, D), 2);
	assert_int_equal(file_size(f->file), 64 + 4 + 8);
	/* A byte too many. */
	add(f->s, D + 120, TCP22, 1.0);
	fp = fopen(f->file, "ab");
	assert_non_null(fp);
	assert_int_equal(fputc(0, fp), 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(get(f, 1, D), 3);
	/* A negative mean (bytes 68-75): fails window_check(). */
	add(f->s, D + 180, TCP22, 1.0);
	fp = fopen(f->file, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 64 + 4, SEEK_SET), 0);
	assert_int_equal(fwrite(&(double){-1.0}, 8, 1, fp), 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(get(f, 1, D), 4);
}

/* No cache directory: only slower. A bad window: the summary's error. */
static void
test_errors(void **state)
{
	struct fixture *f = *state;
	struct window w;
	char err[512] = "", nodir[160];

	add(f->s, D, TCP22, 1.0);
	snprintf(nodir, sizeof(nodir), "%s/none", f->dir);
	assert_int_equal(wincache_window(f->dir, nodir, 1, D, D, D + 2 * H, &w,
			     err, sizeof(err)),
	    0);
	assert_int_equal(w.nintervals, 1);
	window_free(&w);
	assert_int_equal(wincache_window(f->dir, f->cache, 1, D, D, D + 1, &w,
			     err, sizeof(err)),
	    -1);
	assert_true(err[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name),
	    cmocka_unit_test_setup_teardown(test_hit_and_stale, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_after_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

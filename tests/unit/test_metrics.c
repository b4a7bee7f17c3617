/*
 * Unit tests for metrics: the exposition text of each kind of sample,
 * byte for byte as the Prometheus text format 0.0.4 writes it (label
 * values escaped, histogram buckets cumulative, +Inf last, counters exact
 * beyond 2^53), and the histogram's bucket boundaries (a value equal to
 * a bound is in that bucket).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void
test_head_and_samples(void **state)
{
	struct metrics_out *o = metrics_out_new();
	const char *l[] = {"outcome", "stored", "sensor", "a\"b\\c\nd", NULL};

	(void)state;
	metrics_head(o, "x_total", METRICS_COUNTER, "Help with \\ and\nline.");
	metrics_u64(o, "x_total", NULL, UINT64_MAX);
	metrics_u64(o, "x_total", l, 9007199254740993ull);
	metrics_head(o, "g", METRICS_GAUGE, "G.");
	metrics_f64(o, "g", NULL, 0.25);
	metrics_f64(o, "g", l, INFINITY);
	assert_string_equal(metrics_out_text(o),
	    "# HELP x_total Help with \\\\ and\\nline.\n"
	    "# TYPE x_total counter\n"
	    "x_total 18446744073709551615\n"
	    "x_total{outcome=\"stored\",sensor=\"a\\\"b\\\\c\\nd\"} "
	    "9007199254740993\n"
	    "# HELP g G.\n"
	    "# TYPE g gauge\n"
	    "g 0.25\n"
	    "g{outcome=\"stored\",sensor=\"a\\\"b\\\\c\\nd\"} +Inf\n");
	metrics_out_free(o);
}

static const double bounds[] = {0.5, 1, 2};

static void
test_histogram(void **state)
{
	struct metrics_out *o = metrics_out_new();
	struct metrics_hist h;
	const char *l[] = {"disk", "a", NULL};

	(void)state;
	metrics_hist_init(&h, bounds, 3);
	/* 0.5 is in le="0.5"; 1.5 in le="2"; 3 only in +Inf. */
	metrics_hist_observe(&h, 0.25);
	metrics_hist_observe(&h, 0.5);
	metrics_hist_observe(&h, 1.5);
	metrics_hist_observe(&h, 3);
	metrics_head(o, "t_seconds", METRICS_HISTOGRAM, "T.");
	metrics_histogram(o, "t_seconds", NULL, &h);
	metrics_histogram(o, "t_seconds", l, &h);
	assert_string_equal(metrics_out_text(o),
	    "# HELP t_seconds T.\n"
	    "# TYPE t_seconds histogram\n"
	    "t_seconds_bucket{le=\"0.5\"} 2\n"
	    "t_seconds_bucket{le=\"1\"} 2\n"
	    "t_seconds_bucket{le=\"2\"} 3\n"
	    "t_seconds_bucket{le=\"+Inf\"} 4\n"
	    "t_seconds_sum 5.25\n"
	    "t_seconds_count 4\n"
	    "t_seconds_bucket{disk=\"a\",le=\"0.5\"} 2\n"
	    "t_seconds_bucket{disk=\"a\",le=\"1\"} 2\n"
	    "t_seconds_bucket{disk=\"a\",le=\"2\"} 3\n"
	    "t_seconds_bucket{disk=\"a\",le=\"+Inf\"} 4\n"
	    "t_seconds_sum{disk=\"a\"} 5.25\n"
	    "t_seconds_count{disk=\"a\"} 4\n");
	metrics_out_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head_and_samples),
	    cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

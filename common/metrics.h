/*
 * The daemons' metrics: the Prometheus text exposition format (0.0.4)
 * written into a buffer, and a small HTTP server (libevent's evhttp) on
 * the "metrics = ADDR:PORT" address that answers GET /metrics with what a
 * callback writes, on the caller's event loop.  Names and label names are
 * the caller's constants; label values and help texts are escaped here.
 */
#ifndef TEITEN_METRICS_H
#define TEITEN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct metrics_out;

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/*
 * A histogram of observations, as Prometheus keeps one: count[i] holds
 * the observations at most bound[i] and above bound[i - 1]; the last
 * count, those above every bound (+Inf).  Bounds ascend.
 */
#define METRICS_HIST_MAX 16
struct metrics_hist {
	const double *bound;
	size_t nbound; /* at most METRICS_HIST_MAX - 1 */
	uint64_t count[METRICS_HIST_MAX];
	uint64_t n;
	double sum;
};

/* Zeroed, with these bounds (kept by pointer: static storage). */
void metrics_hist_init(struct metrics_hist *, const double *bound, size_t n);
void metrics_hist_observe(struct metrics_hist *, double v);

/* The "# HELP" and "# TYPE" lines of a family; its samples follow. */
void metrics_head(struct metrics_out *, const char *name, enum metrics_type,
    const char *help);
/*
 * One sample.  labels: NULL, or name, value, name, value, ..., NULL.
 * Counters keep integers exact beyond 2^53, so they have their own call.
 */
void metrics_u64(struct metrics_out *, const char *name,
    const char *const *labels, uint64_t v);
void metrics_f64(struct metrics_out *, const char *name,
    const char *const *labels, double v);
/* name_bucket{le=...} for each bound and +Inf, name_sum, name_count. */
void metrics_histogram(struct metrics_out *, const char *name,
    const char *const *labels, const struct metrics_hist *);

/* A buffer to write into outside a server (the unit tests). */
struct metrics_out *metrics_out_new(void);
/* NUL-terminated text written so far; valid until the next write. */
const char *metrics_out_text(struct metrics_out *);
void metrics_out_free(struct metrics_out *);

/* Fills the text of one scrape. */
typedef void (*metrics_fill_fn)(struct metrics_out *, void *arg);

struct metrics;

/*
 * Listen on addr (ADDR:PORT, "*" for every address) at once, so that a
 * port below 1024 can be bound before root is dropped; requests are
 * answered whenever base's loop runs.  NULL with one line in err.
 */
struct metrics *metrics_new(struct event_base *, const char *addr,
    metrics_fill_fn, void *arg, char *err, size_t errlen);
/* Accepts NULL. */
void metrics_free(struct metrics *);

#endif

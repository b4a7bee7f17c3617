/*
 * The parts of the site generator (site.h) and what they share: struct
 * site, built by site_generate() in site.c and passed to every part, and
 * each part's entry points.  Private to graph/site*.c.  Those that take
 * a struct site and return int give 0, or -1 with the reason in st->err
 * (site_fail); the rest cannot fail.
 */
#ifndef TEITEN_SITE_INT_H
#define TEITEN_SITE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "period.h"
#include "sensbucket.h"
#include "site.h"
#include "span.h"
#include "topkeys.h"
#include "window.h"

#define CACHE_DIR ".cache" /* window rankings, wincache.h */
#define NWINDOW_KEYS (3 * GRAPH_KEYS) /* top 1-5, 6-10, ICMP */
#define NAME_MAX_ 64
#define REPORT_NAME_MAX (NAME_MAX_ + PERIOD_NAME_MAX) /* report/... */

/* One PNG: its name under DIR, signature, and pixel size once known. */
struct png {
	char *name, *sig;
	unsigned w, h;
};

struct state {
	struct png *v;
	size_t n, cap;
};

/* A PNG to draw: the index of its entry in the current state, and what. */
struct job {
	size_t png;
	struct span span;
	int sensors; /* the sensors graph, not keys */
	int sources; /* idx[0]'s distinct sources and targets */
	char health[RECORD_ID_MAX + 1]; /* this sensor's health, if set */
	uint32_t idx[GRAPH_KEYS];
	unsigned slot[GRAPH_KEYS];
	double mean[GRAPH_KEYS]; /* for the legend, NaN: the rows' average */
	size_t n;
	char title[128];
};

/*
 * A report page (site_report.c): a month, calendar quarter or fiscal
 * year.  Its table ranks [span.start, cut), whole summary buckets up to
 * the newest data; its graphs draw span.  A closed period whose page an
 * earlier run drew from the same inputs is kept: nothing is read for it.
 */
struct report {
	struct period p;
	char name[PERIOD_NAME_MAX]; /* 2008Q1: report/2008Q1.html */
	int64_t start, end; /* the whole period */
	int64_t cut; /* the ranking's end */
	struct span span, pspan; /* drawn; the previous period */
	int closed, keep;
	struct window win, pwin;
};

struct site {
	const char *datadir, *outdir;
	const struct site_opts *opts; /* watched keys, events */
	uint32_t step;
	int64_t end, last_final;
	int64_t now; /* when this run started, by the real clock */
	struct span span[SPAN_COUNT], prev[SPAN_COUNT];
	struct window win[SPAN_COUNT], pwin[SPAN_COUNT];
	uint32_t *keys; /* every key in some table or watched, ascending */
	size_t nkeys;
	uint32_t cidx[SPAN_COUNT * NWINDOW_KEYS]; /* keys in window graphs */
	unsigned cslot[SPAN_COUNT * NWINDOW_KEYS]; /* and their colours */
	size_t ncol;
	struct state old, cur;
	struct job *jobs; /* PNGs to draw */
	size_t njobs, capjobs;
	int64_t generation; /* DATADIR/generation: a rebuild changes it */
	struct report *rep; /* newest first; months, quarters, FYs */
	size_t nrep;
	char rep_off[160]; /* why there are no reports, if there are none */
	/* Per window, the sensors' own sums (window_sensors()). */
	struct sensbucket sens[SPAN_COUNT];
	char (*sensors)[RECORD_ID_MAX + 1]; /* in any window, by id */
	size_t nsensors;
	char *err;
	size_t errlen;
};

/* site_out.c: a file written as tmp and renamed to path when complete. */
struct out {
	FILE *f;
	char path[4096], tmp[4200];
};

int site_fail(struct site *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
int out_open(struct site *, struct out *, const char *rel);
int out_close(struct site *, struct out *);

/* site_state.c: DIR/.state; state_find needs state_sort first. */
void state_add(struct state *, const char *name, const char *sig);
void state_free(struct state *);
void state_sort(struct state *);
struct png *state_find(const struct state *, const char *name);
void state_load(struct site *);
int state_save(struct site *);
void png_size(const char *path, unsigned *w, unsigned *h);

/* site_rank.c: the windows, their rankings and rank changes. */
enum move { MOVE_NONE, MOVE_NEW, MOVE_RANK };

/* How a key moved against the previous window of the same length. */
struct change {
	enum move move;
	size_t prev_rank; /* 1-based, when MOVE_RANK */
	long delta; /* places gained: prev_rank - rank */
};

int load_windows(struct site *);
/* [start, end) through the cache in DIR/.cache. */
int site_window(struct site *, int64_t start, int64_t end, struct window *);
size_t top_n(const struct window *);
void rank_change(const struct window *prev, uint32_t idx, size_t rank,
    struct change *);

/*
 * site_plan.c: which keys each graph shows, in which colours.  plan_graphs
 * fills st->cur with every PNG of this run and st->jobs with those to
 * draw; site_slot is a key's colour once it has run.  graph_span is the
 * range a window's graphs draw, which may run on past its table's.
 */
int plan_graphs(struct site *);
/*
 * slot NULL: each key's site_slot.  w: the ranking the keys come from;
 * when it covers exactly the graph's span, the legend gives their means
 * from it, as the tables do.
 */
int site_png(struct site *, const char *name, const struct span *,
    const uint32_t *idx, const unsigned *slot, size_t n, const char *title,
    const struct window *w);
/* A key's distinct sources and targets (graph_sources). */
int site_png_sources(struct site *, const char *name, const struct span *,
    uint32_t idx, const char *title);
/* A sensor's health (graph_health). */
int site_png_health(struct site *, const char *name, const struct span *,
    const char *id);
unsigned site_slot(const struct site *, uint32_t idx);
void graph_span(const struct site *, enum span_kind, struct span *);
void key_slug(uint32_t idx, char *buf, size_t len);

/* site_render.c: draws st->jobs, then sets their PNGs' sizes. */
int render_jobs(struct site *);

/* site_export.c, site_html.c: rewritten every run. */
int write_exports(struct site *, enum span_kind);
void change_text(const struct change *, char *buf, size_t len);
int write_css(struct site *);
int write_index(struct site *);
int write_key(struct site *, uint32_t idx);

/* site_html.c: the parts of a page the report pages share. */
void page_head(FILE *, const char *title, const char *up);
void data_time(FILE *, const struct site *);
void html_time(FILE *, int64_t); /* <time> in the zone, named */
void html_img(FILE *, const struct site *, const char *name, const char *up,
    const char *alt);
/* A column of averages: its decimals from its largest, then each cell. */
int avg_decimals(double max);
void fmt_avg(double v, int decimals, char *buf, size_t len);
void change_cell(FILE *, const struct change *);
size_t event_list(FILE *, const struct site *, int64_t start, int64_t end,
    const uint32_t *idx, size_t n, const char *head);

/*
 * site_report.c, site_report_html.c: the report pages.  plan_reports
 * lists the periods, reads their rankings and queues their graphs;
 * write_reports writes their pages, exports and index.
 */
int plan_reports(struct site *);
int write_reports(struct site *);
void reports_free(struct site *);
int report_window_used(const struct site *, const char *cache_name);
/* The colour of key i of a report's top graph g: none repeats on a page. */
unsigned report_slot(size_t graph, size_t i);

/*
 * site_sensor.c: the sensor pages (sensor/<id>.html, sensor/index.html)
 * and the groups page (groups.html).  load_sensors reads each window's
 * per-sensor sums, plan_sensors queues the health graphs, write_sensors
 * writes the pages.
 */
int load_sensors(struct site *);
int plan_sensors(struct site *);
int write_sensors(struct site *);
void sensors_free(struct site *);

/* site_prune.c: what this run no longer uses goes, quietly. */
void prune_keys(struct site *);
void prune_sensors(struct site *);
void prune_cache(struct site *);
void prune_reports(struct site *);

#endif

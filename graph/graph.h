/*
 * PNG graphs rendered with librrd's rrd_graph from the key RRDs of
 * doc/CONTRACTS.md contract 5: one line per key in the key's own colour
 * (keyname.h), y axis in packets per sensor per span->unit seconds (per
 * minute on the day window, per hour otherwise) and said so on the graph,
 * title with the window's dates in the zone in use (zone.h), legend with
 * "tcp/445 microsoft-ds"
 * and the key's average and maximum over the window.
 */
#ifndef TEITEN_GRAPH_H
#define TEITEN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "span.h"

#define GRAPH_WIDTH 720 /* plot area, pixels */
#define GRAPH_HEIGHT 240
/* A count of sensors is mostly flat: half a panel is enough. */
#define GRAPH_SENSORS_HEIGHT (GRAPH_HEIGHT / 2)

/*
 * Keys (key indices, keyidx.h) over the window into out (a PNG file).
 * step is the RRD step.  slot[i] is key i's colour (keyname.h); with
 * slot NULL, keys take their default colours, moved where two would
 * coincide.  title is shown above the window's dates.
 * Returns 0, or -1 with a reason in err.
 */
int graph_keys(const char *datadir, uint32_t step, const struct span *,
    const uint32_t *idx, const unsigned *slot, size_t n, const char *title,
    const char *out, char *err, size_t errlen);

/*
 * graph_keys, and what each key's legend line says (ln[i] for idx[i]),
 * read back from the rendering itself (rrd_graph_v): the average and
 * maximum at full precision, in the y axis's unit, over the rows of the
 * window (graph.c says which), NaN where no row is known; and the text
 * drawn for each ("12.34").  seen is 0, the numbers NaN and the texts
 * empty, for a key never seen (its line says so).
 */
struct legend_line {
	uint32_t idx;
	int seen;
	double avg, max;
	char avg_text[32], max_text[32];
};

int graph_keys_legend(const char *datadir, uint32_t step, const struct span *,
    const uint32_t *idx, const unsigned *slot, size_t n, const char *title,
    const char *out, struct legend_line *ln, char *err, size_t errlen);
/*
 * mean[i], when the caller has it (NULL, or NaN for one key: not), is
 * idx[i]'s contract 4 mean per interval over exactly the span (window.h):
 * the legend's average then says it, as the tables do, rather than the
 * average of the rows drawn, which differs where coarser rows are UTC
 * days and the span's days are not.
 */
int graph_keys_mean(const char *datadir, uint32_t step, const struct span *,
    const uint32_t *idx, const unsigned *slot, const double *mean, size_t n,
    const char *title, const char *out, struct legend_line *ln, char *err,
    size_t errlen);
/*
 * Events to draw from now on (NULL: none), as dashed vertical rules on
 * every graph whose range includes them and, unless they are for all
 * keys ("*"), that draws their key.  The first few of a graph are named
 * in its legend.  The caller keeps ev alive while drawing.
 */
void graph_set_events(const struct events *ev);
/*
 * One key's distinct sources and targets per interval over the fleet
 * (the DS "sources" and "targets" of its RRD, contract 5), unknown where
 * no sensor sent sketches.  title names the key.
 */
int graph_sources(const char *datadir, uint32_t step, const struct span *,
    uint32_t idx, const char *title, const char *out, char *err, size_t errlen);
/*
 * A sensor's health, from DATADIR/rrd/sensor/<id>.rrd (DS reported,
 * packets, drops): packets seen and dropped per interval, the intervals
 * it did not report marked.
 */
int graph_health(const char *datadir, uint32_t step, const struct span *,
    const char *id, const char *out, char *err, size_t errlen);
/* How many sensors reported, from DATADIR/rrd/sensors.rrd. */
int graph_sensors(const char *datadir, uint32_t step, const struct span *,
    const char *out, char *err, size_t errlen);

/*
 * The rows a graph of one key draws, as rrd_graph would read them for a
 * plot GRAPH_WIDTH pixels wide: the row's interval start (t[i]), the
 * key's packets per sensor per interval (0 where sensors reported but
 * the key had none; NaN where unknown) and the sensors reporting (NaN
 * where unknown).  Rows are step[0] seconds apart, the RRD step or the
 * coarser RRA the range reads.  Returns 0, or -1 with a reason.
 */
struct series {
	size_t n;
	uint32_t step;
	int64_t *t;
	double *avg, *sensors;
};

int graph_series(const char *datadir, uint32_t step, const struct span *,
    uint32_t idx, struct series *, char *err, size_t errlen);
void series_free(struct series *);

#endif

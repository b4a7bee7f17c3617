/*
 * What the aggregator exports on its metrics address (metrics.h): records
 * by outcome, connections by outcome, the archive's commit latency, the
 * RRD writer's backlog, the newest final interval, and per sensor what it
 * sent.  Runs on the event loop thread; the writer thread's state is read
 * under its lock (rrdq_backlog).
 */
#ifndef TEITEN_AGGMETRICS_H
#define TEITEN_AGGMETRICS_H

#include <stdint.h>
#include <time.h>

#include "ingest.h"
#include "metrics.h"
#include "rrdq.h"
#include "server.h"

/* One sensor as the per-sensor series show it. */
struct aggmetrics_sensor {
	const char *id;
	/* Records since start, by verdict: late ones count as stored too. */
	uint64_t stored, late, refused, duplicate, rejected;
	uint64_t packets, drops; /* summed over the stored records */
	time_t last_record; /* 0: none since start */
	unsigned sessions; /* authenticated connections open now */
};

typedef void (*aggmetrics_sensor_fn)(const struct aggmetrics_sensor *, void *);

/* Where the values come from; any part may be NULL (then left out). */
struct aggmetrics {
	struct ingest *ingest;
	struct server *server;
	struct rrdq *rrdq;
	/*
	 * Calls fn for every sensor, in a stable order, or is NULL: the
	 * per-sensor table (aggregator/fleet.h) feeds it.
	 */
	void (*sensors)(void *ctx, aggmetrics_sensor_fn fn, void *arg);
	void *sensors_ctx;
};

/* A metrics_fill_fn; arg is a struct aggmetrics. */
void aggmetrics_fill(struct metrics_out *, void *arg);

#endif

/*
 * The aggregator's table of sensors: per sensor id, what it sent since
 * start, when it first connected and last reported, its open sessions
 * and whether it has gone quiet.  Entries are made only for ids that
 * authenticated with a key of the keyring, and never removed, so the
 * table holds at most one entry per key loaded during the run.
 * It logs at the default verbosity: a sensor's first connection (later
 * ones at debug level), its going quiet (no record for FLEET_QUIET
 * intervals) and reporting again, and late and refused records, at most
 * one line per sensor and kind per FLEET_LOG_EVERY seconds, with counts.
 * Callers own nothing the table returns; fleet_foreach()'s entries are
 * valid during the callback only.
 */
#ifndef TEITEN_FLEET_H
#define TEITEN_FLEET_H

#include <stdint.h>
#include <time.h>

#include "ingest.h"

#define FLEET_QUIET 3 /* intervals without a record: quiet */
#define FLEET_LOG_EVERY 60 /* seconds between lines of one kind */

struct fleet;

/* One sensor, as fleet_foreach() shows it. */
struct fleet_sensor {
	const char *id;
	/* Records since start, by verdict: late ones count as stored too. */
	uint64_t stored, late, refused, duplicate, rejected;
	/* Summed over the stored records' totals. */
	uint64_t packets, drops;
	time_t first_connect; /* on the aggregator's clock */
	time_t last_record; /* 0: none since start */
	unsigned sessions; /* authenticated connections open now */
	int quiet;
};

/* Since the last call of fleet_window(): for the periodic summary. */
struct fleet_window {
	uint64_t stored, late, refused;
	size_t connected; /* sensors with a session open now */
	size_t reporting; /* sensors with a record since start, not quiet */
	size_t known; /* entries in the table */
};

struct fleet *fleet_new(uint32_t interval);
void fleet_free(struct fleet *);
/* A session of sensor id authenticated (peer: "ADDR:PORT"), or ended. */
void
fleet_connected(struct fleet *, const char *id, const char *peer, time_t now);
void fleet_disconnected(struct fleet *, const char *id);
/* What became of one record of an authenticated sensor. */
void fleet_record(struct fleet *, const char *id, const struct ingest_verdict *,
    time_t now);
/* Once a second or so: quiet sensors, rate-limited lines that are due. */
void fleet_tick(struct fleet *, time_t now);
/* Every rate-limited line still held, now (at stop). */
void fleet_flush(struct fleet *, time_t now);
/* Counts since the last call with reset set, and the state now. */
void fleet_window(struct fleet *, struct fleet_window *, int reset);
/* Every sensor, in order of id. */
void fleet_foreach(const struct fleet *,
    void (*)(const struct fleet_sensor *, void *), void *);

#endif

/* The aggregator's metrics; see aggmetrics.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "aggmetrics.h"

/* Names are Prometheus's conventions: teiten_, base units, _total. */

static void
agg_records(struct metrics_out *o, struct ingest *g)
{
	static const char *reasons[REFUSE_REASONS] = {"unknown", "future",
	    "past", "open"};
	struct ingest_stats st;
	uint64_t refused = 0;
	int i;

	ingest_stats(g, &st);
	for (i = 0; i < REFUSE_REASONS; i++)
		refused += st.refused[i];
	/* Disjoint outcomes, so that their sum is every record received. */
	const struct {
		const char *outcome;
		uint64_t n;
	} rows[] = {
	    {"stored", st.stored - st.late},
	    {"late", st.late},
	    {"duplicate", st.duplicates},
	    {"rejected", st.rejected},
	    {"refused", refused},
	};
	metrics_head(o, "teiten_records_total", METRICS_COUNTER,
	    "Records received from sensors since start, by outcome: stored "
	    "(on time), late (stored, for an interval already final), "
	    "duplicate, rejected (invalid), refused.");
	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		const char *l[] = {"outcome", rows[i].outcome, NULL};

		metrics_u64(o, "teiten_records_total", l, rows[i].n);
	}
	metrics_head(o, "teiten_records_refused_total", METRICS_COUNTER,
	    "Records refused since start, by reason: future (ahead of this "
	    "clock), past (before 2000), open (too many intervals open).");
	for (i = 1; i < REFUSE_REASONS; i++) {
		const char *l[] = {"reason", reasons[i], NULL};

		metrics_u64(o, "teiten_records_refused_total", l,
		    st.refused[i]);
	}
	metrics_head(o, "teiten_intervals_final_total", METRICS_COUNTER,
	    "Intervals made final since start.");
	metrics_u64(o, "teiten_intervals_final_total", NULL, st.finalized);
	metrics_head(o, "teiten_intervals_open", METRICS_GAUGE,
	    "Intervals holding records, not final yet.");
	metrics_u64(o, "teiten_intervals_open", NULL, ingest_open_intervals(g));
	if (ingest_last_final(g) != INT64_MIN) {
		metrics_head(o, "teiten_last_final_interval_timestamp_seconds",
		    METRICS_GAUGE,
		    "Start of the newest final interval, in seconds since the "
		    "epoch.");
		metrics_f64(o, "teiten_last_final_interval_timestamp_seconds",
		    NULL, (double)ingest_last_final(g));
	}
}

static void
agg_connections(struct metrics_out *o, struct server *s)
{
	struct server_stats st;
	size_t i, open, max;

	server_stats(s, &st);
	server_conns(s, &open, &max);
	const struct {
		const char *outcome;
		uint64_t n;
	} rows[] = {
	    {"accepted", st.accepted},
	    {"accept_failed", st.refused},
	    {"unknown_sensor", st.unknown_sensor},
	    {"bad_mac", st.bad_mac},
	    {"bad_frame", st.bad_frame},
	    {"timeout", st.timeouts},
	    {"over_limit", st.too_many},
	    {"evicted", st.evicted},
	    {"revoked", st.revoked},
	    {"replaced", st.replaced},
	};
	metrics_head(o, "teiten_connections_total", METRICS_COUNTER,
	    "Sensor connections since start: accepted, accept_failed (accept "
	    "errors), and those closed for an unknown sensor, a bad MAC or "
	    "replay, a bad frame, a timeout, over the connection limit, "
	    "evicted unauthenticated to make room, revoked by a key change, "
	    "or replaced by a newer session of the same sensor.");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *l[] = {"outcome", rows[i].outcome, NULL};

		metrics_u64(o, "teiten_connections_total", l, rows[i].n);
	}
	metrics_head(o, "teiten_connections", METRICS_GAUGE,
	    "Sensor connections open now, authenticated or not.");
	metrics_u64(o, "teiten_connections", NULL, open);
	metrics_head(o, "teiten_connections_max", METRICS_GAUGE,
	    "Connections allowed at once (max_connections, or what the open "
	    "file limit allows).");
	metrics_u64(o, "teiten_connections_max", NULL, max);
	metrics_head(o, "teiten_ack_pauses_total", METRICS_COUNTER,
	    "Times a sensor was not read while its acknowledgements went "
	    "unread.");
	metrics_u64(o, "teiten_ack_pauses_total", NULL, st.paused);
	metrics_head(o, "teiten_archive_commit_seconds", METRICS_HISTOGRAM,
	    "Time one archive commit (write and fsync of the records that "
	    "arrived meanwhile) took.");
	metrics_histogram(o, "teiten_archive_commit_seconds", NULL,
	    server_fsync(s));
}

static void
agg_writer(struct metrics_out *o, struct rrdq *q)
{
	struct rrdq_backlog b;

	rrdq_backlog(q, &b);
	metrics_head(o, "teiten_rrd_queue_intervals", METRICS_GAUGE,
	    "Final intervals waiting for the RRD writer.");
	metrics_u64(o, "teiten_rrd_queue_intervals", NULL, b.intervals);
	metrics_head(o, "teiten_rrd_queue_jobs", METRICS_GAUGE,
	    "Jobs waiting for the RRD writer: final intervals and rows of "
	    "sensor faults.");
	metrics_u64(o, "teiten_rrd_queue_jobs", NULL, b.jobs);
	metrics_head(o, "teiten_rrd_queue_bytes", METRICS_GAUGE,
	    "Memory held by the jobs waiting for the RRD writer.");
	metrics_u64(o, "teiten_rrd_queue_bytes", NULL, b.bytes);
	metrics_head(o, "teiten_late_records_waiting", METRICS_GAUGE,
	    "Late records archived, waiting for a catch-up to reach the "
	    "RRDs.");
	metrics_u64(o, "teiten_late_records_waiting", NULL, b.late_records);
	if (b.written != INT64_MIN) {
		metrics_head(o, "teiten_rrd_written_interval_timestamp_seconds",
		    METRICS_GAUGE,
		    "Start of the newest interval written to every RRD "
		    "(DATADIR/last_final), in seconds since the epoch.");
		metrics_f64(o, "teiten_rrd_written_interval_timestamp_seconds",
		    NULL, (double)b.written);
	}
}

/* One family of the per-sensor series, sensor by sensor. */
enum sensor_family { SF_RECORDS, SF_PACKETS, SF_DROPS, SF_LAST, SF_SESSIONS };

struct sensor_walk {
	struct metrics_out *o;
	enum sensor_family f;
};

static void
agg_sensor_one(const struct aggmetrics_sensor *s, void *arg)
{
	struct sensor_walk *w = arg;
	const char *l[] = {"sensor", s->id, NULL, NULL, NULL};

	switch (w->f) {
	case SF_RECORDS:
		l[2] = "outcome";
		l[3] = "stored";
		metrics_u64(w->o, "teiten_sensor_records_total", l,
		    s->stored - s->late);
		l[3] = "late";
		metrics_u64(w->o, "teiten_sensor_records_total", l, s->late);
		l[3] = "duplicate";
		metrics_u64(w->o, "teiten_sensor_records_total", l,
		    s->duplicate);
		l[3] = "rejected";
		metrics_u64(w->o, "teiten_sensor_records_total", l,
		    s->rejected);
		l[3] = "refused";
		metrics_u64(w->o, "teiten_sensor_records_total", l, s->refused);
		break;
	case SF_PACKETS:
		metrics_u64(w->o, "teiten_sensor_packets_total", l, s->packets);
		break;
	case SF_DROPS:
		metrics_u64(w->o, "teiten_sensor_capture_drops_total", l,
		    s->drops);
		break;
	case SF_LAST:
		if (s->last_record != 0)
			metrics_f64(w->o,
			    "teiten_sensor_last_record_timestamp_seconds", l,
			    (double)s->last_record);
		break;
	case SF_SESSIONS:
		metrics_u64(w->o, "teiten_sensor_sessions", l, s->sessions);
		break;
	}
}

/*
 * Per-sensor series, labelled sensor="ID": the hook the per-sensor table
 * fills (struct aggmetrics's sensors).  Without it, nothing is written.
 */
static void
agg_sensors(struct metrics_out *o, const struct aggmetrics *m)
{
	static const struct {
		const char *name, *help;
		enum metrics_type type;
	} fam[] = {
	    [SF_RECORDS] = {"teiten_sensor_records_total",
		"Records received from the sensor since start, by outcome "
		"(as teiten_records_total).",
		METRICS_COUNTER},
	    [SF_PACKETS] = {"teiten_sensor_packets_total",
		"Packets the sensor saw, summed over its stored records.",
		METRICS_COUNTER},
	    [SF_DROPS] = {"teiten_sensor_capture_drops_total",
		"Packets the sensor's capture dropped, summed over its stored "
		"records.",
		METRICS_COUNTER},
	    [SF_LAST] = {"teiten_sensor_last_record_timestamp_seconds",
		"When the sensor's last record arrived, in seconds since the "
		"epoch on the aggregator's clock.",
		METRICS_GAUGE},
	    [SF_SESSIONS] = {"teiten_sensor_sessions",
		"Authenticated connections of the sensor open now.",
		METRICS_GAUGE},
	};
	struct sensor_walk w = {o, SF_RECORDS};
	size_t i;

	if (m->sensors == NULL)
		return;
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_head(o, fam[i].name, fam[i].type, fam[i].help);
		w.f = (enum sensor_family)i;
		m->sensors(m->sensors_ctx, agg_sensor_one, &w);
	}
}

void
aggmetrics_fill(struct metrics_out *o, void *arg)
{
	struct aggmetrics *m = arg;

	if (m->ingest != NULL)
		agg_records(o, m->ingest);
	if (m->server != NULL)
		agg_connections(o, m->server);
	if (m->rrdq != NULL)
		agg_writer(o, m->rrdq);
	agg_sensors(o, m);
}

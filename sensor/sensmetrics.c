/* The sensor's metrics; see sensmetrics.h. */
#include <string.h>

#include "sensmetrics.h"
#include "sensor.h"

/* Closed intervals and those still open: every packet read so far. */
static void
sens_totals(const struct sensor *s, struct totals *t)
{
	*t = s->sum;
	if (!s->tally.open)
		return;
	totals_add(t, &s->tally.cur->t);
	if (s->tally.prev_open)
		totals_add(t, &s->tally.prev->t);
}

static void
sens_capture(struct metrics_out *o, const struct sensor *s)
{
	struct totals t;
	int i;

	sens_totals(s, &t);
	metrics_head(o, "teiten_capture_packets_seen_total", METRICS_COUNTER,
	    "Packets read from the capture since start.");
	metrics_u64(o, "teiten_capture_packets_seen_total", NULL,
	    counts_seen(&t));
	metrics_head(o, "teiten_capture_packets_counted_total", METRICS_COUNTER,
	    "Packets counted per port or ICMP type (TCP, UDP, ICMP, ICMPv6) "
	    "since start.");
	metrics_u64(o, "teiten_capture_packets_counted_total", NULL,
	    counts_keyed(&t));
	metrics_head(o, "teiten_capture_packets_total", METRICS_COUNTER,
	    "Packets read from the capture since start, by class.");
	for (i = 0; i < CLASS_COUNT; i++) {
		const char *l[] = {"class", classify_class_name(i), NULL};

		metrics_u64(o, "teiten_capture_packets_total", l, t.classes[i]);
	}
	metrics_head(o, "teiten_capture_tcp_packets_total", METRICS_COUNTER,
	    "TCP packets counted since start, by flags: syn, synack, rst, "
	    "other.");
	for (i = 0; i < TCPK_COUNT; i++) {
		const char *l[] = {"kind", classify_tcpk_name(i), NULL};

		metrics_u64(o, "teiten_capture_tcp_packets_total", l,
		    t.tcpk[i]);
	}
	metrics_head(o, "teiten_capture_late_packets_total", METRICS_COUNTER,
	    "Packets stamped before their interval, counted in the oldest "
	    "one open.");
	metrics_u64(o, "teiten_capture_late_packets_total", NULL, t.late);
	metrics_head(o, "teiten_capture_outlier_packets_total", METRICS_COUNTER,
	    "Packets with a stray timestamp, counted in no interval.");
	metrics_u64(o, "teiten_capture_outlier_packets_total", NULL,
	    t.outliers);
	/* libpcap's counters are read as each interval closes. */
	metrics_head(o, "teiten_capture_drops_total", METRICS_COUNTER,
	    "Packets libpcap reported dropped (kernel and interface), up to "
	    "the last interval closed.");
	metrics_u64(o, "teiten_capture_drops_total", NULL, t.drops);
	metrics_head(o, "teiten_capture_intervals_total", METRICS_COUNTER,
	    "Intervals closed since start, empty ones included.");
	metrics_u64(o, "teiten_capture_intervals_total", NULL, s->nintervals);
}

static void
sens_sending(struct metrics_out *o, const struct sensor *s)
{
	struct sender_stats st;
	uint64_t refused = 0;
	size_t i;

	sender_stats(s->sender, &st);
	for (i = 0; i < REFUSE_REASONS; i++)
		refused += st.refused[i];
	metrics_head(o, "teiten_spool_bytes", METRICS_GAUGE,
	    "Bytes of the spool's files: records waiting and set aside.");
	metrics_u64(o, "teiten_spool_bytes", NULL, spool_bytes(s->spool));
	metrics_head(o, "teiten_spool_records", METRICS_GAUGE,
	    "Records in the spool waiting to be acknowledged.");
	metrics_u64(o, "teiten_spool_records", NULL, spool_count(s->spool));
	metrics_head(o, "teiten_spool_dropped_records_total", METRICS_COUNTER,
	    "Records lost to the spool's full policy or to write errors.");
	metrics_u64(o, "teiten_spool_dropped_records_total", NULL,
	    spool_dropped(s->spool));
	metrics_head(o, "teiten_spool_folded_records_total", METRICS_COUNTER,
	    "Records stored with their sketches folded to a lower precision, "
	    "to fit in a frame.");
	metrics_u64(o, "teiten_spool_folded_records_total", NULL,
	    spool_folded(s->spool));
	metrics_head(o, "teiten_spool_unsketched_records_total",
	    METRICS_COUNTER,
	    "Records stored without sketches (version 1): too large for a "
	    "frame even at the lowest precision.");
	metrics_u64(o, "teiten_spool_unsketched_records_total", NULL,
	    spool_unsketched(s->spool));
	metrics_head(o, "teiten_spool_set_aside_records_total", METRICS_COUNTER,
	    "Records set aside: unreadable, or rejected or refused for good.");
	metrics_u64(o, "teiten_spool_set_aside_records_total", NULL,
	    spool_set_aside(s->spool));
	metrics_head(o, "teiten_sender_connected", METRICS_GAUGE,
	    "1 while a session with the aggregator is authenticated.");
	metrics_u64(o, "teiten_sender_connected", NULL,
	    (uint64_t)sender_connected(s->sender));
	metrics_head(o, "teiten_sender_records_sent_total", METRICS_COUNTER,
	    "Records sent to the aggregator, each resend counted again.");
	metrics_u64(o, "teiten_sender_records_sent_total", NULL, st.sent);
	const struct {
		const char *outcome;
		uint64_t n;
	} rows[] = {
	    {"stored", st.stored},
	    {"duplicate", st.dup},
	    {"rejected", st.rejected},
	    {"refused", refused},
	};
	metrics_head(o, "teiten_sender_records_acknowledged_total",
	    METRICS_COUNTER,
	    "Records the aggregator answered, by answer: stored, duplicate "
	    "(held already), rejected (invalid), refused (refusals for too "
	    "many open intervals are sent again and counted each time).");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *l[] = {"outcome", rows[i].outcome, NULL};

		metrics_u64(o, "teiten_sender_records_acknowledged_total", l,
		    rows[i].n);
	}
}

void
sensmetrics_fill(struct metrics_out *o, void *arg)
{
	const struct sensor *s = arg;

	sens_capture(o, s);
	if (s->sender != NULL)
		sens_sending(o, s);
}

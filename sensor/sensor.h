/*
 * State shared by the sensor's main loop (offline) and its live loop: the
 * capture, the classifier for its link type, the interval tally and the
 * totals over the whole run.
 */
#ifndef TEITEN_SENSOR_H
#define TEITEN_SENSOR_H

#include <pcap/pcap.h>

#include <event2/event.h>

#include "capture.h"
#include "classify.h"
#include "counts.h"
#include "metrics.h"
#include "options.h"
#include "sender.h"
#include "sketch.h"
#include "spool.h"
#include "tally.h"

/*
 * The kernel may hold captured packets up to LIVE_TIMEOUT_MS before they
 * can be read; intervals close LIVE_SLACK_SEC after their end, and a stop
 * signal waits LIVE_STOP_MS, so that no packet is still held then.
 */
#define LIVE_TIMEOUT_MS 500
#define LIVE_SLACK_SEC 2
#define LIVE_STOP_MS (LIVE_TIMEOUT_MS + 250)
_Static_assert(LIVE_SLACK_SEC * 1000 > LIVE_TIMEOUT_MS,
    "intervals must close after the capture timeout");

struct sensor {
	struct sensor_conf conf;
	pcap_t *pcap;
	struct pcapfile *direct; /* reads the file instead of pcap, or NULL */
	classify_fn classify;
	struct tally tally;
	struct totals sum; /* over every closed interval */
	uint64_t nintervals;
	struct capture_drops drops_seen; /* libpcap's counters at last close */
	int live;
	int failed;
	struct event_base *base;
	struct spool *spool; /* NULL without an aggregator */
	struct sender *sender; /* NULL without an aggregator */
	struct metrics *metrics; /* NULL without metrics = ADDR:PORT */
	uint8_t psk[FRAME_KEY]; /* the key in use, to notice a new one */
	uint64_t naddrs; /* monitored addresses, 0 if all */
	/* Distinct sources and targets, if on (sketch key or --sources). */
	int sketches;
	struct sketch sketch;
	int interrupted; /* a signal stopped the send phase */
	int gave_up; /* the send phase ran out of time (--give-up) */
	/* How far -r is, for the progress line on a terminal. */
	uint64_t file_size; /* 0 if unknown (a pipe) */
	uint64_t read_bytes, read_records;
	size_t send_total; /* records spooled when the send phase began */
	/*
	 * Seconds added to the wall clock and to packet timestamps in live
	 * capture: 0, except under the test clock (live.c), which steps the
	 * clock of this process alone as a step of the system clock would.
	 */
	int64_t clock_offset;
	int stats_warned;
	int argc; /* the command line, read again on SIGHUP */
	char **argv;
};

/* Run a live capture until SIGINT or SIGTERM; 0 on a clean stop. */
int live_run(struct sensor *);

#endif

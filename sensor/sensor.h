/*
 * State shared by the sensor's main loop (offline) and its live loop: the
 * capture, the classifier for its link type, the interval tally and the
 * totals over the whole run.
 */
#ifndef TEITEN_SENSOR_H
#define TEITEN_SENSOR_H

#include <pcap/pcap.h>

#include "classify.h"
#include "counts.h"
#include "options.h"
#include "tally.h"

struct sensor {
	struct sensor_conf conf;
	pcap_t *pcap;
	classify_fn classify;
	struct tally tally;
	struct totals sum; /* over every closed interval */
	uint64_t nintervals;
	uint64_t drops_reported; /* cumulative, at last close */
	int live;
	int failed;
};

/* The pcap callback: classify one frame and count it. */
void sensor_packet(u_char *, const struct pcap_pkthdr *, const u_char *);
/* Run a live capture until SIGINT or SIGTERM; 0 on a clean stop. */
int live_run(struct sensor *);

#endif

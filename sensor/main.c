/*
 * teiten-sensor: count unsolicited packets per destination port and ICMP
 * type, per interval, from a live interface or a capture file.  Start-up
 * order matters: options, open the capture (needs root), set its filter,
 * drop root, and only then read a single packet.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture.h"
#include "log.h"
#include "privdrop.h"
#include "report.h"
#include "sensor.h"

#define LIVE_TIMEOUT_MS 500

void
sensor_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct sensor *s = (struct sensor *)user;
	struct pkt pk;

	s->classify(bytes, h->caplen, &pk);
	tally_packet(&s->tally, h->ts.tv_sec, &pk);
}

static void
sensor_emit(struct counts *c, void *arg)
{
	struct sensor *s = arg;
	char label[64];
	uint64_t drops;

	if (s->live && capture_drops(s->pcap, &drops) == 0) {
		c->t.drops = drops - s->drops_reported;
		s->drops_reported = drops;
	}
	report_lines(stdout, c);
	if (s->live)
		fflush(stdout);
	totals_add(&s->sum, &c->t);
	s->nintervals++;
	snprintf(label, sizeof(label), "interval %" PRId64, c->start);
	report_totals(stderr, label, &c->t);
}

static void
sensor_gap(int64_t start, uint64_t n, uint32_t len, void *arg)
{
	struct sensor *s = arg;

	s->nintervals += n;
	fprintf(stderr,
	    "intervals %" PRId64 " to %" PRId64 ": %" PRIu64 " empty\n", start,
	    start + (int64_t)((n - 1) * len), n);
}

static void
sensor_open(struct sensor *s)
{
	struct sensor_conf *c = &s->conf;
	struct capture_opts co = {c->iface, c->snaplen, c->bufsize, c->promisc,
	    LIVE_TIMEOUT_MS};
	char err[PCAP_ERRBUF_SIZE + 256];
	int dlt;

	s->live = c->iface != NULL;
	if (s->live)
		s->pcap = capture_open_live(&co, err, sizeof(err));
	else
		s->pcap = capture_open_file(c->file, err, sizeof(err));
	if (s->pcap == NULL)
		errx(1, "%s", err);
	dlt = pcap_datalink(s->pcap);
	if ((s->classify = classify_for_linktype(dlt)) == NULL)
		errx(1, "%s: link type %s is not supported",
		    s->live ? c->iface : c->file,
		    pcap_datalink_val_to_name(dlt)
			? pcap_datalink_val_to_name(dlt)
			: "unknown");
	if (capture_set_filter(s->pcap, c->filter, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	if (privdrop(c->user, err, sizeof(err)) == -1)
		errx(1, "%s", err);
}

static int
sensor_read_file(struct sensor *s)
{
	int rc;

	rc = pcap_loop(s->pcap, -1, sensor_packet, (u_char *)s);
	tally_finish(&s->tally);
	if (rc == PCAP_ERROR) {
		/* What was read is reported above; the rest is lost. */
		log_warnx("%s: %s", s->conf.file, pcap_geterr(s->pcap));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sensor s = {0};
	char label[64];
	int rc;

	sensor_options(&s.conf, argc, argv);
	log_init("teiten-sensor", 1, s.conf.verbose);
	sensor_open(&s);
	tally_init(&s.tally, s.conf.interval, s.conf.monitor, sensor_emit,
	    sensor_gap, &s);
	rc = s.live ? live_run(&s) : sensor_read_file(&s);
	snprintf(label, sizeof(label), "total over %" PRIu64 " intervals",
	    s.nintervals);
	report_totals(stderr, label, &s.sum);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "standard output");
	tally_free(&s.tally);
	pcap_close(s.pcap);
	sensor_conf_free(&s.conf);
	return rc == 0 ? 0 : 1;
}

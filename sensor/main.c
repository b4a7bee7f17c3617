/*
 * teiten-sensor: count unsolicited packets per destination port and ICMP
 * type, per interval, from a live interface or a capture file.  Start-up
 * order matters: options, open the capture (needs root), set its filter,
 * drop root, and only then read a single packet.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>

#include <sodium.h>

#include "capture.h"
#include "check.h"
#include "config.h"
#include "hostport.h"
#include "human.h"
#include "keyfile.h"
#include "log.h"
#include "metrics.h"
#include "privdrop.h"
#include "progress.h"
#include "report.h"
#include "sensor.h"
#include "sensmetrics.h"

/*
 * Empty intervals of one capture gap that are spooled; a timestamp years
 * ahead must not fill the disk with empty records.  The rest is logged.
 */
#define GAP_SPOOL_MAX 10080

/* Spool one interval's record and, live, hand it to the sender. */
static void
sensor_spool(struct sensor *s, struct counts *c)
{
	struct record r;
	char t[ISO8601_LEN];

	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "%s", s->conf.sensor_id);
	r.naddrs = s->naddrs;
	counts_to_record(c, &r);
	/*
	 * Live, every record is durable at once and adds to what an earlier
	 * run spooled for the interval; a replay replaces it (it counts the
	 * same packets again) and syncs at the end.
	 */
	if (spool_put(s->spool, &r, s->live, s->live) == -1)
		log_warnx("interval %s could not be spooled and is lost",
		    iso8601(c->start, t));
	record_clear(&r);
	if (s->live)
		sender_kick(s->sender);
}

static void
sensor_emit(struct counts *c, void *arg)
{
	struct sensor *s = arg;
	char label[64];
	uint64_t drops;

	progress_clear();
	if (s->live && capture_drops(s->pcap, &s->drops_seen, &drops) == 0)
		c->t.drops = drops;
	else if (s->live && !s->stats_warned) {
		log_warnx("%s: capture drop counts unavailable: %s",
		    s->conf.iface, pcap_geterr(s->pcap));
		s->stats_warned = 1;
	}
	counts_note_fold(c);
	if (s->conf.print) {
		report_lines(stdout, c, s->conf.sources);
		/* Live output must not be lost for days without a word. */
		if ((s->live && fflush(stdout) == EOF) || ferror(stdout))
			err(1, "standard output");
	}
	if (s->spool != NULL)
		sensor_spool(s, c);
	totals_add(&s->sum, &c->t);
	s->nintervals++;
	snprintf(label, sizeof(label), "interval %" PRId64, c->start);
	report_totals(stderr, label, &c->t);
}

static void
sensor_gap(int64_t start, uint64_t n, uint32_t len, void *arg)
{
	struct sensor *s = arg;

	struct counts *empty;
	uint64_t i;

	s->nintervals += n;
	progress_clear();
	fprintf(stderr,
	    "intervals %" PRId64 " to %" PRId64 ": %" PRIu64 " empty\n", start,
	    start + (int64_t)((n - 1) * len), n);
	if (s->spool == NULL)
		return;
	empty = counts_new();
	if (s->sketches)
		counts_sketches(empty, &s->sketch);
	for (i = 0; i < n && i < GAP_SPOOL_MAX; i++) {
		counts_reset(empty, start + (int64_t)(i * len), len);
		sensor_spool(s, empty);
	}
	counts_free(empty);
	if (n > GAP_SPOOL_MAX)
		log_warnx("capture gap of %" PRIu64
			  " intervals: only the first "
			  "%d are reported as empty",
		    n, GAP_SPOOL_MAX);
}

/*
 * As root still: read the key, and create the spool owned by the user the
 * sensor is about to become, so that it can write there afterwards.
 */
static void
sensor_open_sending(struct sensor *s, char *err, size_t errlen)
{
	struct sensor_conf *c = &s->conf;
	char host[256], port[8];
	uid_t uid;
	gid_t gid;
	int rc;

	if (keyfile_read(c->key_file, s->psk, err, errlen) == -1)
		errx(1, "%s", err);
	if (c->spool_base != NULL && mkdir(c->spool_base, 0755) == -1 &&
	    errno != EEXIST)
		errx(1, "spool %s: %s", c->spool_base, strerror(errno));
	if ((s->spool = spool_open(c->spool_dir, c->spool_max, c->spool_full,
		 err, errlen)) == NULL)
		errx(1, "%s", err);
	if (c->spool_base != NULL)
		(void)spool_adopt(s->spool, c->spool_base, c->sensor_id);
	if ((rc = privdrop_ids(c->user, &uid, &gid, err, errlen)) == -1 ||
	    (rc == 1 && spool_chown(s->spool, uid, gid, err, errlen) == -1))
		errx(1, "%s", err);
	if (hostport_split(c->aggregator, host, sizeof(host), port,
		sizeof(port)) == -1)
		errx(1, "bad aggregator address %s", c->aggregator);
	s->sender = sender_new(s->base, host, port, c->sensor_id, s->psk,
	    s->spool, NULL, s);
	if (c->monitor != NULL)
		s->naddrs = prefixes_naddrs(c->monitor);
}

/*
 * As root still: the fleet's sketch key, if any.  Without one, --sources
 * hashes with the built-in key, and records carry no sketches.
 */
static void
sensor_open_sketches(struct sensor *s, char *err, size_t errlen)
{
	struct sketchkey key;

	if (s->conf.sketch_key_file != NULL) {
		if (sketchkey_load(s->conf.sketch_key_file, &key, err,
			errlen) == -1)
			errx(1, "%s", err);
		sketch_init(&s->sketch, &key, s->conf.sketch_memory);
		sketchkey_clear(&key);
		s->sketches = 1;
	} else if (s->conf.sources) {
		sketch_init(&s->sketch, NULL, s->conf.sketch_memory);
		s->sketches = 1;
	}
}

/*
 * A classic pcap file is read directly (pcapfile.h), many times faster;
 * libpcap reads anything else, and all files with --reader libpcap.
 */
static void
sensor_open_direct(struct sensor *s)
{
	const char *file = s->conf.file;

	s->direct = capture_open_direct(s->pcap, s->conf.filter);
	if (s->direct == NULL && s->conf.reader == READER_DIRECT)
		errx(1,
		    "%s: --reader direct: not a classic pcap file in a form "
		    "the direct reader takes (use --reader auto or libpcap)",
		    file);
	log_debug("%s: read %s", file,
	    s->direct != NULL ? "directly" : "through libpcap");
}

static void
sensor_open(struct sensor *s)
{
	struct sensor_conf *c = &s->conf;
	struct capture_opts co = {c->iface, c->snaplen, c->bufsize, c->promisc,
	    LIVE_TIMEOUT_MS, c->inbound_only};
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
	if (!s->live && c->reader != READER_LIBPCAP)
		sensor_open_direct(s);
	if (c->aggregator != NULL)
		sensor_open_sending(s, err, sizeof(err));
	sensor_open_sketches(s, err, sizeof(err));
	/* Bound as root, so that a port below 1024 can be used. */
	if (c->metrics != NULL &&
	    (s->metrics = metrics_new(s->base, c->metrics, sensmetrics_fill, s,
		 err, sizeof(err))) == NULL)
		errx(1, "%s", err);
	if (privdrop(c->user, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	/* Records from a spool others can write would go out signed. */
	if (s->spool != NULL &&
	    spool_check_private(s->spool, err, sizeof(err)) == -1)
		errx(1, "%s", err);
}

/* Called every PCAPFILE_PROGRESS_EVERY packets: the clock only then. */
static void
sensor_read_progress(void *arg, uint64_t bytes, uint64_t records)
{
	struct sensor *s = arg;
	char done[32], size[32], rate[32], left[32];

	s->read_bytes = bytes;
	s->read_records = records;
	if (!progress_due())
		return;
	progress_rate(rate, sizeof(rate), records / progress_elapsed());
	if (bytes == UINT64_MAX) {
		progress_show("read %" PRIu64 " packets, %s packets/s", records,
		    rate);
		return;
	}
	progress_bytes(done, sizeof(done), bytes);
	if (s->file_size == 0) {
		progress_show("read %s, %s packets/s", done, rate);
		return;
	}
	progress_bytes(size, sizeof(size), s->file_size);
	progress_left(left, sizeof(left), bytes, s->file_size);
	progress_show("read %s of %s (%d%%), %s packets/s, %s left", done, size,
	    bytes >= s->file_size ? 100 : (int)(bytes * 100 / s->file_size),
	    rate, left);
}

/* The line left on the terminal once the file is read. */
static void
sensor_read_done(struct sensor *s)
{
	double t = progress_elapsed();
	char rate[32];

	progress_rate(rate, sizeof(rate), t > 0 ? s->read_records / t : 0);
	if (s->read_bytes != UINT64_MAX && s->file_size > 0)
		progress_end("read %" PRIu64 " bytes (%d%%), %" PRIu64
			     " packets in %.1f s (%s/s)",
		    s->read_bytes,
		    s->read_bytes >= s->file_size
			? 100
			: (int)(s->read_bytes * 100 / s->file_size),
		    s->read_records, t, rate);
	else if (s->read_bytes != UINT64_MAX)
		progress_end("read %" PRIu64 " bytes, %" PRIu64
			     " packets in %.1f s (%s/s)",
		    s->read_bytes, s->read_records, t, rate);
	else
		progress_end("read %" PRIu64 " packets in %.1f s (%s/s)",
		    s->read_records, t, rate);
}

/*
 * Reads the whole file; on a terminal, with a progress line (the size
 * from the descriptor libpcap opened: none for a pipe).
 */
static int
sensor_read_file(struct sensor *s)
{
	pcapfile_progress_fn fn = NULL;
	FILE *f = pcap_file(s->pcap);
	struct stat st;
	int rc;

	if (progress_start()) {
		fn = sensor_read_progress;
		if (f != NULL && fstat(fileno(f), &st) == 0 &&
		    S_ISREG(st.st_mode))
			s->file_size = (uint64_t)st.st_size;
	}
	if (s->direct != NULL) {
		if (fn != NULL)
			pcapfile_set_progress(s->direct, fn, s);
		rc = pcapfile_read(s->direct, s->classify, &s->tally,
			 s->clock_offset) == -1
		    ? -1
		    : 0;
		sensor_read_done(s);
		tally_finish(&s->tally);
		/* The same words as libpcap's, below. */
		if (rc == -1)
			log_warnx("%s: %s", s->conf.file,
			    pcapfile_geterr(s->direct));
		return rc;
	}
	rc = capture_read_file(s->pcap, s->classify, &s->tally, s->clock_offset,
	    fn, s);
	sensor_read_done(s);
	tally_finish(&s->tally);
	if (rc == PCAP_ERROR) {
		/* What was read is reported above; the rest is lost. */
		log_warnx("%s: %s", s->conf.file, pcap_geterr(s->pcap));
		return -1;
	}
	return 0;
}

/* SIGHUP's second half: the key, read again, replaces the one in use. */
static void
sensor_reload_key(struct sensor *s)
{
	uint8_t psk[FRAME_KEY];
	char err[512];

	if (s->sender == NULL) {
		log_info("SIGHUP: no aggregator, no key to read");
		return;
	}
	if (keyfile_read(s->conf.key_file, psk, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; keeping the key in use", err);
		return;
	}
	if (sodium_memcmp(psk, s->psk, sizeof(psk)) == 0)
		log_info("SIGHUP: the key in %s is unchanged",
		    s->conf.key_file);
	else {
		log_info("SIGHUP: the key in %s changed; connecting again "
			 "with it",
		    s->conf.key_file);
		memcpy(s->psk, psk, sizeof(psk));
		sender_rekey(s->sender, psk);
	}
	sodium_memzero(psk, sizeof(psk));
}

/*
 * SIGHUP: read the configuration and the key again.  Counting goes on, so
 * no interval is lost; what would change the counting or the capture (the
 * interface, interval, prefixes...) waits for a restart, and the log says
 * so.
 */
static void
sensor_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct sensor *s = arg;
	char changed[400], err[512];

	(void)sig;
	(void)what;
	log_reopen();
	if (sensor_options_reload(&s->conf, s->argc, s->argv, changed,
		sizeof(changed), err, sizeof(err)) == -1)
		log_warnx("SIGHUP: %s; configuration not reloaded", err);
	else {
		log_info("SIGHUP: configuration read again from %s",
		    s->conf.config != NULL ? s->conf.config
					   : "the command line");
		if (changed[0] != '\0')
			log_warnx("SIGHUP: changed, but only applied at the "
				  "next start: %s",
			    changed);
	}
	sensor_reload_key(s);
}

/*
 * SIGUSR1: one line of where counting stands.  A replay reads its file
 * without the event loop, so there the line comes after the reading.
 */
static void
sensor_on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct sensor *s = arg;
	char open[96], t[ISO8601_LEN], send[300];
	uint64_t n;

	(void)sig;
	(void)what;
	if (s->tally.open) {
		n = counts_seen(&s->tally.cur->t);
		if (s->tally.prev_open)
			n += counts_seen(&s->tally.prev->t);
		snprintf(open, sizeof(open),
		    "%" PRIu64 " %s counted in the open %s from %s", n,
		    plural(n, "packet", "packets"),
		    s->tally.prev_open ? "intervals" : "interval",
		    iso8601(tally_oldest(&s->tally), t));
	} else
		snprintf(open, sizeof(open), "no interval open");
	if (s->sender == NULL)
		snprintf(send, sizeof(send), "no aggregator");
	else
		snprintf(send, sizeof(send),
		    "%zu %s waiting in the spool; %s %s", spool_count(s->spool),
		    plural(spool_count(s->spool), "record", "records"),
		    sender_connected(s->sender) ? "connected to"
						: "not connected to",
		    s->conf.aggregator);
	log_info("status: %s %s; %" PRIu64 " %s closed; %s; %s",
	    s->live ? "interface" : "file",
	    s->live ? s->conf.iface : s->conf.file, s->nintervals,
	    plural(s->nintervals, "interval", "intervals"), open, send);
}

/* Append "<v> <text>" to a comma-separated list, if v is not 0. */
static void
sensor_why(char *buf, size_t size, size_t *n, uint64_t v, const char *text)
{
	int len;

	if (v == 0 || *n >= size)
		return;
	len = snprintf(buf + *n, size - *n, "%s%" PRIu64 " %s",
	    *n > 0 ? ", " : "", v, text);
	if (len > 0)
		*n += (size_t)len;
}

/*
 * Records lost or refused over the run, in one line; the count, or 0 when
 * every record was stored.
 */
static uint64_t
sensor_summary(struct sensor *s)
{
	struct sender_stats st;
	uint64_t dropped, refused, lost;
	char why[400];
	size_t n = 0;

	if (s->spool == NULL)
		return 0;
	sender_stats(s->sender, &st);
	dropped = spool_dropped(s->spool);
	refused =
	    st.refused[0] + st.refused[REFUSE_FUTURE] + st.refused[REFUSE_PAST];
	lost = dropped + refused + st.rejected + st.unreadable + st.foreign;
	if (lost == 0)
		return 0;
	why[0] = '\0';
	sensor_why(why, sizeof(why), &n, dropped,
	    "not spooled (spool full or write error)");
	sensor_why(why, sizeof(why), &n, st.refused[REFUSE_FUTURE],
	    "refused: interval in the future");
	sensor_why(why, sizeof(why), &n, st.refused[REFUSE_PAST],
	    "refused: interval in the past");
	sensor_why(why, sizeof(why), &n, st.refused[0],
	    "refused: unknown reason");
	sensor_why(why, sizeof(why), &n, st.rejected, "rejected as invalid");
	sensor_why(why, sizeof(why), &n, st.unreadable,
	    "unreadable in the spool");
	sensor_why(why, sizeof(why), &n, st.foreign, "of another sensor id");
	log_warnx("%" PRIu64 " %s lost or refused: %s", lost,
	    plural(lost, "record", "records"), why);
	return lost;
}

static void
sensor_drained(void *arg)
{
	struct sensor *s = arg;

	event_base_loopbreak(s->base);
}

/* --give-up: no acknowledgement for that long. */
static void
sensor_gave_up(void *arg)
{
	struct sensor *s = arg;

	s->gave_up = 1;
	event_base_loopbreak(s->base);
}

/* The send phase's progress line, a few times a second on a terminal. */
static void
sensor_send_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sensor *s = arg;
	size_t left = spool_count(s->spool);
	size_t done = left < s->send_total ? s->send_total - left : 0;
	char when[32];

	(void)fd;
	(void)what;
	progress_left(when, sizeof(when), done, s->send_total);
	progress_show("sent %zu of %zu spooled records (%d%%), %s left", done,
	    s->send_total, (int)(done * 100 / s->send_total), when);
}

static void
sensor_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct sensor *s = arg;

	(void)sig;
	(void)what;
	s->interrupted = 1;
	event_base_loopbreak(s->base);
}

/*
 * After a replay: make the spool durable, then send until every record is
 * acknowledged (doc/CONTRACTS.md contract 8) or a signal stops us; what is
 * left stays spooled for the next run.
 */
static int
sensor_send_all(struct sensor *s)
{
	struct timeval tick = {0, 1000000 / PROGRESS_HZ};
	struct event *ev_int, *ev_term, *ev_tick = NULL;
	struct sender_stats st;
	size_t left;
	int rc = 0;

	if (spool_sync(s->spool) == -1)
		rc = -1;
	ev_int = evsignal_new(s->base, SIGINT, sensor_on_stop, s);
	ev_term = evsignal_new(s->base, SIGTERM, sensor_on_stop, s);
	if (ev_int == NULL || ev_term == NULL || evsignal_add(ev_int, NULL) ||
	    evsignal_add(ev_term, NULL))
		fatalx("cannot set up signal events");
	sender_set_drained(s->sender, sensor_drained, s);
	sender_set_give_up(s->sender, s->conf.give_up, sensor_gave_up, s);
	s->send_total = spool_count(s->spool);
	if (s->send_total > 0 && progress_start() &&
	    ((ev_tick = event_new(s->base, -1, EV_PERSIST, sensor_send_tick,
		  s)) == NULL ||
		evtimer_add(ev_tick, &tick) == -1))
		fatalx("cannot set up the progress timer");
	sender_kick(s->sender);
	if (spool_count(s->spool) > 0)
		event_base_dispatch(s->base);
	left = spool_count(s->spool);
	if (ev_tick != NULL) {
		event_free(ev_tick);
		progress_end("sent %zu of %zu spooled records",
		    left < s->send_total ? s->send_total - left : 0,
		    s->send_total);
	}
	event_free(ev_int);
	event_free(ev_term);
	sender_stats(s->sender, &st);
	log_info("aggregator: %" PRIu64 " %s stored, %" PRIu64
		 " already held, %" PRIu64 " rejected, %" PRIu64
		 " refused; %" PRIu64 " set aside; %zu left in the spool",
	    st.stored, plural(st.stored, "record", "records"), st.dup,
	    st.rejected,
	    st.refused[0] + st.refused[REFUSE_FUTURE] + st.refused[REFUSE_PAST],
	    spool_set_aside(s->spool), spool_count(s->spool));
	if (left > 0 && s->gave_up)
		log_warnx("no acknowledgement from the aggregator at %s for "
			  "%u s: giving up; %zu %s kept in the spool %s",
		    s->conf.aggregator, s->conf.give_up, left,
		    plural(left, "record", "records"), s->conf.spool_dir);
	else if (left > 0)
		log_warnx("%s before every record was acknowledged",
		    s->interrupted ? "stopped" : "gave up");
	if (left > 0)
		rc = -1;
	return rc;
}

int
main(int argc, char **argv)
{
	struct sensor s = {0};
	struct event *ev_hup, *ev_usr1;
	char label[64];
	int rc;

	sensor_options(&s.conf, argc, argv);
	s.argc = argc;
	s.argv = argv;
	/* -t derives the sketch key too. */
	if (sodium_init() < 0)
		errx(1, "libsodium cannot initialise");
	if (s.conf.test) {
		if ((rc = check_config(&s.conf)) == 0)
			printf("configuration OK (%s)\n",
			    s.conf.config ? s.conf.config
					  : "no file: " CONFIG_DEFAULT
					    " is absent");
		sensor_conf_free(&s.conf);
		return rc == 0 ? 0 : 1;
	}
	log_init("teiten-sensor", 1, s.conf.verbose);
	log_libevent();
	if ((s.base = event_base_new()) == NULL)
		errx(1, "cannot create an event base");
	sensor_open(&s);
	tally_init(&s.tally, s.conf.interval, s.conf.monitor, sensor_emit,
	    sensor_gap, &s);
	tally_set_max_gap(&s.tally, (int64_t)s.conf.max_gap);
	if (s.sketches) {
		counts_sketches(s.tally.cur, &s.sketch);
		counts_sketches(s.tally.prev, &s.sketch);
	}
	/* Caught from now on; run when the event loop runs. */
	if ((ev_hup = evsignal_new(s.base, SIGHUP, sensor_on_hup, &s)) ==
		NULL ||
	    evsignal_add(ev_hup, NULL) == -1)
		fatalx("cannot set up the SIGHUP event");
	if ((ev_usr1 = evsignal_new(s.base, SIGUSR1, sensor_on_usr1, &s)) ==
		NULL ||
	    evsignal_add(ev_usr1, NULL) == -1)
		fatalx("cannot set up the SIGUSR1 event");
	rc = s.live ? live_run(&s) : sensor_read_file(&s);
	if (!s.live && s.sender != NULL)
		rc |= sensor_send_all(&s);
	/* A replay that lost a record says so in its exit status. */
	if (sensor_summary(&s) > 0 && !s.live)
		rc = -1;
	event_free(ev_hup);
	event_free(ev_usr1);
	sodium_memzero(s.psk, sizeof(s.psk));
	snprintf(label, sizeof(label), "total over %" PRIu64 " intervals",
	    s.nintervals);
	report_totals(stderr, label, &s.sum);
	if (s.sum.outliers > 0)
		log_warnx("%" PRIu64 " %s with a stray timestamp (more than "
			  "%" PRIu64 " s from their neighbours) %s, "
			  "in no interval",
		    s.sum.outliers, plural(s.sum.outliers, "packet", "packets"),
		    s.conf.max_gap,
		    plural(s.sum.outliers, "was an outlier", "were outliers"));
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "standard output");
	metrics_free(s.metrics);
	tally_free(&s.tally);
	sketch_clear(&s.sketch);
	sender_free(s.sender);
	spool_free(s.spool);
	event_base_free(s.base);
	pcapfile_close(s.direct);
	pcap_close(s.pcap);
	sensor_conf_free(&s.conf);
	return rc == 0 ? 0 : 1;
}

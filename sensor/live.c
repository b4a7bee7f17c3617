/*
 * The live capture loop.  libpcap 1.10's blocking reads can wait forever
 * on a quiet TPACKET_V3 ring, so the handle is non-blocking and libevent
 * watches its descriptor; a timer of our own closes intervals on the wall
 * clock, SLACK seconds after their end so that packets the kernel still
 * holds (up to the capture timeout) are counted first.
 *
 * The timer runs on libevent's monotonic clock and never waits more than
 * LIVE_TICK_SEC, reading the wall clock afresh each time: a wait computed
 * from the wall clock before it was set back by hours would silence the
 * sensor for those hours.  tally_tick() restarts the intervals at the new
 * time instead, and logs it.
 *
 * Tests step the clock without touching the system's: with
 * TEITEN_TEST_CLOCK_FILE set, the file holds an offset in seconds, read
 * again on every tick and added to the wall clock and to every packet's
 * timestamp, as a step of the system clock would move both.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "interval.h"
#include "log.h"
#include "notify.h"
#include "sensor.h"

/* Bounds one read burst so the timer and signals still get their turn. */
#define LIVE_MAX_DISPATCH 64
/* The longest the timer waits before it looks at the wall clock again. */
#define LIVE_TICK_SEC 1

#define LIVE_TEST_CLOCK_ENV "TEITEN_TEST_CLOCK_FILE"

struct live {
	struct sensor *s;
	struct event_base *base;
	struct event *ev_read, *ev_timer, *ev_int, *ev_term, *ev_stop;
	struct event *ev_watchdog; /* NULL unless systemd asked for one */
	const char *test_clock; /* NULL but in tests */
};

static void
live_drain(struct live *l)
{
	int i, n;

	for (i = 0; i < LIVE_MAX_DISPATCH; i++) {
		n = capture_read(l->s->pcap, l->s->classify, &l->s->tally,
		    l->s->clock_offset);
		if (n == 0)
			return;
		if (n == PCAP_ERROR) {
			log_warnx("%s: %s", l->s->conf.iface,
			    pcap_geterr(l->s->pcap));
			l->s->failed = 1;
			event_base_loopbreak(l->base);
			return;
		}
	}
}

/* The test clock's offset; a file that cannot be read changes nothing. */
static void
live_test_clock(struct live *l)
{
	long long off;
	FILE *f;
	int n;

	if (l->test_clock == NULL || (f = fopen(l->test_clock, "r")) == NULL)
		return;
	n = fscanf(f, "%lld", &off);
	fclose(f);
	if (n != 1 || off <= -INTERVAL_SEC_LIMIT / 2 ||
	    off >= INTERVAL_SEC_LIMIT / 2 || off == l->s->clock_offset)
		return;
	log_info("test clock: %+lld s", off - (long long)l->s->clock_offset);
	l->s->clock_offset = off;
}

/* The wall clock, as the kernel stamps packets with it. */
static struct timespec
live_now(const struct live *l)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	ts.tv_sec += l->s->clock_offset;
	return ts;
}

static void
live_schedule(struct live *l)
{
	struct tally *t = &l->s->tally;
	struct timespec now = live_now(l);
	struct timeval tv = {LIVE_TICK_SEC, 0};
	int64_t due = tally_oldest(t) + t->len + LIVE_SLACK_SEC;

	if (due <= now.tv_sec)
		tv.tv_sec = 0;
	else if (due - now.tv_sec <= LIVE_TICK_SEC) {
		tv.tv_sec = due - now.tv_sec;
		if (now.tv_nsec > 0) {
			tv.tv_sec--;
			tv.tv_usec = 1000000 - now.tv_nsec / 1000;
		}
	}
	evtimer_add(l->ev_timer, &tv);
}

static void
live_on_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	live_drain(arg);
}

static void
live_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct live *l = arg;
	struct tally *t = &l->s->tally;
	int64_t before, now;

	(void)fd;
	(void)what;
	live_drain(l);
	live_test_clock(l);
	before = t->open ? t->cur->start : 0;
	now = live_now(l).tv_sec;
	if (tally_tick(t, now, LIVE_SLACK_SEC))
		log_warnx("the clock reads %lld, before the open interval "
			  "%lld: "
			  "set back; intervals start again from now",
		    (long long)now, (long long)before);
	live_schedule(l);
}

/* The stop: what the kernel held has become readable by now. */
static void
live_on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct live *l = arg;

	(void)fd;
	(void)what;
	live_drain(l);
	/* Close what ended during the slack, then the interval we are in. */
	tally_advance(&l->s->tally, live_now(l).tv_sec);
	tally_finish(&l->s->tally);
	event_base_loopbreak(l->base);
}

/*
 * The ring buffer hands over a block only when it fills or the capture
 * timeout retires it, so the last packets before a signal are not yet
 * readable: stop after the timeout, not at once.
 */
static void
live_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct live *l = arg;
	struct timeval tv = {0, LIVE_STOP_MS * 1000};

	(void)what;
	if (evtimer_pending(l->ev_stop, NULL))
		return;
	log_info("%s: closing the interval early", strsignal((int)sig));
	notify_stopping();
	evtimer_add(l->ev_stop, &tv);
}

int
live_run(struct sensor *s)
{
	struct live l = {.s = s, .test_clock = getenv(LIVE_TEST_CLOCK_ENV)};
	char status[300];

	l.base = s->base;
	l.ev_read = event_new(l.base, pcap_get_selectable_fd(s->pcap),
	    EV_READ | EV_PERSIST, live_on_read, &l);
	l.ev_timer = evtimer_new(l.base, live_on_timer, &l);
	l.ev_int = evsignal_new(l.base, SIGINT, live_on_signal, &l);
	l.ev_term = evsignal_new(l.base, SIGTERM, live_on_signal, &l);
	l.ev_stop = evtimer_new(l.base, live_on_stop, &l);
	if (l.ev_read == NULL || l.ev_timer == NULL || l.ev_int == NULL ||
	    l.ev_stop == NULL || l.ev_term == NULL ||
	    event_add(l.ev_read, NULL) == -1 ||
	    evsignal_add(l.ev_int, NULL) == -1 ||
	    evsignal_add(l.ev_term, NULL) == -1)
		fatalx("cannot set up the event loop");
	live_test_clock(&l);
	tally_begin(&s->tally, live_now(&l).tv_sec);
	live_schedule(&l);
	log_info("listening on %s, link-type %s, interval %us", s->conf.iface,
	    pcap_datalink_val_to_name(pcap_datalink(s->pcap)), s->tally.len);
	/* The capture is open and filtered, and root is gone: ready. */
	snprintf(status, sizeof(status), "capturing on %s", s->conf.iface);
	notify_ready(status);
	l.ev_watchdog = notify_watchdog(l.base);
	if (event_base_dispatch(l.base) == -1)
		fatalx("event loop failed");
	/* A capture error ends the loop: still report what was counted. */
	tally_finish(&s->tally);
	event_free(l.ev_stop);
	event_free(l.ev_read);
	event_free(l.ev_timer);
	event_free(l.ev_int);
	event_free(l.ev_term);
	if (l.ev_watchdog != NULL)
		event_free(l.ev_watchdog);
	return s->failed ? -1 : 0;
}

/* The sensor's connection to the aggregator; see sender.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>

#include <sodium.h>

#include "human.h"
#include "log.h"
#include "sender.h"
#include "wire.h"
#include "xmalloc.h"

#define SENDER_WINDOW 16
/*
 * Bytes of records in flight past which no more is sent before an
 * acknowledgement: with sketches a record can take megabytes, and
 * sixteen of them queued would undo the sensor's memory bound
 * (teiten-sensor(8), SOURCES AND TARGETS).  One record always goes.
 */
#define SENDER_WINDOW_BYTES (16u << 20)
#define SENDER_BACKOFF_MAX 60
#define SENDER_TIMEOUT 60 /* seconds to wait for any answer */
#define SENDER_WAIT_MAX 30 /* most seconds between too-many-open retries */

enum sender_state { S_IDLE, S_CONNECTING, S_HELLO, S_READY };

struct sender {
	struct event_base *base;
	struct evdns_base *dns;
	char host[256], port[8];
	char id[RECORD_ID_MAX + 1];
	uint8_t psk[FRAME_KEY];
	uint8_t nonce[FRAME_NONCE];
	struct spool *spool;
	struct bufferevent *bev;
	enum sender_state state;
	struct wire_session ses;
	int64_t inflight[SENDER_WINDOW]; /* oldest first */
	size_t inflight_len[SENDER_WINDOW];
	size_t ninflight;
	size_t inflight_bytes;
	struct event *retry;
	unsigned backoff;
	int failing; /* a failure was logged; log the recovery */
	/*
	 * Refused for too many open intervals: send nothing more until what
	 * is in flight is answered and the wait timer has run.
	 */
	int holding;
	unsigned wait;
	int hold_logged; /* on this connection: a warning per connection */
	struct event *resume;
	struct sender_stats st;
	void (*drained)(void *);
	void *arg;
	struct event *give_up; /* armed while a give-up time is set */
	unsigned give_up_sec;
	void (*gave_up)(void *);
	void *gave_up_arg;
};

static void sender_fail(struct sender *, const char *why);

/* Start the give-up count again, from now plus extra seconds. */
static void
sender_give_up_reset(struct sender *s, unsigned extra)
{
	struct timeval tv = {0, 0};

	if (s->give_up_sec == 0)
		return;
	tv.tv_sec = (time_t)s->give_up_sec + extra;
	evtimer_add(s->give_up, &tv);
}

static void
sender_set_timeout(struct sender *s, int waiting)
{
	struct timeval tv = {SENDER_TIMEOUT, 0};

	bufferevent_set_timeouts(s->bev, waiting ? &tv : NULL, &tv);
}

/*
 * Can the record go?  One that does not decode would be rejected without
 * its start, and one of another sensor is not ours to send (doc/CONTRACTS.md
 * contract 11: records are only sent by the sensor whose id they carry).
 */
static int
sender_check(struct sender *s, int64_t start, const uint8_t *buf, size_t len)
{
	char ts[ISO8601_LEN];
	struct record r;
	const char *why;
	char msg[200];
	int rc = 0;

	record_init(&r);
	if (record_decode(&r, buf, len, &why) == -1) {
		s->st.unreadable++;
		snprintf(msg, sizeof(msg), "cannot be decoded (%s)", why);
		spool_reject(s->spool, start, msg);
		rc = -1;
	} else if (strcmp(r.sensor, s->id) != 0) {
		s->st.foreign++;
		snprintf(msg, sizeof(msg),
		    "a record of sensor \"%s\", not of \"%s\"", r.sensor,
		    s->id);
		spool_reject(s->spool, start, msg);
		rc = -1;
	} else if (r.start != start) {
		s->st.unreadable++;
		snprintf(msg, sizeof(msg), "holds interval %s",
		    iso8601(r.start, ts));
		spool_reject(s->spool, start, msg);
		rc = -1;
	}
	record_clear(&r);
	return rc;
}

/* Send records after the last one in flight until the window is full. */
static void
sender_pump(struct sender *s)
{
	int64_t start, after = INT64_MIN;
	uint8_t *buf;
	size_t len;

	while (!s->holding && s->ninflight < SENDER_WINDOW &&
	    (s->ninflight == 0 || s->inflight_bytes < SENDER_WINDOW_BYTES)) {
		if (s->ninflight > 0)
			after = s->inflight[s->ninflight - 1];
		if (!spool_next(s->spool, after, &start))
			break;
		if (spool_read(s->spool, start, &buf, &len) == -1) {
			s->st.unreadable++;
			spool_reject(s->spool, start, "cannot be read");
			continue;
		}
		/* Only a file put there by hand: spool_put() fits records. */
		if (len > FRAME_MAX_PAYLOAD) {
			free(buf);
			s->st.unreadable++;
			spool_reject(s->spool, start, "too large for a frame");
			continue;
		}
		if (sender_check(s, start, buf, len) == -1) {
			free(buf);
			continue;
		}
		/*
		 * An aggregator reads no frame over FRAME_MAX_PREAUTH before
		 * the session's first verified one: a PROOF goes first.  Only
		 * then, so that an aggregator without it gets ordinary records.
		 */
		if (len > FRAME_MAX_PREAUTH && s->ses.send_seq == 1 &&
		    wire_send(&s->ses, bufferevent_get_output(s->bev),
			FRAME_PROOF, (const uint8_t *)"", 0) == -1) {
			free(buf);
			sender_fail(s, "cannot queue a proof");
			return;
		}
		if (wire_send(&s->ses, bufferevent_get_output(s->bev),
			FRAME_RECORD, buf, len) == -1) {
			free(buf);
			sender_fail(s, "cannot queue a record");
			return;
		}
		free(buf);
		s->st.sent++;
		s->inflight_len[s->ninflight] = len;
		s->inflight_bytes += len;
		s->inflight[s->ninflight++] = start;
	}
	sender_set_timeout(s, s->ninflight > 0);
	if (s->holding && s->ninflight == 0 &&
	    !evtimer_pending(s->resume, NULL)) {
		struct timeval tv = {s->wait, 0};

		evtimer_add(s->resume, &tv);
	}
	if (s->ninflight == 0 && spool_count(s->spool) == 0 &&
	    s->drained != NULL)
		s->drained(s->arg);
}

/* The wait after a too-many-open refusal is over: resend from the oldest. */
static void
sender_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct sender *s = arg;

	(void)fd;
	(void)what;
	s->holding = 0;
	if (s->state == S_READY)
		sender_pump(s);
}

/*
 * The aggregator has too many of our intervals open: they close as its
 * grace runs out, so wait (longer each time, up to SENDER_WAIT_MAX) and
 * send again from the oldest record, without dropping the connection.
 */
static void
sender_hold(struct sender *s, int64_t start)
{
	char ts[ISO8601_LEN];
	if (!s->holding) {
		s->wait = s->wait == 0              ? 1
		    : s->wait * 2 > SENDER_WAIT_MAX ? SENDER_WAIT_MAX
						    : s->wait * 2;
		if (!s->hold_logged)
			log_warnx("aggregator %s:%s refused interval %s: %s; "
				  "sending again in a while",
			    s->host, s->port, iso8601(start, ts),
			    frame_refusal_str(REFUSE_OPEN));
		else
			log_debug("interval %s refused again: %s; waiting %us",
			    iso8601(start, ts), frame_refusal_str(REFUSE_OPEN),
			    s->wait);
		s->hold_logged = 1;
		/* The aggregator is there and asked us to wait. */
		sender_give_up_reset(s, s->wait);
	}
	s->holding = 1;
	s->st.refused[REFUSE_OPEN]++;
}

static int
sender_on_challenge(struct sender *s, const uint8_t *frame,
    const struct frame_hdr *h, const char **why)
{
	if (wire_challenge(&s->ses, s->psk, s->nonce, frame, h, why) == -1)
		return -1;
	s->state = S_READY;
	s->backoff = 0;
	s->hold_logged = 0;
	if (s->failing)
		log_info("aggregator %s:%s: connected again", s->host, s->port);
	else
		log_debug("aggregator %s:%s: connected", s->host, s->port);
	s->failing = 0;
	return 0;
}

static int
sender_on_ack(struct sender *s, const uint8_t *frame, const struct frame_hdr *h,
    const char **why)
{
	char ts[ISO8601_LEN];
	enum frame_ack status;
	int64_t start;
	int reason;

	if (h->type != FRAME_ACK) {
		*why = "expected an acknowledgement";
		return -1;
	}
	if (wire_check(&s->ses, frame, h, why) == -1)
		return -1;
	if (wire_ack_decode(frame + FRAME_HDR, h->len, &status, &start,
		&reason) == -1 ||
	    s->ninflight == 0) {
		*why = "acknowledgement of a record not sent";
		return -1;
	}
	/*
	 * Answers come in order.  A record the aggregator cannot decode is
	 * rejected without its start (0): it is the oldest in flight.
	 */
	if (status == ACK_REJECTED && start == 0)
		start = s->inflight[0];
	if (start != s->inflight[0]) {
		*why = "acknowledgement of a record not sent";
		return -1;
	}
	s->inflight_bytes -= s->inflight_len[0];
	memmove(s->inflight, s->inflight + 1,
	    --s->ninflight * sizeof(s->inflight[0]));
	memmove(s->inflight_len, s->inflight_len + 1,
	    s->ninflight * sizeof(s->inflight_len[0]));
	sender_give_up_reset(s, 0);
	/* Too many intervals open: the record stays, to go again later. */
	if (status == ACK_REFUSED && reason == REFUSE_OPEN) {
		sender_hold(s, start);
		return 0;
	}
	if (status == ACK_REFUSED) {
		s->st.refused[reason > 0 && reason < REFUSE_REASONS ? reason
								    : 0]++;
		spool_reject(s->spool, start, frame_refusal_str(reason));
		return 0;
	}
	if (status == ACK_REJECTED) {
		s->st.rejected++;
		spool_reject(s->spool, start,
		    "rejected by the aggregator as invalid");
		return 0;
	}
	if (status == ACK_DUPLICATE) {
		s->st.dup++;
		log_info("interval %s was already held by the aggregator",
		    iso8601(start, ts));
	} else {
		s->st.stored++;
		s->wait = 0;
	}
	spool_remove(s->spool, start);
	return 0;
}

static void
sender_on_read(struct bufferevent *bev, void *arg)
{
	struct sender *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct frame_hdr h;
	const char *why = NULL;
	uint8_t *frame;
	int rc;

	while ((rc = wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why)) == 1) {
		rc = s->state == S_HELLO
		    ? sender_on_challenge(s, frame, &h, &why)
		    : sender_on_ack(s, frame, &h, &why);
		if (rc == -1)
			break;
		evbuffer_drain(in, FRAME_HDR + h.len + FRAME_MAC);
	}
	if (rc == -1) {
		sender_fail(s, why);
		return;
	}
	if (s->state == S_READY)
		sender_pump(s);
}

static void
sender_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct sender *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (wire_hello_send(bufferevent_get_output(s->bev), s->id,
			s->psk, s->nonce) == -1) {
			sender_fail(s, "cannot queue the hello");
			return;
		}
		s->state = S_HELLO;
		sender_set_timeout(s, 1);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		sender_fail(s, "no answer");
	else if (what & BEV_EVENT_EOF)
		sender_fail(s, "connection closed by the aggregator");
	else if (bufferevent_socket_get_dns_error(s->bev) != 0)
		sender_fail(s,
		    evutil_gai_strerror(
			bufferevent_socket_get_dns_error(s->bev)));
	else
		sender_fail(s,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void
sender_connect(struct sender *s)
{
	s->bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(s->bev, sender_on_read, NULL, sender_on_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->state = S_CONNECTING;
	sender_set_timeout(s, 1);
	if (bufferevent_socket_connect_hostname(s->bev, s->dns, AF_UNSPEC,
		s->host, atoi(s->port)) == -1)
		sender_fail(s, "cannot start connecting");
}

static void
sender_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sender *s = arg;

	(void)fd;
	(void)what;
	/*
	 * Connect only with a record to send: the aggregator closes a session
	 * that does not authenticate a record soon.  sender_kick() connects
	 * when the next record is spooled.
	 */
	if (spool_count(s->spool) == 0)
		return;
	sender_connect(s);
}

/*
 * Records in flight stay in the spool and go again on the next
 * connection.  Only the first failure after a success is a warning, so a
 * long outage logs one line, and its end another (collectd's habit).
 */
static void
sender_fail(struct sender *s, const char *why)
{
	struct timeval tv = {0, 0};

	if (!s->failing)
		log_warnx("aggregator %s:%s: %s; %zu %s spooled, retrying",
		    s->host, s->port, why, spool_count(s->spool),
		    plural(spool_count(s->spool), "record", "records"));
	else
		log_debug("aggregator %s:%s: %s", s->host, s->port, why);
	s->failing = 1;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	s->state = S_IDLE;
	s->ninflight = 0;
	s->inflight_bytes = 0;
	s->holding = 0;
	evtimer_del(s->resume);
	s->backoff = s->backoff == 0              ? 1
	    : s->backoff * 2 > SENDER_BACKOFF_MAX ? SENDER_BACKOFF_MAX
						  : s->backoff * 2;
	tv.tv_sec = s->backoff;
	evtimer_add(s->retry, &tv);
}

static void
sender_on_give_up(evutil_socket_t fd, short what, void *arg)
{
	struct sender *s = arg;

	(void)fd;
	(void)what;
	if (s->gave_up != NULL)
		s->gave_up(s->gave_up_arg);
}

struct sender *
sender_new(struct event_base *base, const char *host, const char *port,
    const char *id, const uint8_t psk[FRAME_KEY], struct spool *spool,
    void (*drained)(void *), void *arg)
{
	struct sender *s = xcalloc(1, sizeof(*s));

	s->base = base;
	if ((s->dns = evdns_base_new(base,
		 EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL)
		fatalx("cannot set up DNS resolution");
	snprintf(s->host, sizeof(s->host), "%s", host);
	snprintf(s->port, sizeof(s->port), "%s", port);
	snprintf(s->id, sizeof(s->id), "%s", id);
	memcpy(s->psk, psk, FRAME_KEY);
	s->spool = spool;
	s->drained = drained;
	s->arg = arg;
	if ((s->retry = evtimer_new(base, sender_on_retry, s)) == NULL ||
	    (s->resume = evtimer_new(base, sender_on_resume, s)) == NULL ||
	    (s->give_up = evtimer_new(base, sender_on_give_up, s)) == NULL)
		fatalx("evtimer_new failed");
	return s;
}

void
sender_free(struct sender *s)
{
	if (s == NULL)
		return;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	event_free(s->retry);
	event_free(s->resume);
	event_free(s->give_up);
	evdns_base_free(s->dns, 0);
	sodium_memzero(s->psk, sizeof(s->psk));
	free(s);
}

void
sender_kick(struct sender *s)
{
	if (s->state == S_READY)
		sender_pump(s);
	else if (s->state == S_IDLE && !evtimer_pending(s->retry, NULL))
		sender_connect(s);
	/* Connecting, or waiting to retry: the records wait in the spool. */
}

void
sender_stats(const struct sender *s, struct sender_stats *st)
{
	*st = s->st;
}

int
sender_connected(const struct sender *s)
{
	return s->state == S_READY;
}

void
sender_rekey(struct sender *s, const uint8_t psk[FRAME_KEY])
{
	memcpy(s->psk, psk, FRAME_KEY);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	s->state = S_IDLE;
	s->ninflight = 0;
	s->inflight_bytes = 0;
	s->holding = 0;
	s->backoff = 0;
	evtimer_del(s->resume);
	evtimer_del(s->retry);
	if (spool_count(s->spool) > 0)
		sender_connect(s);
}

void
sender_set_give_up(struct sender *s, unsigned seconds, void (*gave_up)(void *),
    void *arg)
{
	s->give_up_sec = seconds;
	s->gave_up = gave_up;
	s->gave_up_arg = arg;
	if (seconds == 0)
		evtimer_del(s->give_up);
	else
		sender_give_up_reset(s, 0);
}

void
sender_set_drained(struct sender *s, void (*drained)(void *), void *arg)
{
	s->drained = drained;
	s->arg = arg;
}

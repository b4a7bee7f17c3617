/* Sensor connections, handshake and group-committed acks; see server.h. */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <sodium.h>

#include "bytes.h"
#include "committer.h"
#include "fleet.h"
#include "fnv.h"
#include "hostport.h"
#include "log.h"
#include "server.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * Descriptors left to the archive and the commit in flight (archive.h),
 * the RRD and summary files, libevent.
 */
#define SERVER_FD_RESERVE 256
_Static_assert(SERVER_FD_RESERVE >= 2 * ARCHIVE_MAX_FDS + 96,
    "the archive's descriptors and some for the rest");
#define FRAME_TIMEOUT 30 /* seconds for a started frame to complete */
/*
 * ... and one more second per FRAME_RATE bytes of its payload (1 Mbit/s):
 * a record of 32 MiB must not be cut off on a slow link, and then resent
 * for ever.
 */
#define FRAME_RATE (128 * 1024)
#define IDLE_TIMEOUT 3600 /* seconds without a frame from a sensor */
#define ACK_TIMEOUT 60 /* seconds a peer may leave its acks unread */

/*
 * Bytes of acknowledgements a connection may owe before it is read no
 * more, and the level at which reading resumes.  A sensor keeps at most
 * 16 records in flight, about 1 KiB of acks, so only a peer that stops
 * reading ever gets here; it then costs this plus one frame of input.
 */
#define ACKS_HIGH (64 * 1024)
#define ACKS_LOW (16 * 1024)
#define ACK_FRAME (FRAME_HDR + WIRE_ACK_MAX + FRAME_MAC)

/* Never buffer more than one whole frame of input. */
#define INPUT_PREAUTH (FRAME_HDR + FRAME_MAX_PREAUTH + FRAME_MAC)
#define INPUT_MAX (FRAME_HDR + FRAME_MAX_PAYLOAD + FRAME_MAC)

/*
 * A HELLO proves nothing, since it can be replayed; the first frame that
 * passes the session's MAC does (a RECORD, or a PROOF a sensor sends
 * before a record larger than FRAME_MAX_PREAUTH).  Until then a
 * connection is on the server's unauth list, oldest first, has
 * auth_timeout seconds, and frames of at most FRAME_MAX_PREAUTH bytes:
 * the most a peer without the key can make the server buffer.
 */
enum conn_state { C_HELLO, C_CHALLENGED, C_READY };

/*
 * An ack waits for the commit that covers its record: the first to start
 * after the record was appended, whose generation it carries.
 */
struct ack {
	enum frame_ack status;
	int reason;
	int64_t start;
	uint64_t gen;
};

struct conn {
	struct server *srv;
	struct bufferevent *bev;
	struct event *deadline;
	enum conn_state state;
	char peer[NI_MAXHOST + NI_MAXSERV + 2];
	char id[RECORD_ID_MAX + 1];
	uint8_t psk[FRAME_KEY]; /* to notice its removal on SIGHUP */
	struct wire_session ses;
	int paused; /* not read until its acks drain */
	int timed_len; /* the frame deadline allows for its length */
	struct ack *acks; /* waiting for their commit, oldest first */
	size_t nacks, acap;
	int waiting; /* on the server's list of connections with acks */
	TAILQ_ENTRY(conn) entry;
	TAILQ_ENTRY(conn) all;
	TAILQ_ENTRY(conn) unauth; /* while state != C_READY */
	LIST_ENTRY(conn) byid; /* in the server's index, once C_READY */
};

LIST_HEAD(connlist, conn);

TAILQ_HEAD(connq, conn);

struct server {
	struct event_base *base;
	struct evconnlistener *lis;
	struct event *commit_ev, *accept_ev;
	struct ingest *ingest;
	struct archive *archive;
	struct committer *committer;
	uint64_t next_gen; /* of the next commit to start */
	struct keyring *keys;
	struct metrics_hist fsync; /* seconds each archive commit took */
	struct connq waiting, conns, unauth;
	size_t nconns, max_conns;
	struct timeval auth_timeout;
	struct server_stats st;
	struct fleet *fleet; /* told of sessions and records, or NULL */
	/* Authenticated sessions by sensor id: a power of two of chains. */
	struct connlist *byid;
	size_t nbyid, nready;
};

static void conn_close(struct conn *, const char *why, uint64_t *counter);

/* Commit latency from a disk cache (0.5 ms) to a failing disk (5 s). */
static const double fsync_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

/* The first few of a kind, then every thousandth: floods stay readable. */
static int
worth_logging(uint64_t n)
{
	return n <= 10 || n % 1000 == 0;
}

static void
conn_free(struct conn *c)
{
	struct server *s = c->srv;

	if (c->waiting)
		TAILQ_REMOVE(&s->waiting, c, entry);
	if (c->state != C_READY)
		TAILQ_REMOVE(&s->unauth, c, unauth);
	else {
		LIST_REMOVE(c, byid);
		s->nready--;
		if (s->fleet != NULL)
			fleet_disconnected(s->fleet, c->id);
	}
	TAILQ_REMOVE(&s->conns, c, all);
	s->nconns--;
	bufferevent_free(c->bev);
	event_free(c->deadline);
	free(c->acks);
	sodium_memzero(&c->ses, sizeof(c->ses));
	sodium_memzero(c->psk, sizeof(c->psk));
	free(c);
}

static void
conn_close(struct conn *c, const char *why, uint64_t *counter)
{
	if (counter != NULL)
		(*counter)++;
	if (counter == NULL || worth_logging(*counter))
		log_warnx("%s%s%s: %s; disconnected", c->peer,
		    c->id[0] ? " sensor " : "", c->id, why);
	conn_free(c);
}

/* Send every ack whose commit, generation gen or before, is done. */
static void
server_send_acks(struct server *s, uint64_t gen)
{
	uint8_t buf[WIRE_ACK_MAX];
	struct conn *c, *next;
	size_t i, len;

	for (c = TAILQ_FIRST(&s->waiting); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		for (i = 0; i < c->nacks && c->acks[i].gen <= gen; i++) {
			len = wire_ack_encode(buf, c->acks[i].status,
			    c->acks[i].start, c->acks[i].reason);
			wire_send(&c->ses, bufferevent_get_output(c->bev),
			    FRAME_ACK, buf, len);
		}
		if (i == 0)
			continue;
		c->nacks -= i;
		memmove(c->acks, c->acks + i, c->nacks * sizeof(*c->acks));
		if (c->nacks == 0) {
			TAILQ_REMOVE(&s->waiting, c, entry);
			c->waiting = 0;
		}
	}
}

/*
 * A commit has ended: its acks go out, and the records that arrived
 * meanwhile get the next commit once this loop iteration has read what
 * it has (they all share it).
 */
static void
server_committed(int rc, double secs, void *arg)
{
	struct server *s = arg;

	/* An fsync error leaves durability unknown: restart from the log. */
	if (rc == -1)
		fatalx("archive commit failed; exiting so that sensors resend");
	metrics_hist_observe(&s->fsync, secs);
	s->st.commits++;
	server_send_acks(s, s->next_gen - 1);
	if (!TAILQ_EMPTY(&s->waiting))
		event_active(s->commit_ev, 0, 0);
}

static int
server_committing(const struct server *s)
{
	return s->committer != NULL && committer_busy(s->committer);
}

/*
 * Start a commit of every append so far, unless one is in flight.  The
 * commit thread starts with the first: server_new() comes before the
 * daemon(3) fork, which a thread would not survive.
 */
static void
server_commit(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)what;
	if (server_committing(s) || TAILQ_EMPTY(&s->waiting))
		return;
	if (s->committer == NULL)
		s->committer = committer_new(s->base, server_committed, s);
	s->next_gen++;
	committer_start(s->committer, archive_sync_take(s->archive));
}

static void
conn_queue_ack(struct conn *c, const struct ingest_verdict *v)
{
	struct server *s = c->srv;

	if (c->nacks == c->acap) {
		c->acap = c->acap ? c->acap * 2 : 8;
		c->acks = xreallocarray(c->acks, c->acap, sizeof(*c->acks));
	}
	c->acks[c->nacks].status = v->ack;
	c->acks[c->nacks].reason = v->reason;
	c->acks[c->nacks].start = v->start;
	c->acks[c->nacks].gen = s->next_gen;
	c->nacks++;
	if (!c->waiting) {
		TAILQ_INSERT_TAIL(&s->waiting, c, entry);
		c->waiting = 1;
	}
	if (!server_committing(s))
		event_active(s->commit_ev, 0, 0);
}

static int
conn_hello(struct conn *c, const uint8_t *frame, const struct frame_hdr *h)
{
	struct server *s = c->srv;
	uint8_t client[FRAME_NONCE], server[FRAME_NONCE];
	const uint8_t *psk;
	char id[RECORD_ID_MAX + 1];
	struct timeval idle = {IDLE_TIMEOUT, 0}, ackto = {ACK_TIMEOUT, 0};

	if (h->type != FRAME_HELLO || h->seq != 0 ||
	    wire_hello_decode(frame + FRAME_HDR, h->len, id, client) == -1) {
		conn_close(c, "not a hello", &s->st.bad_frame);
		return -1;
	}
	if ((psk = keyring_find(s->keys, id)) == NULL) {
		snprintf(c->id, sizeof(c->id), "%s", id);
		conn_close(c, "unknown sensor", &s->st.unknown_sensor);
		return -1;
	}
	if (frame_verify(frame, h->len, psk) == -1) {
		snprintf(c->id, sizeof(c->id), "%s", id);
		conn_close(c, "bad MAC on hello", &s->st.bad_mac);
		return -1;
	}
	snprintf(c->id, sizeof(c->id), "%s", id);
	memcpy(c->psk, psk, FRAME_KEY);
	frame_random(server, sizeof(server));
	frame_session_key(psk, client, server, c->ses.key);
	c->ses.send_seq = 0;
	c->ses.recv_seq = 1; /* the hello was frame 0 */
	wire_send(&c->ses, bufferevent_get_output(c->bev), FRAME_CHALLENGE,
	    server, sizeof(server));
	/* The auth deadline set at accept goes on running. */
	c->state = C_CHALLENGED;
	bufferevent_set_timeouts(c->bev, &idle, &ackto);
	log_debug("%s: sensor %s challenged", c->peer, c->id);
	return 0;
}

static struct connlist *
byid_chain(struct server *s, const char *id)
{
	uint32_t h = fnv1a(FNV1A_INIT, id, strlen(id));

	return &s->byid[h & (s->nbyid - 1)];
}

/* Chains stay short: twice as many once sessions outnumber them. */
static void
byid_grow(struct server *s)
{
	struct connlist *old = s->byid;
	size_t i, n = s->nbyid;
	struct conn *c;

	s->nbyid = n ? 2 * n : 64;
	s->byid = xreallocarray(NULL, s->nbyid, sizeof(*s->byid));
	for (i = 0; i < s->nbyid; i++)
		LIST_INIT(&s->byid[i]);
	for (i = 0; i < n; i++)
		while ((c = LIST_FIRST(&old[i])) != NULL) {
			LIST_REMOVE(c, byid);
			LIST_INSERT_HEAD(byid_chain(s, c->id), c, byid);
		}
	free(old);
}

/*
 * The peer holds the key: it keeps its slot, and an older session of the
 * same sensor is closed.  The sensor has given that one up (it resends
 * what was not acknowledged there); left open, a session whose peer
 * vanished without a FIN would hold its slot until the idle timeout.
 */
static void
conn_authenticated(struct conn *c)
{
	struct server *s = c->srv;
	struct connlist *chain;
	struct conn *old;
	char why[sizeof(c->peer) + 40];

	if (s->nready >= s->nbyid)
		byid_grow(s);
	chain = byid_chain(s, c->id);
	LIST_FOREACH(old, chain, byid)
	if (strcmp(old->id, c->id) == 0)
		break;
	if (old != NULL) {
		snprintf(why, sizeof(why), "replaced by a new session from %s",
		    c->peer);
		conn_close(old, why, &s->st.replaced);
	}
	LIST_INSERT_HEAD(chain, c, byid);
	s->nready++;
	TAILQ_REMOVE(&c->srv->unauth, c, unauth);
	c->state = C_READY;
	bufferevent_setwatermark(c->bev, EV_READ, 0, INPUT_MAX);
	evtimer_del(c->deadline);
	log_debug("%s: sensor %s authenticated", c->peer, c->id);
	if (c->srv->fleet != NULL)
		fleet_connected(c->srv->fleet, c->id, c->peer, time(NULL));
}

static int
conn_record(struct conn *c, const uint8_t *frame, const struct frame_hdr *h)
{
	struct server *s = c->srv;
	struct ingest_verdict v;
	const char *why = NULL;
	time_t now = time(NULL);

	if (wire_check(&c->ses, frame, h, &why) == -1) {
		conn_close(c, why, &s->st.bad_mac);
		return -1;
	}
	/* Only as the first frame: anything else is a confused peer. */
	if (h->type == FRAME_PROOF &&
	    (c->state != C_CHALLENGED || h->len != 0)) {
		conn_close(c, "unexpected proof frame", &s->st.bad_frame);
		return -1;
	}
	if (c->state == C_CHALLENGED)
		conn_authenticated(c);
	if (h->type == FRAME_PROOF)
		return 0; /* not answered */
	if (h->type != FRAME_RECORD) {
		conn_close(c, "unexpected frame type", &s->st.bad_frame);
		return -1;
	}
	/* Not archived: no acknowledgement, the sensor sends it again. */
	if (ingest_record(s->ingest, c->id, frame + FRAME_HDR, h->len, now,
		&v) == -1) {
		conn_close(c, "cannot archive the record", NULL);
		return -1;
	}
	if (v.ack == ACK_REJECTED)
		log_warnx("%s sensor %s: record rejected: %s", c->peer, c->id,
		    v.why);
	/* Late and refused records are logged there, rate-limited. */
	if (s->fleet != NULL)
		fleet_record(s->fleet, c->id, &v, now);
	conn_queue_ack(c, &v);
	return 0;
}

/* Acknowledgements queued or waiting for the next commit, in bytes. */
static size_t
conn_owed(struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) +
	    c->nacks * ACK_FRAME;
}

/*
 * A peer that sends records without reading their acks would have them
 * pile up here without end; stop reading it, so that its own socket
 * buffers fill and it waits, until conn_on_write sees them drain.
 */
static void
conn_pause(struct conn *c)
{
	struct server *s = c->srv;

	c->paused = 1;
	bufferevent_disable(c->bev, EV_READ);
	evtimer_del(c->deadline); /* its frame waits for us, not for it */
	s->st.paused++;
	if (worth_logging(s->st.paused))
		log_warnx("%s sensor %s: %zu bytes of acknowledgements unread; "
			  "not reading until they drain",
		    c->peer, c->id, conn_owed(c));
}

/*
 * Seconds the frame begun in "in" may take; its header, if whole, passed
 * wire_read(), so its length is within the limit.
 */
static time_t
frame_seconds(struct evbuffer *in)
{
	uint8_t hdr[FRAME_HDR];

	if (evbuffer_copyout(in, hdr, FRAME_HDR) != FRAME_HDR)
		return FRAME_TIMEOUT;
	return FRAME_TIMEOUT + get_be32(hdr + 4) / FRAME_RATE;
}

static void
conn_on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct timeval tv = {FRAME_TIMEOUT, 0};
	struct frame_hdr h;
	const char *why = NULL;
	uint8_t *frame;
	size_t n;
	int rc = 0, done = 0;

	while (!c->paused &&
	    (rc = wire_read(in,
		 c->state == C_READY ? FRAME_MAX_PAYLOAD : FRAME_MAX_PREAUTH,
		 &h, &frame, &why)) == 1) {
		rc = c->state == C_HELLO ? conn_hello(c, frame, &h)
					 : conn_record(c, frame, &h);
		if (rc == -1)
			return; /* c is gone */
		evbuffer_drain(in, FRAME_HDR + h.len + FRAME_MAC);
		done = 1;
		if (conn_owed(c) >= ACKS_HIGH)
			conn_pause(c);
	}
	if (rc == -1) {
		conn_close(c, why, &c->srv->st.bad_frame);
		return;
	}
	/*
	 * A frame begun must end soon, in a time that allows for its length
	 * once its header is in: a trickle cannot hold a slot.
	 */
	if (c->state == C_READY && !c->paused) {
		n = evbuffer_get_length(in);
		if (n == 0)
			evtimer_del(c->deadline);
		else if (done || !evtimer_pending(c->deadline, NULL) ||
		    (!c->timed_len && n >= FRAME_HDR)) {
			tv.tv_sec = frame_seconds(in);
			c->timed_len = n >= FRAME_HDR;
			evtimer_add(c->deadline, &tv);
		}
	}
}

/* Output drained to ACKS_LOW (the write low watermark) or below. */
static void
conn_on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (!c->paused || conn_owed(c) > ACKS_LOW)
		return;
	c->paused = 0;
	bufferevent_enable(bev, EV_READ);
	/* Whole frames may be buffered already: no read event would come. */
	conn_on_read(bev, c);
}

static void
conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		conn_close(c,
		    what & BEV_EVENT_WRITING
			? "acknowledgements not read in time"
			: "timed out",
		    &c->srv->st.timeouts);
	else if (what & BEV_EVENT_EOF) {
		log_debug("%s: closed by the peer", c->peer);
		conn_free(c);
	} else
		conn_close(c,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()), NULL);
}

static void
conn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	conn_close(c,
	    c->state == C_HELLO            ? "no hello in time"
		: c->state == C_CHALLENGED ? "not authenticated in time"
					   : "frame not completed in time",
	    &c->srv->st.timeouts);
}

/*
 * The table is full.  A slot held by a peer that has not authenticated is
 * worth less than a new connection, which may be a sensor: the oldest such
 * goes, so that a flood of handshakes, replayed or half-open, can never
 * lock a sensor out.  Returns -1 when every slot is authenticated.
 */
static int
server_evict(struct server *s)
{
	struct conn *c;

	if ((c = TAILQ_FIRST(&s->unauth)) == NULL)
		return -1;
	conn_close(c, "not authenticated, and the connection table is full",
	    &s->st.evicted);
	return 0;
}

static void
server_on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server *s = arg;
	char host[NI_MAXHOST], port[NI_MAXSERV];
	struct conn *c;

	(void)lis;
	s->st.accepted++;
	if (s->nconns >= s->max_conns && server_evict(s) == -1) {
		s->st.too_many++;
		if (worth_logging(s->st.too_many))
			log_warnx("%zu connections: refusing more", s->nconns);
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = s;
	if (getnameinfo(sa, (socklen_t)salen, host, sizeof(host), port,
		sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
	else
		snprintf(c->peer, sizeof(c->peer), "?");
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(s->base, conn_on_deadline, c);
	if (c->bev == NULL || c->deadline == NULL)
		fatalx("out of memory for a connection");
	bufferevent_setwatermark(c->bev, EV_READ, 0, INPUT_PREAUTH);
	bufferevent_setwatermark(c->bev, EV_WRITE, ACKS_LOW, 0);
	bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event,
	    c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	evtimer_add(c->deadline, &s->auth_timeout);
	TAILQ_INSERT_TAIL(&s->conns, c, all);
	TAILQ_INSERT_TAIL(&s->unauth, c, unauth);
	s->nconns++;
}

/*
 * Out of descriptors: one held by a peer that has not authenticated is
 * freed first, as when the table is full; failing that, pause accepting
 * for a second, as tmux does.
 */
static void
server_on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct server *s = arg;
	struct timeval tv = {1, 0};
	int e = EVUTIL_SOCKET_ERROR();

	s->st.refused++;
	if (worth_logging(s->st.refused))
		log_warnx("accept: %s", evutil_socket_error_to_string(e));
	if ((e == EMFILE || e == ENFILE) && server_evict(s) == 0)
		return;
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		evconnlistener_disable(lis);
		evtimer_add(s->accept_ev, &tv);
	}
}

static void
server_on_accept_again(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(s->lis);
}

/*
 * The table never takes the descriptors the archive needs: a record that
 * cannot be archived is not acknowledged, whoever holds the slots.
 */
size_t
server_conns_allowed(rlim_t nofile)
{
	if (nofile == RLIM_INFINITY)
		return SIZE_MAX;
	if (nofile <= 2 * SERVER_FD_RESERVE)
		return (size_t)nofile / 2;
	return (size_t)(nofile - SERVER_FD_RESERVE);
}

static size_t
server_max_conns(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	return server_conns_allowed(rl.rlim_cur);
}

void
server_set_max_conns(struct server *s, size_t n)
{
	s->max_conns = n;
}

void
server_conns(const struct server *s, size_t *open, size_t *max)
{
	*open = s->nconns;
	*max = s->max_conns;
}

struct server *
server_new(struct event_base *base, const char *listen, struct ingest *ing,
    struct archive *archive, unsigned auth_timeout, char *err, size_t errlen)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct addrinfo *res;

	s->base = base;
	s->ingest = ing;
	s->archive = archive;
	s->auth_timeout.tv_sec = auth_timeout;
	s->max_conns = server_max_conns();
	s->next_gen = 1;
	metrics_hist_init(&s->fsync, fsync_bounds,
	    sizeof(fsync_bounds) / sizeof(fsync_bounds[0]));
	TAILQ_INIT(&s->waiting);
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->unauth);
	if (hostport_passive(NULL, listen, &res, err, errlen) == -1) {
		free(s);
		return NULL;
	}
	s->lis = evconnlistener_new_bind(base, server_on_accept, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512, res->ai_addr,
	    (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (s->lis == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen,
		    strerror(errno));
		free(s);
		return NULL;
	}
	evconnlistener_set_error_cb(s->lis, server_on_accept_error);
	s->commit_ev = event_new(base, -1, 0, server_commit, s);
	s->accept_ev = evtimer_new(base, server_on_accept_again, s);
	if (s->commit_ev == NULL || s->accept_ev == NULL)
		fatalx("evtimer_new failed");
	return s;
}

void
server_free(struct server *s)
{
	struct conn *c;

	if (s == NULL)
		return;
	/*
	 * The commit in flight ends, and one more covers the records that
	 * arrived meanwhile, so that all are durable; their acks are only
	 * queued on connections closed next (their sensors resend, and are
	 * told they are held).
	 */
	if (s->committer != NULL)
		committer_wait(s->committer);
	server_commit(-1, 0, s);
	committer_free(s->committer);
	s->committer = NULL;
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_free(c);
	evconnlistener_free(s->lis);
	event_free(s->commit_ev);
	event_free(s->accept_ev);
	keyring_free(s->keys);
	free(s->byid);
	free(s);
}

/*
 * A session lives on its key: one whose sensor is gone from the keys, or
 * has another key now, ends here, each with a line in the log.
 */
size_t
server_set_keys(struct server *s, struct keyring *keys)
{
	struct conn *c, *next;
	const uint8_t *psk;
	const char *why;
	size_t n = 0;

	keyring_free(s->keys);
	s->keys = keys;
	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, all);
		if (c->state == C_HELLO)
			continue;
		if ((psk = keyring_find(keys, c->id)) == NULL)
			why = "key removed";
		else if (sodium_memcmp(psk, c->psk, FRAME_KEY) != 0)
			why = "key changed";
		else
			continue;
		s->st.revoked++;
		n++;
		conn_close(c, why, NULL);
	}
	return n;
}

void
server_set_fleet(struct server *s, struct fleet *f)
{
	s->fleet = f;
}

void
server_stats(const struct server *s, struct server_stats *st)
{
	*st = s->st;
}

const struct metrics_hist *
server_fsync(const struct server *s)
{
	return &s->fsync;
}

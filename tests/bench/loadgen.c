/*
 * loadgen: many simulated sensors in one process, for bench_ingest.py and
 * the soak test (tests/integration/soak_test.py).
 *
 * Opens N authenticated connections to a teiten-aggregator (sensor ids
 * lg00000, lg00001, ...; keys derived from --seed, so that
 * `loadgen --write-keys FILE` writes the aggregator's keys file), then for
 * --duration seconds sends records of about --keys keys each (counts
 * falling off with the rank of the key, Zipf-like) at --rate records per
 * second across the whole fleet, or as fast as the aggregator acknowledges
 * with --rate 0 (at most --window records in flight).  A sensor sends one
 * record and waits for its ACK before its next; its k-th record is for
 * interval start + k * len, as a sensor one record a minute would send.
 *
 * By default an extra sensor, lg-hold, first reports the interval before
 * start and then goes quiet: while it counts as active (the aggregator's
 * --active), no interval of the run is complete, so with a long --grace
 * nothing becomes final and no RRD is written: the run measures receive,
 * verify, decode, sum, archive and fsync alone.  --no-hold lets intervals
 * finalize as they complete.
 *
 * With --reconnect, a sensor whose connection fails or is closed once the
 * timed phase has begun (the aggregator stopped, or could not archive)
 * connects again after a backoff (0.1 s doubling to 2 s, jittered) and
 * sends its unacknowledged record again, as a real sensor resends from its
 * spool; without it such a sensor is dead and its record lost.
 *
 * With --log FILE, it writes every template's entries ("T template proto
 * key packets", proto 0-3 for tcp udp icmp icmp6) and then one line per
 * acknowledgement ("A sensor start status template secs ms": seconds since
 * the timed phase began, and the latency) and per resend ("R sensor
 * start"), so that a test can compute what the aggregator must hold from
 * what was sent.  A record acknowledged as a duplicate was held
 * already: sent before, it was archived but its acknowledgement was lost.
 *
 * With --sources N, connection i is made from 127.0.1.(1 + i % N): on
 * loopback, one source address reaches one address and port from at most
 * the ephemeral port range (about 28,000 ports), and Linux's search for a
 * free port slows as it fills, so a fleet of 100,000 needs several.
 *
 * With --sketch-key FILE (the fleet's sketch key file, sketchkey.h), records
 * are version 2 with sketches of precision --sketch-p (default
 * HLL_P_DEFAULT) under that key.  Sources model, per template and key: a
 * key of popularity rank r (0 the most popular) gets
 * n = (2 + 300 / (1 + r / 4)) x U(0.5, 1.5) sources (at most its
 * packets): about 300 for the top key, 150 at rank 4, 30 at rank 40, 2 to
 * 3 in the long tail; each drawn uniformly from one pool of
 * SRC_POOL addresses shared by every template, so that sensors overlap
 * and the fleet's union is bounded by the pool.  Targets: min(256,
 * n x U(1, 4)) draws with repetition from the template's own /24
 * (100.64.0.0/10 + template << 8), as a sensor on a /24 sees them.  The
 * record's all_src and all_dst are the unions over its keys.  The encoded
 * size of every template's record (the records sent cycle through them)
 * is reported as percentiles; --sizes prints them and exits, without an
 * aggregator.
 *
 * Latency is measured from the send on the connection that was
 * acknowledged ("lat_*"), and from the record's first send ("deliver_*"),
 * which includes the time the aggregator was away.
 *
 * stdout, for the driver: "ready N SECS" once every sensor has connected,
 * "go" when the timed phase starts, "done" when it ends (every record
 * acknowledged or --drain seconds passed), then one line of JSON results.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sodium.h>

#include "hostport.h"
#include "interval.h"
#include "keyidx.h"
#include "record.h"
#include "sketchkey.h"
#include "wire.h"
#include "xmalloc.h"

enum lstate { L_IDLE, L_CONNECTING, L_HELLO, L_READY, L_DEAD, L_AWAY };

struct lsensor {
	struct lg *lg;
	uint32_t idx;
	char id[RECORD_ID_MAX + 1];
	uint8_t psk[FRAME_KEY];
	uint8_t nonce[FRAME_NONCE];
	struct wire_session ses;
	struct bufferevent *bev;
	enum lstate state;
	int busy; /* a record in flight */
	int queued; /* on the ring */
	int64_t inflight;
	double sent_at, first_at;
	double backoff; /* seconds before the next reconnect (L_AWAY) */
	struct event *retry;
	uint32_t next; /* records sent so far: the next interval index */
};

struct template
{
	struct record_entry *e;
	size_t n;
	uint64_t totals[RT_COUNT];
	struct hll *all_src, *all_dst; /* --sketch-key */
	size_t bytes; /* encoded record */
};

/* Source addresses shared by all templates (--sketch-key). */
#define SRC_POOL 100000

struct lg {
	struct event_base *base;
	struct sockaddr_storage ss;
	socklen_t sslen;
	/* options */
	uint32_t nsensors, keys, pool, window, parallel, len, seed;
	uint32_t sources; /* --sources: 127.0.1.x to connect from; 0: any */
	double rate, duration, drain;
	int hold, reconnect;
	int64_t start;
	unsigned sketch_p; /* 0: version 1 records */
	struct sketchkey sk;
	/* state */
	struct lsensor *s; /* nsensors, then the hold sensor */
	struct template *tpl;
	uint32_t *ring; /* ready sensors without a record in flight */
	size_t rhead, rtail, rcount, rcap;
	uint32_t next_connect, connecting, ready, dead;
	int phase; /* 0 connecting, 1 hold, 2 timed, 3 draining, 4 over */
	double t0, t_go, t_stop, t_done;
	uint64_t sent, acked, stored, dup, rejected, keys_acked, bytes;
	uint64_t lost, stalls, slots, reconnects, resent, aways;
	double *lat, *dlat;
	size_t nlat, latcap;
	struct event *tick;
	uint8_t *buf;
	size_t bufcap;
	FILE *log; /* --log */
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
derive_key(uint32_t seed, const char *id, uint8_t out[FRAME_KEY])
{
	uint8_t k[32];
	char msg[128];

	memset(k, 0, sizeof(k));
	snprintf((char *)k, sizeof(k), "teiten-loadgen-%u", seed);
	snprintf(msg, sizeof(msg), "%s", id);
	crypto_generichash(out, FRAME_KEY, (const uint8_t *)msg, strlen(msg), k,
	    sizeof(k));
}

static void
sensor_id(uint32_t i, uint32_t n, char *buf, size_t len)
{
	if (i == n)
		snprintf(buf, len, "lg-hold");
	else
		snprintf(buf, len, "lg%05u", i);
}

static int
write_keys(const char *path, uint32_t n, uint32_t seed)
{
	uint8_t key[FRAME_KEY];
	char id[RECORD_ID_MAX + 1];
	char hex[2 * FRAME_KEY + 1];
	FILE *f;
	uint32_t i;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    fchmod(fd, 0600) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# loadgen sensors, seed %u\n", seed);
	for (i = 0; i <= n; i++) {
		sensor_id(i, n, id, sizeof(id));
		derive_key(seed, id, key);
		sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
		fprintf(f, "%s %s\n", id, hex);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* xorshift64*: cheap and reproducible. */
static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static double
rng_unit(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct record_entry *x = a, *y = b;
	uint32_t i = keyidx(x->proto, x->key), j = keyidx(y->proto, y->key);

	return i < j ? -1 : i > j;
}

/* The keyed hash of an IPv4 address, as a sensor hashes it. */
static uint64_t
addr_hash(const struct lg *g, uint32_t a)
{
	uint8_t b[4] = {a >> 24, a >> 16, a >> 8, a}, h[8];
	uint64_t v = 0;
	int i;

	crypto_shorthash(h, b, sizeof(b), g->sk.hash);
	for (i = 7; i >= 0; i--)
		v = v << 8 | h[i];
	return v;
}

/* Template t's sketches: the sources model above. */
static void
make_sketches(struct lg *g, struct template *tp, uint32_t t,
    const uint32_t *rank_of)
{
	uint32_t net = 0x64400000u + ((t & 0x3fff) << 8);
	uint64_t h, ns, nd, j;
	size_t i;

	tp->all_src = hll_new(g->sketch_p);
	tp->all_dst = hll_new(g->sketch_p);
	for (i = 0; i < tp->n; i++) {
		struct record_entry *e = &tp->e[i];
		double r = rank_of[keyidx(e->proto, e->key)];

		ns = (uint64_t)((2 + 300 / (1 + r / 4)) * (0.5 + rng_unit()));
		if (ns < 1)
			ns = 1;
		if (ns > e->packets)
			ns = e->packets;
		nd = (uint64_t)((double)ns * (1 + 3 * rng_unit()));
		if (nd > 256)
			nd = 256;
		e->src = hll_new(g->sketch_p);
		e->dst = hll_new(g->sketch_p);
		for (j = 0; j < ns; j++) {
			/* Pool index to a spread-out address. */
			h = addr_hash(g,
			    (uint32_t)(rng() % SRC_POOL) * 2654435761u +
				0x01000000u);
			hll_add(e->src, h);
			hll_add(tp->all_src, h);
		}
		for (j = 0; j < nd; j++) {
			h = addr_hash(g, net + (uint32_t)(rng() % 256));
			hll_add(e->dst, h);
			hll_add(tp->all_dst, h);
		}
	}
}

/* Each template's record size, encoded (all sensors' ids are as long). */
static void
template_sizes(struct lg *g)
{
	struct record r;
	uint32_t t;

	for (t = 0; t < g->pool; t++) {
		record_init(&r);
		snprintf(r.sensor, sizeof(r.sensor), "lg00000");
		r.len = g->len;
		r.naddrs = 1;
		r.start = g->start;
		r.entries = g->tpl[t].e;
		r.nentries = r.cap = g->tpl[t].n;
		memcpy(r.totals, g->tpl[t].totals, sizeof(r.totals));
		r.sketch_p = g->sketch_p;
		memcpy(r.sketch_keyid, g->sk.id, RECORD_KEYID);
		r.all_src = g->tpl[t].all_src;
		r.all_dst = g->tpl[t].all_dst;
		g->tpl[t].bytes = record_encoded_max(&r);
		if (g->tpl[t].bytes > g->bufcap) {
			g->bufcap = g->tpl[t].bytes;
			g->buf = xreallocarray(g->buf, g->bufcap, 1);
		}
		if ((g->tpl[t].bytes = record_encode(&r, g->buf, g->bufcap)) ==
		    0) {
			fprintf(stderr, "loadgen: cannot encode a record\n");
			exit(1);
		}
	}
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* "rec_bytes_*" fields of the JSON line: the templates' sizes. */
static void
print_sizes(const struct lg *g)
{
	size_t *v = xreallocarray(NULL, g->pool, sizeof(*v)), sum = 0;
	uint32_t t;

	for (t = 0; t < g->pool; t++) {
		v[t] = g->tpl[t].bytes;
		sum += v[t];
	}
	qsort(v, g->pool, sizeof(*v), cmp_size);
	printf("\"sketch_p\": %u, \"rec_bytes_mean\": %.0f, "
	       "\"rec_bytes_min\": %zu, \"rec_bytes_p50\": %zu, "
	       "\"rec_bytes_p90\": %zu, \"rec_bytes_p99\": %zu, "
	       "\"rec_bytes_max\": %zu, \"frame_max_payload\": %u",
	    g->sketch_p, (double)sum / g->pool, v[0], v[(g->pool - 1) / 2],
	    v[(size_t)(0.9 * (g->pool - 1) + 0.5)],
	    v[(size_t)(0.99 * (g->pool - 1) + 0.5)], v[g->pool - 1],
	    FRAME_MAX_PAYLOAD);
	free(v);
}

/*
 * Templates: keys drawn by rank from one popularity order shared by all
 * sensors, rank r with probability ~ 1/r (log-uniform), count ~ A/r.
 */
static void
make_templates(struct lg *g)
{
	uint32_t *perm = xreallocarray(NULL, KEYIDX_COUNT, sizeof(*perm));
	uint32_t *rank_of = xreallocarray(NULL, KEYIDX_COUNT, sizeof(*perm));
	uint8_t *seen = xcalloc(KEYIDX_COUNT, 1);
	double lnk = log((double)KEYIDX_COUNT);
	uint32_t i, j, t;

	rng_state ^= (uint64_t)g->seed * 0x9E3779B97F4A7C15ull;
	for (i = 0; i < KEYIDX_COUNT; i++)
		perm[i] = i;
	for (i = KEYIDX_COUNT - 1; i > 0; i--) {
		j = (uint32_t)(rng() % (i + 1));
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (i = 0; i < KEYIDX_COUNT; i++)
		rank_of[perm[i]] = i;
	g->tpl = xcalloc(g->pool, sizeof(*g->tpl));
	for (t = 0; t < g->pool; t++) {
		struct template *tp = &g->tpl[t];
		uint32_t want = (uint32_t)(g->keys * (0.75 + 0.5 * rng_unit()));
		double a = 50000.0 * (0.5 + rng_unit());

		if (want < 1)
			want = 1;
		if (want > KEYIDX_COUNT / 2)
			want = KEYIDX_COUNT / 2;
		tp->e = xcalloc(want, sizeof(*tp->e));
		while (tp->n < want) {
			uint32_t r = (uint32_t)exp(rng_unit() * lnk) - 1;
			uint32_t k;

			if (r >= KEYIDX_COUNT)
				r = KEYIDX_COUNT - 1;
			k = perm[r];
			if (seen[k])
				continue;
			seen[k] = 1;
			tp->e[tp->n].proto = (uint8_t)keyidx_proto(k);
			tp->e[tp->n].key = (uint16_t)keyidx_key(k);
			tp->n++;
		}
		for (i = 0; i < tp->n; i++) {
			uint32_t k = keyidx(tp->e[i].proto, tp->e[i].key);

			seen[k] = 0;
			tp->e[i].packets = 1 +
			    (uint64_t)(a * (0.5 + rng_unit()) /
				(double)(rank_of[k] + 1));
			tp->totals[tp->e[i].proto] += tp->e[i].packets;
		}
		qsort(tp->e, tp->n, sizeof(*tp->e), cmp_entry);
		tp->totals[RT_TCP_SYN] = tp->totals[RT_TCP];
		tp->totals[RT_OTHER] = 3;
		if (g->sketch_p != 0)
			make_sketches(g, tp, t, rank_of);
	}
	free(perm);
	free(rank_of);
	free(seen);
}

static void
ring_push(struct lg *g, uint32_t i)
{
	g->ring[g->rtail] = i;
	g->rtail = (g->rtail + 1) % g->rcap;
	g->rcount++;
}

static uint32_t
ring_pop(struct lg *g)
{
	uint32_t i = g->ring[g->rhead];

	g->rhead = (g->rhead + 1) % g->rcap;
	g->rcount--;
	g->s[i].queued = 0;
	return i;
}

/*
 * The next ready sensor on the ring, or NULL: one that went away while
 * queued is dropped here and queued again once it is back.
 */
static struct lsensor *
ring_next(struct lg *g)
{
	struct lsensor *s;

	while (g->rcount > 0) {
		s = &g->s[ring_pop(g)];
		if (s->state == L_READY && !s->busy)
			return s;
	}
	return NULL;
}

static void lg_connect_more(struct lg *);
static void lg_pump(struct lg *);
static void sensor_connect(struct lg *, struct lsensor *);
static void sensor_send(struct lsensor *);

static void
sensor_queue(struct lg *g, struct lsensor *s)
{
	if (s->queued)
		return;
	s->queued = 1;
	ring_push(g, s->idx);
}

static void
sensor_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct lsensor *s = arg;

	(void)fd;
	(void)what;
	s->lg->reconnects++;
	sensor_connect(s->lg, s);
}

/*
 * The aggregator went away or closed the connection: connect again later
 * and resend the record in flight, which stays busy (not lost).
 */
static void
sensor_away(struct lsensor *s)
{
	struct lg *g = s->lg;
	struct timeval tv;
	double d;

	if (s->state == L_CONNECTING || s->state == L_HELLO)
		g->connecting--;
	if (s->state == L_READY)
		g->ready--;
	s->state = L_AWAY;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	if (s->retry == NULL &&
	    (s->retry = evtimer_new(g->base, sensor_on_retry, s)) == NULL) {
		fprintf(stderr, "loadgen: cannot make a timer\n");
		exit(1);
	}
	s->backoff = s->backoff == 0 ? 0.1 : s->backoff * 2;
	if (s->backoff > 2)
		s->backoff = 2;
	d = s->backoff * (0.5 + rng_unit());
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	if (evtimer_add(s->retry, &tv) == -1) {
		fprintf(stderr, "loadgen: cannot arm a timer\n");
		exit(1);
	}
}

static void
sensor_dead(struct lsensor *s, const char *why)
{
	struct lg *g = s->lg;

	if (s->idx != g->nsensors && g->reconnect && g->phase >= 2 &&
	    g->phase < 4) {
		if (g->aways++ < 10)
			fprintf(stderr,
			    "loadgen: sensor %s: %s; reconnecting\n", s->id,
			    why);
		sensor_away(s);
		return;
	}
	if (g->dead < 10)
		fprintf(stderr, "loadgen: sensor %s: %s\n", s->id, why);
	if (s->idx == g->nsensors) {
		fprintf(stderr, "loadgen: the hold sensor failed\n");
		exit(1);
	}
	if (s->state == L_CONNECTING || s->state == L_HELLO)
		g->connecting--;
	if (s->state == L_READY)
		g->ready--;
	if (s->busy && g->phase >= 2)
		g->lost++;
	s->busy = 0;
	s->state = L_DEAD;
	g->dead++;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	if (g->phase == 0)
		lg_connect_more(g);
}

static void
sensor_send(struct lsensor *s)
{
	struct lg *g = s->lg;
	struct template *tp;
	struct record r;
	size_t len;
	uint32_t k = s->busy ? s->next - 1 : s->next; /* busy: a resend */

	record_init(&r);
	snprintf(r.sensor, sizeof(r.sensor), "%s", s->id);
	r.len = g->len;
	r.naddrs = 1;
	if (s->idx == g->nsensors) {
		/* The hold sensor: an empty record for the interval before. */
		r.start = g->start - (int64_t)g->len;
	} else {
		tp = &g->tpl[(s->idx * 7 + k) % g->pool];
		r.start = g->start + (int64_t)k * g->len;
		r.entries = tp->e;
		r.nentries = r.cap = tp->n;
		memcpy(r.totals, tp->totals, sizeof(r.totals));
		if (g->sketch_p != 0) {
			r.sketch_p = g->sketch_p;
			memcpy(r.sketch_keyid, g->sk.id, RECORD_KEYID);
			r.all_src = tp->all_src;
			r.all_dst = tp->all_dst;
		}
	}
	len = record_encoded_max(&r);
	if (len > g->bufcap) {
		g->bufcap = len;
		g->buf = xreallocarray(g->buf, len, 1);
	}
	len = record_encode(&r, g->buf, g->bufcap);
	if (len == 0 ||
	    wire_send(&s->ses, bufferevent_get_output(s->bev), FRAME_RECORD,
		g->buf, len) == -1) {
		sensor_dead(s, "cannot encode or queue a record");
		return;
	}
	s->sent_at = now_mono();
	if (s->busy) {
		g->resent++;
		g->bytes += FRAME_HDR + len + FRAME_MAC;
		if (g->log != NULL)
			fprintf(g->log, "R %s %" PRId64 "\n", s->id,
			    s->inflight);
		return;
	}
	s->busy = 1;
	s->inflight = r.start;
	s->first_at = s->sent_at;
	if (s->idx == g->nsensors)
		return;
	s->next++;
	g->sent++;
	g->bytes += FRAME_HDR + len + FRAME_MAC;
}

static void
lg_on_ack(struct lsensor *s, enum frame_ack st)
{
	struct lg *g = s->lg;
	double t = now_mono();

	s->busy = 0;
	if (s->idx == g->nsensors) {
		/* The hold record is in: connect the fleet. */
		g->phase = 0;
		lg_connect_more(g);
		return;
	}
	g->acked++;
	if (g->log != NULL)
		fprintf(g->log, "A %s %" PRId64 " %d %u %.3f %.1f\n", s->id,
		    s->inflight, (int)st, (s->idx * 7 + s->next - 1) % g->pool,
		    t - g->t_go, 1e3 * (t - s->sent_at));
	if (st == ACK_STORED) {
		g->stored++;
		g->keys_acked += g->tpl[(s->idx * 7 + s->next - 1) % g->pool].n;
	} else if (st == ACK_DUPLICATE)
		g->dup++;
	else
		g->rejected++;
	if (g->nlat == g->latcap) {
		g->latcap = g->latcap ? g->latcap * 2 : 65536;
		g->lat = xreallocarray(g->lat, g->latcap, sizeof(*g->lat));
		g->dlat = xreallocarray(g->dlat, g->latcap, sizeof(*g->dlat));
	}
	g->dlat[g->nlat] = t - s->first_at;
	g->lat[g->nlat++] = t - s->sent_at;
	sensor_queue(g, s);
	if (g->phase == 2 && g->rate <= 0)
		lg_pump(g);
}

static void
sensor_on_read(struct bufferevent *bev, void *arg)
{
	struct lsensor *s = arg;
	struct lg *g = s->lg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct frame_hdr h;
	const char *why = NULL;
	enum frame_ack st;
	int reason;
	int64_t start;
	uint8_t *frame;
	int rc;

	while ((rc = wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why)) == 1) {
		if (s->state == L_HELLO) {
			if (wire_challenge(&s->ses, s->psk, s->nonce, frame, &h,
				&why) == -1) {
				sensor_dead(s, why);
				return;
			}
			evbuffer_drain(in, FRAME_HDR + h.len + FRAME_MAC);
			s->state = L_READY;
			g->connecting--;
			g->ready++;
			if (s->idx == g->nsensors) {
				g->phase = 1;
				sensor_send(s);
			} else if (s->busy) {
				/* Back after a reconnect: resend. */
				s->backoff = 0;
				sensor_send(s);
				if (s->bev == NULL)
					return; /* failed: away again */
			} else {
				s->backoff = 0;
				sensor_queue(g, s);
				lg_connect_more(g);
			}
			continue;
		}
		if (h.type != FRAME_ACK ||
		    wire_check(&s->ses, frame, &h, &why) == -1 ||
		    wire_ack_decode(frame + FRAME_HDR, h.len, &st, &start,
			&reason) == -1 ||
		    !s->busy || start != s->inflight) {
			sensor_dead(s, why ? why : "bad acknowledgement");
			return;
		}
		evbuffer_drain(in, FRAME_HDR + h.len + FRAME_MAC);
		lg_on_ack(s, st);
	}
	if (rc == -1)
		sensor_dead(s, why);
}

static void
sensor_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct lsensor *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (wire_hello_send(bufferevent_get_output(s->bev), s->id,
			s->psk, s->nonce) == -1) {
			sensor_dead(s, "cannot queue the hello");
			return;
		}
		s->state = L_HELLO;
		return;
	}
	if (what & BEV_EVENT_EOF)
		sensor_dead(s, "closed by the aggregator");
	else
		sensor_dead(s,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/*
 * A socket bound to source address 127.0.1.(1 + idx % sources), its port
 * left to connect(): IP_BIND_ADDRESS_NO_PORT keeps bind() from taking a
 * port that would then be unique across every destination.
 */
static evutil_socket_t
sensor_socket(struct lg *g, uint32_t idx)
{
	struct sockaddr_in sin;
	evutil_socket_t fd;
	int one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000101 + idx % g->sources);
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    evutil_make_socket_nonblocking(fd) == -1) {
		one = errno;
		close(fd);
		errno = one;
		return -1;
	}
	return fd;
}

static void
sensor_connect(struct lg *g, struct lsensor *s)
{
	evutil_socket_t fd = -1;

	if (g->sources > 0 && (fd = sensor_socket(g, s->idx)) == -1) {
		sensor_dead(s, strerror(errno));
		return;
	}
	s->bev = bufferevent_socket_new(g->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		if (fd != -1)
			close(fd);
		sensor_dead(s, "bufferevent_socket_new failed");
		return;
	}
	bufferevent_setcb(s->bev, sensor_on_read, NULL, sensor_on_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->state = L_CONNECTING;
	g->connecting++;
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&g->ss,
		(int)g->sslen) == -1)
		sensor_dead(s, "cannot connect");
}

static void
lg_connect_more(struct lg *g)
{
	if (g->phase != 0)
		return;
	while (g->connecting < g->parallel && g->next_connect < g->nsensors)
		sensor_connect(g, &g->s[g->next_connect++]);
	if (g->connecting == 0 && g->next_connect == g->nsensors) {
		printf("ready %u %.3f\n", g->ready, now_mono() - g->t0);
		printf("go\n");
		fflush(stdout);
		g->phase = 2;
		g->t_go = now_mono();
	}
}

/* Send what is due: by rate, or up to the window. */
static void
lg_pump(struct lg *g)
{
	double el = now_mono() - g->t_go;
	uint64_t inflight = g->sent - g->acked - g->lost;
	uint64_t due;
	struct lsensor *s;

	if (g->phase != 2)
		return;
	if (g->rate > 0) {
		due = (uint64_t)(g->rate * el);
		while (g->slots < due) {
			if ((s = ring_next(g)) == NULL) {
				/* Every sensor waits for an ACK: skipped. */
				g->stalls += due - g->slots;
				g->slots = due;
				break;
			}
			sensor_send(s);
			g->slots++;
		}
		return;
	}
	while (inflight < g->window && (s = ring_next(g)) != NULL) {
		sensor_send(s);
		inflight++;
	}
}

static void
lg_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lg *g = arg;
	double t = now_mono();

	(void)fd;
	(void)what;
	if (g->phase == 2) {
		if (t - g->t_go >= g->duration) {
			g->phase = 3;
			g->t_stop = t;
		} else
			lg_pump(g);
	}
	if (g->phase == 3 &&
	    (g->sent == g->acked + g->lost || t - g->t_stop >= g->drain)) {
		g->phase = 4;
		g->t_done = t;
		event_base_loopbreak(g->base);
	}
	if (g->phase < 2 && t - g->t0 > 600) {
		fprintf(stderr, "loadgen: still connecting after 600 s\n");
		exit(1);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void
lg_report(struct lg *g)
{
	struct rusage ru;
	double secs = g->t_stop - g->t_go, sum = 0, avgkeys = 0;
	size_t i;

	for (i = 0; i < g->pool; i++)
		avgkeys += (double)g->tpl[i].n;
	avgkeys /= g->pool;
	qsort(g->lat, g->nlat, sizeof(*g->lat), cmp_double);
	qsort(g->dlat, g->nlat, sizeof(*g->dlat), cmp_double);
	for (i = 0; i < g->nlat; i++)
		sum += g->lat[i];
	getrusage(RUSAGE_SELF, &ru);
	printf("done\n");
	printf("{\"sensors\": %u, \"connected\": %u, \"dead\": %u, "
	       "\"rate\": %.3f, \"secs\": %.3f, \"drain_secs\": %.3f, "
	       "\"sent\": %" PRIu64 ", \"acked\": %" PRIu64
	       ", \"stored\": %" PRIu64 ", \"duplicate\": %" PRIu64
	       ", \"rejected\": %" PRIu64 ", \"lost\": %" PRIu64
	       ", \"stalls\": %" PRIu64 ", \"keys_acked\": %" PRIu64
	       ", \"bytes\": %" PRIu64 ", \"avg_keys\": %.1f, "
	       "\"lat_p50_ms\": %.3f, \"lat_p90_ms\": %.3f, "
	       "\"lat_p99_ms\": %.3f, \"lat_max_ms\": %.3f, "
	       "\"lat_mean_ms\": %.3f, \"deliver_p99_ms\": %.3f, "
	       "\"deliver_max_ms\": %.3f, \"reconnects\": %" PRIu64
	       ", \"resent\": %" PRIu64 ", \"unacked\": %" PRIu64 ", "
	       "\"loadgen_cpu_s\": %.3f, ",
	    g->nsensors, g->ready, g->dead, g->rate, secs,
	    g->t_done - g->t_stop, g->sent, g->acked, g->stored, g->dup,
	    g->rejected, g->lost, g->stalls, g->keys_acked, g->bytes, avgkeys,
	    1e3 * pct(g->lat, g->nlat, 0.5), 1e3 * pct(g->lat, g->nlat, 0.9),
	    1e3 * pct(g->lat, g->nlat, 0.99),
	    1e3 * (g->nlat ? g->lat[g->nlat - 1] : 0),
	    g->nlat ? 1e3 * sum / (double)g->nlat : 0,
	    1e3 * pct(g->dlat, g->nlat, 0.99),
	    1e3 * (g->nlat ? g->dlat[g->nlat - 1] : 0), g->reconnects,
	    g->resent, g->sent - g->acked - g->lost,
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	print_sizes(g);
	printf("}\n");
	fflush(stdout);
}

static void
templates_free(struct lg *g)
{
	uint32_t i;
	size_t k;

	for (i = 0; i < g->pool; i++) {
		for (k = 0; k < g->tpl[i].n; k++) {
			hll_free(g->tpl[i].e[k].src);
			hll_free(g->tpl[i].e[k].dst);
		}
		hll_free(g->tpl[i].all_src);
		hll_free(g->tpl[i].all_dst);
		free(g->tpl[i].e);
	}
	free(g->tpl);
}

/* Everything main() made, so that LeakSanitizer sees none left. */
static void
lg_free(struct lg *g)
{
	uint32_t i;

	for (i = 0; i <= g->nsensors; i++) {
		if (g->s[i].bev != NULL)
			bufferevent_free(g->s[i].bev);
		if (g->s[i].retry != NULL)
			event_free(g->s[i].retry);
	}
	templates_free(g);
	free(g->s);
	free(g->ring);
	free(g->lat);
	free(g->dlat);
	free(g->buf);
	event_free(g->tick);
	event_base_free(g->base);
}

static int
lg_open_log(struct lg *g, const char *path)
{
	uint32_t t;
	size_t i;

	if ((g->log = fopen(path, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (t = 0; t < g->pool; t++)
		for (i = 0; i < g->tpl[t].n; i++)
			fprintf(g->log, "T %u %u %u %" PRIu64 "\n", t,
			    g->tpl[t].e[i].proto, g->tpl[t].e[i].key,
			    g->tpl[t].e[i].packets);
	if (fflush(g->log) == EOF) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen --write-keys FILE [-n sensors] [--seed N]\n"
	    "       loadgen -a HOST:PORT [-n sensors] [--rate R|0] "
	    "[--duration S] [--keys K]\n"
	    "               [--pool P] [--window W] [--parallel C] "
	    "[--interval LEN] [--start T]\n"
	    "               [--seed N] [--drain S] [--no-hold] [--reconnect] "
	    "[--log FILE]\n"
	    "               [--sources N] [--sketch-key FILE [--sketch-p P]]\n"
	    "       loadgen --sizes [--sketch-key FILE [--sketch-p P]] "
	    "[--keys K] [--pool P]\n");
	exit(1);
}

static double
num(const char *s, double min, double max)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= min && v <= max)) {
		fprintf(stderr, "loadgen: bad number %s\n", s);
		exit(1);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"addr", required_argument, NULL, 'a'},
	    {"sensors", required_argument, NULL, 'n'},
	    {"rate", required_argument, NULL, 'r'},
	    {"duration", required_argument, NULL, 'd'},
	    {"keys", required_argument, NULL, 'k'},
	    {"pool", required_argument, NULL, 'p'},
	    {"window", required_argument, NULL, 'w'},
	    {"parallel", required_argument, NULL, 'c'},
	    {"interval", required_argument, NULL, 'i'},
	    {"start", required_argument, NULL, 't'},
	    {"seed", required_argument, NULL, 's'},
	    {"drain", required_argument, NULL, 'D'},
	    {"no-hold", no_argument, NULL, 'H'},
	    {"write-keys", required_argument, NULL, 'W'},
	    {"log", required_argument, NULL, 'L'},
	    {"reconnect", no_argument, NULL, 'R'},
	    {"sources", required_argument, NULL, 'S'},
	    {"sketch-key", required_argument, NULL, 'K'},
	    {"sketch-p", required_argument, NULL, 'P'},
	    {"sizes", no_argument, NULL, 'Z'},
	    {NULL, 0, NULL, 0},
	};
	struct lg g;
	struct rlimit rl;
	struct timeval tv = {0, 2000};
	struct addrinfo hints, *res;
	char host[256], port[8];
	const char *addr = NULL, *keysout = NULL, *logout = NULL;
	const char *skfile = NULL;
	char err[512];
	unsigned skp = HLL_P_DEFAULT;
	uint32_t i;
	int ch, rc, sizes = 0;

	memset(&g, 0, sizeof(g));
	g.nsensors = 10000;
	g.keys = 2000;
	g.pool = 256;
	g.window = 256;
	g.parallel = 256;
	g.len = 60;
	g.rate = 170;
	g.duration = 60;
	g.drain = 30;
	g.hold = 1;
	g.start = INT64_MIN;
	while ((ch = getopt_long(argc, argv, "a:n:r:d:k:", opts, NULL)) != -1)
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'n':
			g.nsensors = (uint32_t)num(optarg, 1, 1e6);
			break;
		case 'r':
			g.rate = num(optarg, 0, 1e7);
			break;
		case 'd':
			g.duration = num(optarg, 0.1, 1e6);
			break;
		case 'k':
			g.keys = (uint32_t)num(optarg, 1, 65536);
			break;
		case 'p':
			g.pool = (uint32_t)num(optarg, 1, 65536);
			break;
		case 'w':
			g.window = (uint32_t)num(optarg, 1, 1e6);
			break;
		case 'c':
			g.parallel = (uint32_t)num(optarg, 1, 1e6);
			break;
		case 'i':
			g.len = (uint32_t)num(optarg, 1, INTERVAL_MAX);
			break;
		case 't':
			g.start = (int64_t)num(optarg, 0, 1e12);
			break;
		case 's':
			g.seed = (uint32_t)num(optarg, 0, 4e9);
			break;
		case 'D':
			g.drain = num(optarg, 0, 1e6);
			break;
		case 'H':
			g.hold = 0;
			break;
		case 'W':
			keysout = optarg;
			break;
		case 'L':
			logout = optarg;
			break;
		case 'R':
			g.reconnect = 1;
			break;
		case 'S':
			g.sources = (uint32_t)num(optarg, 0, 254);
			break;
		case 'K':
			skfile = optarg;
			break;
		case 'P':
			skp = (unsigned)num(optarg, HLL_P_MIN, HLL_P_MAX);
			break;
		case 'Z':
			sizes = 1;
			break;
		default:
			usage();
		}
	if (optind != argc || (addr != NULL) + (keysout != NULL) + sizes != 1)
		usage();
	if (sodium_init() < 0) {
		fprintf(stderr, "loadgen: libsodium cannot initialise\n");
		return 1;
	}
	if (keysout != NULL)
		return write_keys(keysout, g.nsensors, g.seed) == -1;
	if (skfile != NULL) {
		if (sketchkey_load(skfile, &g.sk, err, sizeof(err)) == -1) {
			fprintf(stderr, "loadgen: %s\n", err);
			return 1;
		}
		g.sketch_p = skp;
	}
	if (sizes) {
		g.start = 0;
		make_templates(&g);
		template_sizes(&g);
		printf("{\"avg_keys_pool\": %u, ", g.keys);
		print_sizes(&g);
		printf("}\n");
		templates_free(&g);
		free(g.buf);
		return 0;
	}

	/* One descriptor per sensor and a few more. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)g.nsensors + 32) {
		fprintf(stderr,
		    "loadgen: %u sensors need %u descriptors; the limit is "
		    "%llu\n",
		    g.nsensors, g.nsensors + 32,
		    (unsigned long long)rl.rlim_cur);
		return 1;
	}
	if (hostport_split(addr, host, sizeof(host), port, sizeof(port)) == -1)
		usage();
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "loadgen: cannot resolve %s\n", addr);
		return 1;
	}
	if (g.sources > 0 && res->ai_family != AF_INET) {
		fprintf(stderr, "loadgen: --sources needs an IPv4 address\n");
		return 1;
	}
	memcpy(&g.ss, res->ai_addr, res->ai_addrlen);
	g.sslen = res->ai_addrlen;
	freeaddrinfo(res);
	if (g.start == INT64_MIN)
		g.start = (int64_t)time(NULL);
	g.start = interval_start(g.start, g.len);

	make_templates(&g);
	template_sizes(&g);
	if (logout != NULL && lg_open_log(&g, logout) == -1)
		return 1;
	g.s = xcalloc(g.nsensors + 1, sizeof(*g.s));
	for (i = 0; i <= g.nsensors; i++) {
		g.s[i].lg = &g;
		g.s[i].idx = i;
		sensor_id(i, g.nsensors, g.s[i].id, sizeof(g.s[i].id));
		derive_key(g.seed, g.s[i].id, g.s[i].psk);
	}
	g.rcap = g.nsensors + 1;
	g.ring = xcalloc(g.rcap, sizeof(*g.ring));
	if ((g.base = event_base_new()) == NULL ||
	    (g.tick = event_new(g.base, -1, EV_PERSIST, lg_on_tick, &g)) ==
		NULL ||
	    event_add(g.tick, &tv) == -1) {
		fprintf(stderr, "loadgen: cannot set up the event loop\n");
		return 1;
	}
	g.t0 = now_mono();
	if (g.hold) {
		g.phase = 1;
		sensor_connect(&g, &g.s[g.nsensors]);
	} else
		lg_connect_more(&g);
	event_base_dispatch(g.base);
	lg_report(&g);
	rc = g.dead > 0 || g.lost > 0 || g.rejected > 0 ||
		g.sent != g.acked + g.lost
	    ? 2
	    : 0;
	if (g.log != NULL && fclose(g.log) == EOF) {
		fprintf(stderr, "loadgen: %s: %s\n", logout, strerror(errno));
		rc = 1;
	}
	lg_free(&g);
	return rc;
}

/*
 * teiten-gencap: write classic pcap files (Ethernet, microsecond
 * timestamps) of the traffic dark addresses see: TCP SYN scans over a Zipf
 * mix of ports with the usual hot ones first, UDP probes, ICMP, a little
 * IPv6, backscatter, and a few frames the sensor counts under no key.  The
 * rate follows a daily cycle (peak at 20:00 UTC), and a scan campaign on
 * one port can start part-way and ramp up, as TCP 5168 did in 2008.
 *
 * Without --sensors: one capture of -c packets to the dark 203.0.113.0/24.
 * With --sensors N: N captures, one per sensor, named by -o's pattern with
 * %d replaced by 1..N.  Sensor k watches 198.18.(k-1).0/24 (RFC 2544's
 * test range) and 2001:db8:7e17:k::/64, and has its own total (-c times a
 * factor from 0.7 to 1.3), its own variation of the shared port mix plus a
 * few ports only it sees, and its own share of the campaign.  All sensors
 * cover the same time span and see the campaign start at the same moment.
 *
 * The output depends only on the options, so captures are regenerated
 * rather than kept.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "xmalloc.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4
#define PCAP_SNAPLEN 65535
#define DLT_EN10MB_ 1

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_IPV6 0x86dd

#define ETH_MIN 60 /* without FCS, as captures show it */
#define FRAME_MAX 1514
#define RECHDR_LEN 16
#define OUTBUF_LEN (4u << 20)

/* Long options without a letter. */
enum { OPT_CAMPAIGN = 256, OPT_CYCLE, OPT_DAYS, OPT_RAMP, OPT_SENSORS };

#define COUNT_DEFAULT 1000000
#define DURATION_DEFAULT 86400
#define START_DEFAULT 1699920000 /* 2023-11-14 00:00 UTC */
#define SEED_DEFAULT 1
#define PORTS_DEFAULT 5000
#define ZIPF_EXPONENT 1.0
#define GUIDE_LEN 4096
#define VLAN_PER_10K 200 /* share of frames with an 802.1Q tag */

#define DAY 86400
#define CYCLE_DEFAULT 0.3 /* the rate swings 30% either way over a day */
#define CYCLE_PEAK 72000 /* 20:00 UTC, the busiest time of day */
#define KNOT 60 /* the cycle's rate is held for a minute at a time */

#define CAMPAIGN_SHARE 0.15 /* of TCP SYNs, once fully ramped up */
#define RAMP_DEFAULT 10800 /* at most; else half the time left */

#define SENSORS_MAX 512 /* the /24s of FLEET4 */
#define RATE_SPREAD 0.3 /* a sensor's total: -c times 1 +- this */
#define MIX_SIGMA 0.35 /* log-normal spread of a port's weight per sensor */
#define EXTRA_TCP 6 /* ports only one sensor sees */
#define EXTRA_UDP 2
#define CAMPAIGN_SPREAD 0.5 /* a sensor's campaign share: 1 +- this */

/* The dark networks: TEST-NET-3 and a documentation /48. */
#define DARK4 0xcb007100u /* 203.0.113.0/24 */
#define FLEET4 0xc6120000u /* 198.18.0.0/15: a /24 per sensor */
static const uint8_t dark6[6] = {0x20, 0x01, 0x0d, 0xb8, 0x7e, 0x17};
static const uint8_t mac_sensor[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
static const uint8_t mac_router[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0xfe};

/* Ranked first, most scanned first; the rest of the set is random. */
static const uint16_t hot_tcp[] = {23, 445, 22, 80, 3389, 8080, 443, 1433, 5900,
    139, 135, 25, 3306, 53, 81, 8443, 2323, 8000, 5555, 21, 8081, 8888, 6379,
    110, 143, 1723, 5060, 37215, 52869, 7547, 9200, 2222, 3390, 8088, 5432,
    27017, 111, 993, 995, 8291, 60001, 9000, 5985, 4443, 10000, 6443, 9090,
    49152, 8728, 11211};
static const uint16_t hot_udp[] = {53, 123, 1900, 161, 5060, 137, 19, 389,
    11211, 111, 500, 69, 5353, 3702, 1194, 520, 17185, 3283, 10001, 27015, 443,
    4500, 3478, 1434};
#define NHOT_TCP (sizeof(hot_tcp) / sizeof(hot_tcp[0]))
#define NHOT_UDP (sizeof(hot_udp) / sizeof(hot_udp[0]))

/* What the sensor makes of each kind, for the summary (-v). */
enum gen_class {
	GC_TCP,
	GC_UDP,
	GC_ICMP,
	GC_ICMP6,
	GC_FRAGMENT,
	GC_OTHER,
	GC_NONIP,
	GC_COUNT
};
static const char *const gc_names[GC_COUNT] = {"tcp", "udp", "icmp", "icmp6",
    "fragment", "other", "nonip"};

struct rng {
	uint64_t s[4];
};

/* Draws 0..n-1 in proportion to weights, through a guide table. */
struct wtable {
	uint32_t n;
	double *cdf;
	uint32_t guide[GUIDE_LEN];
};

struct portset {
	uint32_t n;
	uint16_t *port;
	double *weight; /* Zipf by rank, then varied per sensor */
	struct wtable t;
};

/*
 * The daily cycle: the rate at time t is proportional to
 * 1 + amp cos(2 pi (t - CYCLE_PEAK) / DAY).  Packet i of n goes where the
 * cumulative rate reaches (i + u) / n of its total, u uniform in [0, 1),
 * so times rise without sorting.  The cumulative rate is computed at
 * knots KNOT seconds apart and interpolated between them: no trigonometry
 * per packet.
 */
struct dayclock {
	double amp;
	double phase; /* of the cycle at the start, in radians */
	uint64_t dur; /* seconds */
	double total; /* cumulative rate over the whole capture */
	uint64_t knot; /* the current segment starts here, in seconds */
	double lo; /* cumulative rate at the segment's start */
	double hi; /* and at its end */
	uint64_t last_us;
};

struct campaign {
	int port; /* -1: none */
	uint64_t from_us; /* its start, from the capture's */
	uint64_t ramp_us; /* how long it takes to reach its full share */
	double share; /* of TCP SYNs, at full strength */
};

/* What the options ask for, shared by every sensor. */
struct opts {
	const char *path; /* a file, "-", or with --sensors a %d pattern */
	uint64_t n;
	uint64_t start;
	uint64_t dur;
	uint64_t days;
	uint64_t seed;
	uint64_t ports;
	uint64_t sensors; /* 0: one capture, the original way */
	double cycle;
	int campaign_port; /* -1: none */
	double campaign_at; /* fraction of the duration */
	int64_t ramp; /* seconds; -1: the default */
	int verbose;
};

/* The Internet's side, common to all sensors. */
struct base {
	struct rng rng;
	struct portset tcp;
	struct portset udp;
};

struct gen {
	struct rng rng;
	const struct portset *tcp;
	const struct portset *udp;
	uint32_t dark4; /* the sensor's /24 */
	uint8_t dark6[8]; /* and its /64 */
	uint64_t n; /* packets to write */
	uint64_t i; /* packets written */
	uint64_t start_us;
	uint64_t now_us; /* the packet being built, from the start */
	struct dayclock clock;
	struct campaign camp;
	uint64_t count[GC_COUNT];
	uint64_t nvlan;
	FILE *out;
	const char *path;
	int regular; /* a regular file: removed on error */
	uint8_t *buf;
	size_t len;
};

typedef size_t (*build_fn)(struct gen *, uint8_t *);

static size_t build_tcp4_syn(struct gen *, uint8_t *);
static size_t build_tcp4_backscatter(struct gen *, uint8_t *);
static size_t build_udp4(struct gen *, uint8_t *);
static size_t build_icmp4(struct gen *, uint8_t *);
static size_t build_tcp6_syn(struct gen *, uint8_t *);
static size_t build_icmp6(struct gen *, uint8_t *);
static size_t build_fragment4(struct gen *, uint8_t *);
static size_t build_esp4(struct gen *, uint8_t *);
static size_t build_arp(struct gen *, uint8_t *);

/*
 * The traffic mix, per 10,000 packets.  A builder writes everything after
 * the EtherType and returns its length; the Ethernet header, the VLAN tag
 * and the padding are added around it by gen_frame().
 */
static const struct kind {
	unsigned weight;
	uint16_t ethertype;
	enum gen_class cls;
	build_fn build;
} kinds[] = {
    {8140, ETHERTYPE_IPV4, GC_TCP, build_tcp4_syn},
    {150, ETHERTYPE_IPV4, GC_TCP, build_tcp4_backscatter},
    {900, ETHERTYPE_IPV4, GC_UDP, build_udp4},
    {500, ETHERTYPE_IPV4, GC_ICMP, build_icmp4},
    {150, ETHERTYPE_IPV6, GC_TCP, build_tcp6_syn},
    {80, ETHERTYPE_IPV6, GC_ICMP6, build_icmp6},
    {30, ETHERTYPE_IPV4, GC_FRAGMENT, build_fragment4},
    {30, ETHERTYPE_IPV4, GC_OTHER, build_esp4},
    {20, ETHERTYPE_ARP, GC_NONIP, build_arp},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* ICMP types, per 10,000 ICMP packets of their family. */
static const struct icmp_kind {
	unsigned weight;
	uint8_t type;
	uint16_t len; /* ICMP header and body */
} icmp4_types[] =
    {
	{8500, 8, 8}, /* echo request, zmap style */
	{600, 3, 36}, /* unreachable: backscatter */
	{400, 0, 40}, /* echo reply: backscatter */
	{300, 11, 36}, /* time exceeded */
	{200, 13, 20}, /* timestamp request */
},
  icmp6_types[] = {
      {8000, 128, 16}, /* echo request */
      {1000, 129, 16}, /* echo reply: backscatter */
      {1000, 135, 24}, /* neighbour solicitation */
};

/* UDP payload lengths of the probes most seen; others get 0 to 47. */
static const struct {
	uint16_t port;
	uint16_t len;
} udp_payloads[] = {
    {53, 29},
    {123, 48},
    {1900, 94},
    {161, 43},
    {5060, 412},
    {137, 50},
    {389, 52},
    {11211, 15},
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: teiten-gencap [-hv] [-c packets] [-d seconds | --days "
	    "days] "
	    "[-p ports]\n"
	    "                     [-S seed] [-t start] [--campaign "
	    "port@fraction]\n"
	    "                     [--cycle amplitude] [--ramp seconds] "
	    "[--sensors n]\n"
	    "                     -o file|-|pattern\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\n"
	       "  -c packets       per capture; with --sensors, the mean per "
	       "sensor (%d)\n"
	       "  -d seconds       duration from -t (%d); --days days: whole "
	       "days\n"
	       "  -p ports         TCP ports in the mix, hot ones first (%d)\n"
	       "  -S seed          same seed and options, same bytes (%d)\n"
	       "  -t start         first second, Unix time (%d)\n"
	       "  -o file          \"-\" for standard output; with --sensors a "
	       "pattern\n"
	       "                   with one %%d, replaced by 1..n\n"
	       "  --campaign P@F   TCP port P takes a rising share of SYNs "
	       "from the\n"
	       "                   fraction F of the duration on\n"
	       "  --ramp seconds   the campaign's rise to its full share "
	       "(%d, or half\n"
	       "                   the time left after its start if that is "
	       "less)\n"
	       "  --cycle amp      daily swing of the rate, 0 to below 1 "
	       "(%.1f)\n"
	       "  --sensors n      one capture per sensor, up to %d, each "
	       "different\n"
	       "  -v               a summary per capture on standard error\n",
	    COUNT_DEFAULT, DURATION_DEFAULT, PORTS_DEFAULT, SEED_DEFAULT,
	    START_DEFAULT, RAMP_DEFAULT, CYCLE_DEFAULT, SENSORS_MAX);
}

/* xoshiro256**, seeded through splitmix64 as its authors recommend. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n), by multiply and shift (bias below 2^-32 here). */
static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static inline double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal, by Box and Muller; 1 - u keeps log() off zero. */
static double
rng_normal(struct rng *r)
{
	double u = 1 - rng_unit(r);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * rng_unit(r));
}

static void
wtable_init(struct wtable *t, const double *w, uint32_t n)
{
	double sum = 0;
	uint32_t i, g;

	t->n = n;
	t->cdf = xreallocarray(NULL, n, sizeof(*t->cdf));
	for (i = 0; i < n; i++)
		t->cdf[i] = (sum += w[i]);
	for (i = 0; i < n; i++)
		t->cdf[i] /= sum;
	t->cdf[n - 1] = 1.0;
	/* guide[g]: the first index whose cdf passes g / GUIDE_LEN. */
	for (g = 0, i = 0; g < GUIDE_LEN; g++) {
		while (t->cdf[i] <= (double)g / GUIDE_LEN)
			i++;
		t->guide[g] = i;
	}
}

static inline uint32_t
wtable_draw(const struct wtable *t, struct rng *r)
{
	double u = rng_unit(r);
	uint32_t i = t->guide[(uint32_t)(u * GUIDE_LEN)];

	while (t->cdf[i] <= u)
		i++;
	return i;
}

static void
portset_alloc(struct portset *ps, uint32_t n)
{
	ps->n = n;
	ps->port = xreallocarray(NULL, n, sizeof(*ps->port));
	ps->weight = xreallocarray(NULL, n, sizeof(*ps->weight));
}

/*
 * The hot ports in their order, then random distinct ones up to n; rank r
 * weighs 1 / (r + 1)^ZIPF_EXPONENT.
 */
static void
portset_init(struct portset *ps, uint32_t n, const uint16_t *hot, size_t nhot,
    struct rng *r)
{
	uint64_t used[65536 / 64] = {0};
	uint32_t i;
	uint16_t p;

	portset_alloc(ps, n);
	for (i = 0; i < n; i++) {
		if (i < nhot)
			p = hot[i]; /* the hot lists hold distinct ports */
		else
			do
				p = (uint16_t)(1 + rng_below(r, 65535));
			while (used[p / 64] & (uint64_t)1 << (p % 64));
		used[p / 64] |= (uint64_t)1 << (p % 64);
		ps->port[i] = p;
		ps->weight[i] = pow(i + 1, -ZIPF_EXPONENT);
	}
	wtable_init(&ps->t, ps->weight, n);
}

/*
 * A sensor's own view of the shared mix.  Each port's weight is scaled by
 * a log-normal factor: neighbours in rank may swap, as they do between
 * real sensors.  Then come nextra random ports weighted like ranks 10 to
 * 40, as a scanner sweeping only this sensor's network would make them; one
 * that is already in the set just gains weight.
 */
static void
portset_vary(struct portset *ps, const struct portset *base, uint32_t nextra,
    struct rng *r)
{
	uint32_t i;

	portset_alloc(ps, base->n + nextra);
	memcpy(ps->port, base->port, base->n * sizeof(*ps->port));
	for (i = 0; i < base->n; i++)
		ps->weight[i] =
		    base->weight[i] * exp(MIX_SIGMA * rng_normal(r));
	for (; i < ps->n; i++) {
		ps->port[i] = (uint16_t)(1 + rng_below(r, 65535));
		ps->weight[i] = pow(11 + rng_below(r, 30), -ZIPF_EXPONENT);
	}
	wtable_init(&ps->t, ps->weight, ps->n);
}

static void
portset_free(struct portset *ps)
{
	free(ps->t.cdf);
	free(ps->port);
	free(ps->weight);
}

static inline uint16_t
portset_draw(const struct portset *ps, struct rng *r)
{
	return ps->port[wtable_draw(&ps->t, r)];
}

static inline void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A routable-looking unicast source: not 0/8, 10/8, 127/8 or 224/3. */
static uint32_t
src4(struct gen *g)
{
	uint32_t a;
	unsigned hi;

	do {
		a = (uint32_t)(rng_next(&g->rng) >> 32);
		hi = a >> 24;
	} while (hi == 0 || hi == 10 || hi == 127 || hi >= 224);
	return a;
}

/*
 * An IPv4 header for an l4len-byte payload, checksum included.  Returns
 * the transport checksum's start: the pseudo-header sum.
 */
static uint32_t
ip4_header(struct gen *g, uint8_t *p, unsigned proto, size_t l4len)
{
	uint32_t r = (uint32_t)rng_next(&g->rng);

	p[0] = 0x45;
	p[1] = 0;
	put16(p + 2, (uint32_t)(20 + l4len));
	put16(p + 4, r); /* id */
	put16(p + 6, 0);
	p[8] = (uint8_t)(32 + (r >> 16) % 224); /* ttl after some hops */
	p[9] = (uint8_t)proto;
	put16(p + 10, 0);
	put32(p + 12, src4(g));
	put32(p + 16, g->dark4 | (r >> 24));
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	return csum_add(proto + (uint32_t)l4len, p + 12, 8);
}

static uint32_t
ip6_header(struct gen *g, uint8_t *p, unsigned nh, size_t l4len)
{
	uint64_t r = rng_next(&g->rng), s = rng_next(&g->rng);

	put32(p, 0x60000000);
	put16(p + 4, (uint32_t)l4len);
	p[6] = (uint8_t)nh;
	p[7] = (uint8_t)(32 + (r & 0xff) % 224);
	/* Sources from 2000::/4; the destination a random dark host. */
	put32(p + 8, 0x20000000 | (uint32_t)(r >> 36));
	put32(p + 12, (uint32_t)(r >> 8));
	put32(p + 16, (uint32_t)s);
	put32(p + 20, (uint32_t)(s >> 32));
	memcpy(p + 24, g->dark6, sizeof(g->dark6));
	memset(p + 32, 0, 6);
	put16(p + 38, (uint32_t)(r & 0xfff) + 1);
	return csum_add(nh + (uint32_t)l4len, p + 8, 32);
}

static void
tcp_header(struct gen *g, uint8_t *p, uint32_t pseudo, uint16_t dport,
    uint8_t flags)
{
	static const uint16_t windows[] = {1024, 65535, 29200, 14600, 5840};
	uint64_t r = rng_next(&g->rng);

	put16(p, 1024 + (uint32_t)(r & 0xffff) % 64512);
	put16(p + 2, dport);
	put32(p + 4, (uint32_t)(r >> 32)); /* seq */
	put32(p + 8, flags & 0x10 ? (uint32_t)(r >> 16) : 0);
	p[12] = 0x50;
	p[13] = flags;
	put16(p + 14, windows[(r >> 20) % 5]);
	put32(p + 16, 0); /* sum, urp */
	put16(p + 16, csum_fold(csum_add(pseudo, p, 20)));
}

/*
 * A scan campaign's share of TCP SYNs: none before it starts, then rising
 * in a straight line over the ramp, as more scanners join in.
 */
static double
campaign_share(const struct campaign *c, uint64_t now_us)
{
	if (c->port < 0 || now_us < c->from_us)
		return 0;
	if (now_us - c->from_us >= c->ramp_us)
		return c->share;
	return c->share * (double)(now_us - c->from_us) / (double)c->ramp_us;
}

static uint16_t
tcp_port(struct gen *g)
{
	double share = campaign_share(&g->camp, g->now_us);

	if (share > 0 && rng_unit(&g->rng) < share)
		return (uint16_t)g->camp.port;
	return portset_draw(g->tcp, &g->rng);
}

static size_t
build_tcp4_syn(struct gen *g, uint8_t *p)
{
	tcp_header(g, p + 20, ip4_header(g, p, 6, 20), tcp_port(g), 0x02);
	return 40;
}

/* Replies to spoofed floods: SYN-ACK or RST to an ephemeral port. */
static size_t
build_tcp4_backscatter(struct gen *g, uint8_t *p)
{
	uint32_t r = rng_below(&g->rng, 3 * 28232);
	uint8_t flags = r % 3 == 0 ? 0x04 : r % 3 == 1 ? 0x14 : 0x12;

	tcp_header(g, p + 20, ip4_header(g, p, 6, 20),
	    (uint16_t)(32768 + r / 3), flags);
	return 40;
}

static size_t
build_tcp6_syn(struct gen *g, uint8_t *p)
{
	tcp_header(g, p + 40, ip6_header(g, p, 6, 20), tcp_port(g), 0x02);
	return 60;
}

static size_t
build_udp4(struct gen *g, uint8_t *p)
{
	uint16_t port = portset_draw(g->udp, &g->rng);
	size_t i, len = rng_below(&g->rng, 48);
	uint32_t pseudo;
	uint16_t sum;
	uint8_t *u = p + 20;

	for (i = 0; i < sizeof(udp_payloads) / sizeof(udp_payloads[0]); i++)
		if (udp_payloads[i].port == port)
			len = udp_payloads[i].len;
	pseudo = ip4_header(g, p, 17, 8 + len);
	put16(u, 1024 + rng_below(&g->rng, 64512));
	put16(u + 2, port);
	put16(u + 4, (uint32_t)(8 + len));
	put16(u + 6, 0);
	memset(u + 8, 0, len);
	/* The payload is zeros and adds nothing; 0 means "no checksum". */
	sum = csum_fold(csum_add(pseudo, u, 8));
	put16(u + 6, sum == 0 ? 0xffff : sum);
	return 28 + len;
}

/* type, code, checksum, then an id and sequence or unused word. */
static size_t
icmp_body(struct gen *g, uint8_t *p, uint8_t type, size_t len, uint32_t pseudo)
{
	p[0] = type;
	p[1] = 0;
	put16(p + 2, 0);
	put32(p + 4, (uint32_t)rng_next(&g->rng));
	memset(p + 8, 0, len - 8);
	put16(p + 2, csum_fold(csum_add(pseudo, p, len)));
	return len;
}

static const struct icmp_kind *
icmp_draw(struct gen *g, const struct icmp_kind *t, size_t n)
{
	uint32_t r = rng_below(&g->rng, 10000);

	while (r >= t->weight && n-- > 1)
		r -= (t++)->weight;
	return t;
}

static size_t
build_icmp4(struct gen *g, uint8_t *p)
{
	const struct icmp_kind *k = icmp_draw(g, icmp4_types,
	    sizeof(icmp4_types) / sizeof(icmp4_types[0]));

	ip4_header(g, p, 1, k->len);
	/* ICMPv4 has no pseudo-header. */
	return 20 + icmp_body(g, p + 20, k->type, k->len, 0);
}

static size_t
build_icmp6(struct gen *g, uint8_t *p)
{
	const struct icmp_kind *k = icmp_draw(g, icmp6_types,
	    sizeof(icmp6_types) / sizeof(icmp6_types[0]));
	uint32_t pseudo;

	pseudo = ip6_header(g, p, 58, k->len);
	return 40 + icmp_body(g, p + 40, k->type, k->len, pseudo);
}

/* A non-first fragment of a large UDP datagram: no transport header. */
static size_t
build_fragment4(struct gen *g, uint8_t *p)
{
	size_t len = 8 * (1 + rng_below(&g->rng, 8));

	ip4_header(g, p, 17, len);
	put16(p + 6, 185 + rng_below(&g->rng, 8)); /* offset, no MF */
	put16(p + 10, 0);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	memset(p + 20, 0, len);
	return 20 + len;
}

/* ESP, one of the "other" protocols: SPI, sequence, opaque payload. */
static size_t
build_esp4(struct gen *g, uint8_t *p)
{
	uint64_t r = rng_next(&g->rng);

	ip4_header(g, p, 50, 32);
	put32(p + 20, 0x100 + (uint32_t)(r >> 40));
	put32(p + 24, 1 + (uint32_t)(r & 0xff));
	memset(p + 28, 0, 24);
	return 52;
}

/* The router asking for a dark address: not IP, counted as nonip. */
static size_t
build_arp(struct gen *g, uint8_t *p)
{
	put32(p, 0x00010800); /* Ethernet, IPv4 */
	put32(p + 4, 0x06040001); /* address sizes, request */
	memcpy(p + 8, mac_router, 6);
	put32(p + 14, g->dark4 | 0xfe);
	memset(p + 18, 0, 6);
	put32(p + 24, g->dark4 | (rng_below(&g->rng, 254) + 1));
	return 28;
}

static const struct kind *
kind_draw(struct gen *g)
{
	uint32_t r = rng_below(&g->rng, 10000);
	const struct kind *k = kinds;

	/* The last kind takes any rest, should the weights fall short. */
	while (r >= k->weight && k < kinds + NKINDS - 1)
		r -= (k++)->weight;
	return k;
}

/* The cumulative rate from the start to x seconds in. */
static double
dayclock_cum(const struct dayclock *c, double x)
{
	const double w = 2 * M_PI / DAY;

	return x + c->amp / w * (sin(c->phase + w * x) - sin(c->phase));
}

static uint64_t
dayclock_knot_end(const struct dayclock *c)
{
	return c->knot + KNOT < c->dur ? c->knot + KNOT : c->dur;
}

static void
dayclock_init(struct dayclock *c, uint64_t start, uint64_t dur, double amp)
{
	c->amp = amp;
	/* Reduced in integers: start * 2 pi / DAY in doubles loses digits. */
	c->phase = 2 * M_PI / DAY * (double)((start + DAY - CYCLE_PEAK) % DAY);
	c->dur = dur;
	c->total = dayclock_cum(c, (double)dur);
	c->knot = 0;
	c->lo = 0;
	c->hi = dayclock_cum(c, (double)dayclock_knot_end(c));
	c->last_us = 0;
}

/* Packet i of n: microseconds from the start, never less than before. */
static uint64_t
dayclock_time(struct dayclock *c, uint64_t i, uint64_t n, struct rng *r)
{
	double y = c->total * ((double)i + rng_unit(r)) / (double)n, x;
	uint64_t end = dayclock_knot_end(c), us;

	while (y > c->hi && end < c->dur) {
		c->knot = end;
		c->lo = c->hi;
		end = dayclock_knot_end(c);
		c->hi = dayclock_cum(c, (double)end);
	}
	x = (double)c->knot +
	    (y - c->lo) / (c->hi - c->lo) * (double)(end - c->knot);
	us = (uint64_t)(x * 1e6);
	/* Rounding near a knot must not step back, nor past the end. */
	if (us < c->last_us)
		us = c->last_us;
	if (us >= c->dur * 1000000)
		us = c->dur * 1000000 - 1;
	c->last_us = us;
	return us;
}

static size_t
gen_frame(struct gen *g, uint8_t *f)
{
	const struct kind *k = kind_draw(g);
	uint8_t *p = f + 12;
	size_t len;

	memcpy(f, mac_sensor, 6);
	memcpy(f + 6, mac_router, 6);
	if (rng_below(&g->rng, 10000) < VLAN_PER_10K) {
		put16(p, ETHERTYPE_8021Q);
		put16(p + 2, 100 + rng_below(&g->rng, 4));
		p += 4;
		g->nvlan++;
	}
	put16(p, k->ethertype);
	p += 2;
	len = (size_t)(p - f) + k->build(g, p);
	if (len < ETH_MIN) {
		memset(f + len, 0, ETH_MIN - len);
		len = ETH_MIN;
	}
	g->count[k->cls]++;
	return len;
}

static void
out_fail(struct gen *g)
{
	int saved = errno;

	/* A cut capture would read as a valid shorter one: remove it. */
	if (g->regular)
		unlink(g->path);
	errno = saved;
	err(1, "%s", g->path);
}

static void
out_write(struct gen *g, const void *p, size_t len)
{
	if (fwrite(p, 1, len, g->out) != len)
		out_fail(g);
}

static void
out_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void
gen_run(struct gen *g)
{
	uint8_t hdr[24];
	uint64_t t;
	size_t flen;

	/* Host byte order: readers tell it from the magic number. */
	out_u32(hdr, PCAP_MAGIC_USEC);
	out_u32(hdr + 4, 2 | 4 << 16); /* version 2.4 */
	out_u32(hdr + 8, 0); /* thiszone */
	out_u32(hdr + 12, 0); /* sigfigs */
	out_u32(hdr + 16, PCAP_SNAPLEN);
	out_u32(hdr + 20, DLT_EN10MB_);
	out_write(g, hdr, sizeof(hdr));
	g->buf = xmalloc(OUTBUF_LEN);
	g->len = 0;
	for (g->i = 0; g->i < g->n; g->i++) {
		if (OUTBUF_LEN - g->len < RECHDR_LEN + FRAME_MAX) {
			out_write(g, g->buf, g->len);
			g->len = 0;
		}
		g->now_us = dayclock_time(&g->clock, g->i, g->n, &g->rng);
		t = g->start_us + g->now_us;
		flen = gen_frame(g, g->buf + g->len + RECHDR_LEN);
		out_u32(g->buf + g->len, (uint32_t)(t / 1000000));
		out_u32(g->buf + g->len + 4, (uint32_t)(t % 1000000));
		out_u32(g->buf + g->len + 8, (uint32_t)flen);
		out_u32(g->buf + g->len + 12, (uint32_t)flen);
		g->len += RECHDR_LEN + flen;
	}
	out_write(g, g->buf, g->len);
	free(g->buf);
	if (fflush(g->out) == EOF || ferror(g->out))
		out_fail(g);
}

static void
gen_summary(const struct gen *g)
{
	int c;

	fprintf(stderr, "teiten-gencap: %s: %llu packets:", g->path,
	    (unsigned long long)g->n);
	for (c = 0; c < GC_COUNT; c++)
		fprintf(stderr, " %s %llu", gc_names[c],
		    (unsigned long long)g->count[c]);
	fprintf(stderr, " vlan %llu\n", (unsigned long long)g->nvlan);
}

/* A fraction in [0, 1), the whole string; -1 if it is not one. */
static int
parse_unit(const char *s, double *f)
{
	char *end;

	errno = 0;
	*f = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(*f >= 0 && *f < 1))
		return -1;
	return 0;
}

/* "PORT@FRACTION": FRACTION of the way through, in time, in [0, 1). */
static void
parse_campaign(struct opts *o, const char *arg)
{
	const char *at = strchr(arg, '@');
	char port[8];
	uint64_t v;

	if (at == NULL || (size_t)(at - arg) >= sizeof(port))
		errx(1, "option --campaign: expected PORT@FRACTION");
	memcpy(port, arg, (size_t)(at - arg));
	port[at - arg] = '\0';
	if (parse_u64(port, 0, 65535, &v) == -1)
		errx(1, "option --campaign: bad port \"%s\"", port);
	if (parse_unit(at + 1, &o->campaign_at) == -1)
		errx(1, "option --campaign: fraction must be in [0, 1)");
	o->campaign_port = (int)v;
}

/* The option getopt stopped at: a short one in optopt, or a long one. */
static const char *
opt_name(char **argv)
{
	static char buf[3];

	if (optopt == 0 || optopt >= OPT_CAMPAIGN)
		return argv[optind - 1];
	snprintf(buf, sizeof(buf), "-%c", optopt);
	return buf;
}

static uint64_t
option_u64(const char *name, const char *v, uint64_t min, uint64_t max)
{
	uint64_t n;

	if (parse_u64(v, min, max, &n) == -1)
		errx(1, "option %s: not a number from %llu to %llu", name,
		    (unsigned long long)min, (unsigned long long)max);
	return n;
}

static void
parse_option(struct opts *o, int ch, char **argv)
{
	switch (ch) {
	case 'c':
		o->n = option_u64("-c", optarg, 1, 1ull << 40);
		break;
	case 'd':
		o->dur = option_u64("-d", optarg, 1, UINT32_MAX);
		break;
	case 'h':
		help();
		exit(0);
	case 'o':
		o->path = optarg;
		break;
	case 'p':
		o->ports = option_u64("-p", optarg, 1, 65535);
		break;
	case 'S':
		o->seed = option_u64("-S", optarg, 0, UINT64_MAX);
		break;
	case 't':
		o->start = option_u64("-t", optarg, 0, UINT32_MAX);
		break;
	case 'v':
		o->verbose = 1;
		break;
	case OPT_CAMPAIGN:
		parse_campaign(o, optarg);
		break;
	case OPT_CYCLE:
		if (parse_unit(optarg, &o->cycle) == -1)
			errx(1, "option --cycle: amplitude must be in [0, 1)");
		break;
	case OPT_DAYS:
		o->days = option_u64("--days", optarg, 1, UINT32_MAX / DAY);
		break;
	case OPT_RAMP:
		o->ramp = (int64_t)option_u64("--ramp", optarg, 0, UINT32_MAX);
		break;
	case OPT_SENSORS:
		o->sensors = option_u64("--sensors", optarg, 1, SENSORS_MAX);
		break;
	case ':':
		errx(1, "option %s needs a value", opt_name(argv));
	default:
		errx(1, "unknown option %s (try -h)", opt_name(argv));
	}
}

/* What no single option can check; settles the duration. */
static void
check_options(struct opts *o)
{
	const char *d;

	if (o->path == NULL)
		errx(1, "no output: give -o FILE, or -o - for standard output");
	if (o->days > 0 && o->dur > 0)
		errx(1, "options -d and --days: give one or the other");
	if (o->days > 0)
		o->dur = o->days * DAY;
	else if (o->dur == 0)
		o->dur = DURATION_DEFAULT;
	/* Classic pcap keeps seconds in 32 bits. */
	if (o->start + o->dur > UINT32_MAX)
		errx(1,
		    "options -t and -d or --days: the capture would end "
		    "after 2106");
	if (o->sensors == 0)
		return;
	d = strstr(o->path, "%d");
	if (d == NULL || strchr(o->path, '%') != d || strchr(d + 2, '%'))
		errx(1,
		    "option -o: with --sensors, give a file name with one "
		    "%%d, as sensor%%d.pcap");
}

/* As asked, else up to RAMP_DEFAULT but done by half the time left. */
static uint64_t
ramp_us(const struct opts *o)
{
	double left = (1 - o->campaign_at) * (double)o->dur;

	if (o->ramp >= 0)
		return (uint64_t)o->ramp * 1000000;
	return (uint64_t)(fmin(RAMP_DEFAULT, left / 2) * 1e6);
}

static void
gen_init(struct gen *g, const struct opts *o)
{
	memset(g, 0, sizeof(*g));
	g->n = o->n;
	g->start_us = o->start * 1000000;
	dayclock_init(&g->clock, o->start, o->dur, o->cycle);
	g->camp.port = o->campaign_port;
	g->camp.from_us = (uint64_t)(o->campaign_at * (double)o->dur * 1e6);
	g->camp.ramp_us = ramp_us(o);
	g->camp.share = CAMPAIGN_SHARE;
}

static void
gen_file(struct gen *g, const char *path, int verbose)
{
	struct stat st;

	g->path = path;
	if (strcmp(path, "-") == 0) {
		g->out = stdout;
		g->path = "standard output";
	} else if ((g->out = fopen(path, "wb")) == NULL)
		err(1, "%s", path);
	else if (fstat(fileno(g->out), &st) == 0 && S_ISREG(st.st_mode))
		g->regular = 1;
	gen_run(g);
	if (g->out != stdout && fclose(g->out) == EOF)
		out_fail(g);
	if (verbose)
		gen_summary(g);
}

/* The Internet's port mix, the same for every sensor. */
static void
base_init(struct base *b, const struct opts *o)
{
	uint64_t nudp;

	rng_seed(&b->rng, o->seed);
	portset_init(&b->tcp, (uint32_t)o->ports, hot_tcp, NHOT_TCP, &b->rng);
	/* Fewer UDP ports are probed: a fifth, but all the hot ones. */
	nudp = o->ports / 5 > NHOT_UDP ? o->ports / 5
	    : o->ports < NHOT_UDP      ? o->ports
				       : NHOT_UDP;
	portset_init(&b->udp, (uint32_t)nudp, hot_udp, NHOT_UDP, &b->rng);
}

/* One capture, as without --sensors: the base generator goes on. */
static void
single_run(const struct opts *o, struct base *b)
{
	struct gen g;

	gen_init(&g, o);
	g.rng = b->rng;
	g.tcp = &b->tcp;
	g.udp = &b->udp;
	g.dark4 = DARK4;
	memcpy(g.dark6, dark6, sizeof(dark6));
	gen_file(&g, o->path, o->verbose);
}

/* -o's pattern with its one %d replaced by k. */
static char *
sensor_path(const char *pattern, uint64_t k)
{
	const char *d = strstr(pattern, "%d");
	size_t len = strlen(pattern) + 21;
	char *path = xmalloc(len);

	snprintf(path, len, "%.*s%llu%s", (int)(d - pattern), pattern,
	    (unsigned long long)k, d + 2);
	return path;
}

/*
 * Sensor k of N, called for k = 1, 2, ... in turn.  Its seed is the k-th
 * draw of the base generator, so sensor k's capture is the same whatever N.
 */
static void
sensor_run(const struct opts *o, struct base *b, uint64_t k)
{
	struct portset tcp, udp;
	struct gen g;
	double rate;
	char *path;

	gen_init(&g, o);
	rng_seed(&g.rng, rng_next(&b->rng));
	rate = 1 + RATE_SPREAD * (2 * rng_unit(&g.rng) - 1);
	g.n = (uint64_t)fmax(1, round((double)o->n * rate));
	g.camp.share *= 1 + CAMPAIGN_SPREAD * (2 * rng_unit(&g.rng) - 1);
	g.dark4 = FLEET4 + (uint32_t)(k - 1) * 256;
	memcpy(g.dark6, dark6, sizeof(dark6));
	put16(g.dark6 + 6, (uint32_t)k);
	portset_vary(&tcp, &b->tcp, EXTRA_TCP, &g.rng);
	portset_vary(&udp, &b->udp, EXTRA_UDP, &g.rng);
	g.tcp = &tcp;
	g.udp = &udp;
	path = sensor_path(o->path, k);
	gen_file(&g, path, o->verbose);
	free(path);
	portset_free(&tcp);
	portset_free(&udp);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"campaign", required_argument,
						     NULL, OPT_CAMPAIGN},
	    {"cycle", required_argument, NULL, OPT_CYCLE},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"help", no_argument, NULL, 'h'},
	    {"ramp", required_argument, NULL, OPT_RAMP},
	    {"sensors", required_argument, NULL, OPT_SENSORS},
	    {NULL, 0, NULL, 0}};
	struct opts o = {.n = COUNT_DEFAULT,
	    .start = START_DEFAULT,
	    .seed = SEED_DEFAULT,
	    .ports = PORTS_DEFAULT,
	    .cycle = CYCLE_DEFAULT,
	    .campaign_port = -1,
	    .ramp = -1};
	struct base b;
	uint64_t k;
	int ch;

	opterr = 0; /* one line per error, ours */
	while ((ch = getopt_long(argc, argv, ":c:d:ho:p:S:t:v", longopts,
		    NULL)) != -1)
		parse_option(&o, ch, argv);
	if (optind < argc)
		errx(1, "unexpected argument \"%s\"", argv[optind]);
	check_options(&o);
	base_init(&b, &o);
	if (o.sensors == 0)
		single_run(&o, &b);
	for (k = 1; k <= o.sensors; k++)
		sensor_run(&o, &b, k);
	portset_free(&b.tcp);
	portset_free(&b.udp);
	return 0;
}

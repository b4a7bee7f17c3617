/*
 * teiten-gencap: write a classic pcap file (Ethernet, microsecond
 * timestamps) of the traffic a dark address sees: TCP SYN scans over a
 * Zipf mix of ports, UDP probes, ICMP, a little IPv6, backscatter, and a
 * few frames the sensor counts under no key.  The output depends only on
 * the options, so a capture is regenerated rather than kept.
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

enum { OPT_CAMPAIGN = 256 }; /* long options without a letter */

#define COUNT_DEFAULT 1000000
#define DURATION_DEFAULT 86400
#define START_DEFAULT 1699920000 /* 2023-11-14 00:00 UTC */
#define SEED_DEFAULT 1
#define PORTS_DEFAULT 5000
#define ZIPF_EXPONENT 1.0
#define ZIPF_GUIDE 4096
#define VLAN_PER_10K 200 /* share of frames with an 802.1Q tag */
#define CAMPAIGN_PER_10K 1500 /* share of TCP SYNs once it started */

/* The dark networks: TEST-NET-3 and a documentation /48. */
#define DARK4 0xcb007100u /* 203.0.113.0/24 */
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

/* Ranks 0..n-1 with P(r) proportional to 1 / (r + 1)^s. */
struct zipf {
	uint32_t n;
	double *cdf;
	uint32_t guide[ZIPF_GUIDE];
};

struct portset {
	struct zipf z;
	uint16_t *port; /* port of each rank */
};

struct gen {
	struct rng rng;
	struct portset tcp;
	struct portset udp;
	uint64_t n; /* packets to write */
	uint64_t i; /* packets written */
	uint64_t start_us;
	uint64_t dur_us;
	int campaign_port; /* -1: none */
	uint64_t campaign_from; /* packet index it starts at */
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
	    "usage: teiten-gencap [-hv] [-c packets] [-d seconds] [-p ports] "
	    "[-S seed]\n"
	    "                     [-t start] [--campaign port@fraction] -o "
	    "file|-\n");
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

static void
zipf_init(struct zipf *z, uint32_t n, double s)
{
	double sum = 0;
	uint32_t i, g;

	z->n = n;
	z->cdf = xreallocarray(NULL, n, sizeof(*z->cdf));
	for (i = 0; i < n; i++)
		z->cdf[i] = (sum += pow(i + 1, -s));
	for (i = 0; i < n; i++)
		z->cdf[i] /= sum;
	z->cdf[n - 1] = 1.0;
	/* guide[g]: the first rank whose cdf reaches g / ZIPF_GUIDE. */
	for (g = 0, i = 0; g < ZIPF_GUIDE; g++) {
		while (z->cdf[i] <= (double)g / ZIPF_GUIDE)
			i++;
		z->guide[g] = i;
	}
}

static inline uint32_t
zipf_draw(const struct zipf *z, struct rng *r)
{
	double u = rng_unit(r);
	uint32_t i = z->guide[(uint32_t)(u * ZIPF_GUIDE)];

	while (z->cdf[i] <= u)
		i++;
	return i;
}

/* The hot ports in their order, then random distinct ones up to n. */
static void
portset_init(struct portset *ps, uint32_t n, const uint16_t *hot, size_t nhot,
    struct rng *r)
{
	uint64_t used[65536 / 64] = {0};
	uint32_t i;
	uint16_t p;

	ps->port = xreallocarray(NULL, n, sizeof(*ps->port));
	for (i = 0; i < n; i++) {
		if (i < nhot)
			p = hot[i]; /* the hot lists hold distinct ports */
		else
			do
				p = (uint16_t)(1 + rng_below(r, 65535));
			while (used[p / 64] & (uint64_t)1 << (p % 64));
		used[p / 64] |= (uint64_t)1 << (p % 64);
		ps->port[i] = p;
	}
	zipf_init(&ps->z, n, ZIPF_EXPONENT);
}

static inline uint16_t
portset_draw(const struct portset *ps, struct rng *r)
{
	return ps->port[zipf_draw(&ps->z, r)];
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
	put32(p + 16, DARK4 | (r >> 24));
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
	memcpy(p + 24, dark6, sizeof(dark6));
	memset(p + 30, 0, 8);
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

/* A scan campaign on one port takes a share of SYNs from its start. */
static uint16_t
tcp_port(struct gen *g)
{
	if (g->campaign_port >= 0 && g->i >= g->campaign_from &&
	    rng_below(&g->rng, 10000) < CAMPAIGN_PER_10K)
		return (uint16_t)g->campaign_port;
	return portset_draw(&g->tcp, &g->rng);
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
	uint16_t port = portset_draw(&g->udp, &g->rng);
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
	put32(p + 14, DARK4 | 0xfe);
	memset(p + 18, 0, 6);
	put32(p + 24, DARK4 | (rng_below(&g->rng, 254) + 1));
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

/*
 * Timestamps rise over [start, start + duration): packet i falls at a
 * random point of its own i/n-th slice of the duration, so the order is
 * kept without sorting and the rate is even.
 */
static uint64_t
gen_time(struct gen *g)
{
	uint64_t lo, hi;

	lo = (uint64_t)((unsigned __int128)g->i * g->dur_us / g->n);
	hi = (uint64_t)((unsigned __int128)(g->i + 1) * g->dur_us / g->n);
	if (hi - lo > 1)
		lo += rng_next(&g->rng) % (hi - lo);
	return g->start_us + lo;
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
		t = gen_time(g);
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

/* "PORT@FRACTION": FRACTION of the way through, in [0, 1). */
static void
parse_campaign(struct gen *g, const char *arg, uint64_t n)
{
	const char *at = strchr(arg, '@');
	char port[8], *end;
	uint64_t v;
	double f;

	if (at == NULL || (size_t)(at - arg) >= sizeof(port))
		errx(1, "option --campaign: expected PORT@FRACTION");
	memcpy(port, arg, (size_t)(at - arg));
	port[at - arg] = '\0';
	if (parse_u64(port, 0, 65535, &v) == -1)
		errx(1, "option --campaign: bad port \"%s\"", port);
	errno = 0;
	f = strtod(at + 1, &end);
	if (at[1] == '\0' || *end != '\0' || errno != 0 || !(f >= 0 && f < 1))
		errx(1, "option --campaign: fraction must be in [0, 1)");
	g->campaign_port = (int)v;
	g->campaign_from = (uint64_t)(f * (double)n);
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
option_u64(int ch, const char *v, uint64_t min, uint64_t max)
{
	uint64_t n;

	if (parse_u64(v, min, max, &n) == -1)
		errx(1, "option -%c: not a number from %llu to %llu", ch,
		    (unsigned long long)min, (unsigned long long)max);
	return n;
}

static void
portset_free(struct portset *ps)
{
	free(ps->z.cdf);
	free(ps->port);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"campaign", required_argument,
						     NULL, OPT_CAMPAIGN},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct gen g = {.campaign_port = -1};
	const char *campaign = NULL;
	uint64_t seed = SEED_DEFAULT, start = START_DEFAULT;
	uint64_t dur = DURATION_DEFAULT, ports = PORTS_DEFAULT, nudp;
	struct stat st;
	int ch, verbose = 0;

	g.n = COUNT_DEFAULT;
	opterr = 0; /* one line per error, ours */
	while ((ch = getopt_long(argc, argv, ":c:d:ho:p:S:t:v", longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'c':
			g.n = option_u64(ch, optarg, 1, 1ull << 40);
			break;
		case OPT_CAMPAIGN:
			campaign = optarg;
			break;
		case 'd':
			dur = option_u64(ch, optarg, 1, UINT32_MAX);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'o':
			g.path = optarg;
			break;
		case 'p':
			ports = option_u64(ch, optarg, 1, 65535);
			break;
		case 'S':
			seed = option_u64(ch, optarg, 0, UINT64_MAX);
			break;
		case 't':
			start = option_u64(ch, optarg, 0, UINT32_MAX);
			break;
		case 'v':
			verbose = 1;
			break;
		case ':':
			errx(1, "option %s needs a value", opt_name(argv));
		default:
			errx(1, "unknown option %s (try -h)", opt_name(argv));
		}
	}
	if (optind < argc)
		errx(1, "unexpected argument \"%s\"", argv[optind]);
	if (g.path == NULL)
		errx(1, "no output: give -o FILE, or -o - for standard output");
	/* Classic pcap keeps seconds in 32 bits. */
	if (start + dur > UINT32_MAX)
		errx(1, "options -t and -d: the capture would end after 2106");
	if (campaign != NULL)
		parse_campaign(&g, campaign, g.n);
	g.start_us = start * 1000000;
	g.dur_us = dur * 1000000;
	rng_seed(&g.rng, seed);
	portset_init(&g.tcp, (uint32_t)ports, hot_tcp, NHOT_TCP, &g.rng);
	/* Fewer UDP ports are probed: a fifth, but all the hot ones. */
	nudp = ports / 5 > NHOT_UDP ? ports / 5
	    : ports < NHOT_UDP      ? ports
				    : NHOT_UDP;
	portset_init(&g.udp, (uint32_t)nudp, hot_udp, NHOT_UDP, &g.rng);
	if (strcmp(g.path, "-") == 0) {
		g.out = stdout;
		g.path = "standard output";
	} else if ((g.out = fopen(g.path, "wb")) == NULL)
		err(1, "%s", g.path);
	else if (fstat(fileno(g.out), &st) == 0 && S_ISREG(st.st_mode))
		g.regular = 1;
	gen_run(&g);
	if (g.out != stdout && fclose(g.out) == EOF)
		out_fail(&g);
	if (verbose)
		gen_summary(&g);
	portset_free(&g.tcp);
	portset_free(&g.udp);
	return 0;
}

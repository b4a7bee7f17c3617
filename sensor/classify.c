/*
 * Link layer to key.  Every reader takes (pointer, remaining length) and
 * checks the length before each access: the frame comes from the network
 * or from a capture file and may be cut anywhere.
 */
#include <stddef.h>

#include <pcap/dlt.h>

#include "classify.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-802.1ad Q-in-Q */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60

/* Bounds the IPv6 extension header walk; real packets carry a few. */
#define IPV6_MAX_EXTHDRS 16

#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/*
 * The IPv4 path runs for nearly every packet of a scan; forcing it inline
 * into each link-type entry point turns the chain into one function.
 */
#define HOT static inline __attribute__((always_inline))

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
set_class(struct pkt *out, enum pkt_class cls)
{
	out->cls = (uint8_t)cls;
}

/* p points at the transport header; len bytes of it were captured. */
HOT void
classify_transport(unsigned proto, const uint8_t *p, uint32_t len,
    struct pkt *out)
{
	uint8_t flags;

	switch (proto) {
	case IPPROTO_TCP_:
		if (len < 4)
			break;
		out->cls = CLASS_TCP;
		out->key = be16(p + 2);
		out->tcpk = TCPK_OTHER;
		if (len < 14)
			return;
		flags = p[13];
		if (flags & TH_RST)
			out->tcpk = TCPK_RST;
		else if ((flags & (TH_SYN | TH_ACK)) == TH_SYN)
			out->tcpk = TCPK_SYN;
		else if ((flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
			out->tcpk = TCPK_SYNACK;
		return;
	case IPPROTO_UDP_:
		if (len < 4)
			break;
		out->cls = CLASS_UDP;
		out->key = be16(p + 2);
		return;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if (len < 4)
			break;
		out->cls = proto == IPPROTO_ICMP_ ? CLASS_ICMP : CLASS_ICMP6;
		out->key = p[0];
		return;
	default:
		set_class(out, CLASS_OTHER);
		return;
	}
	set_class(out, CLASS_MALFORMED);
}

HOT void
classify_ipv4(const uint8_t *p, uint32_t len, struct pkt *out)
{
	uint32_t hlen, totlen;

	if (len < 20)
		goto malformed;
	if (p[0] == 0x45) /* no options: the usual case */
		hlen = 20;
	else if ((p[0] >> 4) != 4)
		goto malformed;
	else if ((hlen = (uint32_t)(p[0] & 0x0f) * 4) < 20 || hlen > len)
		goto malformed;
	totlen = be16(p + 2);
	if (totlen < hlen)
		goto malformed;
	out->family = 4;
	out->src = p + 12;
	out->dst = p + 16;
	if ((be16(p + 6) & 0x1fff) != 0) {
		set_class(out, CLASS_FRAGMENT);
		return;
	}
	/* Bytes past the total length are link padding, not transport. */
	if (totlen < len)
		len = totlen;
	if (p[9] == IPPROTO_ICMPV6_)
		set_class(out, CLASS_OTHER);
	else
		classify_transport(p[9], p + hlen, len - hlen, out);
	return;
malformed:
	set_class(out, CLASS_MALFORMED);
}

static void
classify_ipv6(const uint8_t *p, uint32_t len, struct pkt *out)
{
	uint32_t off = 40, plen, hlen;
	unsigned nh, n;

	if (len < 40 || (p[0] >> 4) != 6)
		goto malformed;
	out->family = 6;
	out->src = p + 8;
	out->dst = p + 24;
	plen = be16(p + 4);
	/* A zero payload length is a jumbogram: trust the capture. */
	if (plen != 0 && plen + 40 < len)
		len = plen + 40;
	nh = p[6];
	for (n = 0; n < IPV6_MAX_EXTHDRS; n++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			if (len - off < 2)
				goto malformed;
			hlen = ((uint32_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH_:
			if (len - off < 2)
				goto malformed;
			hlen = ((uint32_t)p[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT_:
			if (len - off < 8)
				goto malformed;
			if ((be16(p + off + 2) & 0xfff8) != 0) {
				set_class(out, CLASS_FRAGMENT);
				return;
			}
			hlen = 8;
			break;
		case IPPROTO_ICMP_:
			set_class(out, CLASS_OTHER);
			return;
		default:
			classify_transport(nh, p + off, len - off, out);
			return;
		}
		if (hlen > len - off)
			goto malformed;
		nh = p[off];
		off += hlen;
	}
malformed:
	set_class(out, CLASS_MALFORMED);
}

static void
classify_ip(const uint8_t *p, uint32_t len, struct pkt *out)
{
	if (len < 1)
		set_class(out, CLASS_MALFORMED);
	else if ((p[0] >> 4) == 4)
		classify_ipv4(p, len, out);
	else if ((p[0] >> 4) == 6)
		classify_ipv6(p, len, out);
	else
		set_class(out, CLASS_MALFORMED);
}

/* p points at an EtherType; VLAN tags (any depth) are skipped. */
static void
classify_ethertype(const uint8_t *p, uint32_t len, struct pkt *out)
{
	uint16_t type;

	for (;;) {
		if (len < 2) {
			set_class(out, CLASS_MALFORMED);
			return;
		}
		type = be16(p);
		if (type != ETHERTYPE_8021Q && type != ETHERTYPE_8021AD &&
		    type != ETHERTYPE_QINQ_OLD)
			break;
		if (len < 4) {
			set_class(out, CLASS_MALFORMED);
			return;
		}
		p += 4;
		len -= 4;
	}
	if (type == ETHERTYPE_IPV4)
		classify_ipv4(p + 2, len - 2, out);
	else if (type == ETHERTYPE_IPV6)
		classify_ipv6(p + 2, len - 2, out);
	else
		set_class(out, CLASS_NONIP);
}

static inline void
pkt_reset(struct pkt *out)
{
	out->cls = CLASS_MALFORMED;
	out->tcpk = TCPK_OTHER;
	out->family = 0;
	out->key = 0;
	out->src = NULL;
	out->dst = NULL;
}

static void
classify_en10mb(const uint8_t *p, uint32_t len, struct pkt *out)
{
	pkt_reset(out);
	if (len < 14)
		return;
	if (be16(p + 12) == ETHERTYPE_IPV4) /* untagged: skip the loop */
		classify_ipv4(p + 14, len - 14, out);
	else
		classify_ethertype(p + 12, len - 12, out);
}

static void
classify_sll(const uint8_t *p, uint32_t len, struct pkt *out)
{
	pkt_reset(out);
	if (len < 16)
		return;
	classify_ethertype(p + 14, len - 14, out);
}

static void
classify_sll2(const uint8_t *p, uint32_t len, struct pkt *out)
{
	pkt_reset(out);
	if (len < 20)
		return;
	/* The protocol comes first in SLL2; the rest of the header follows. */
	if (be16(p) == ETHERTYPE_8021Q || be16(p) == ETHERTYPE_8021AD ||
	    be16(p) == ETHERTYPE_QINQ_OLD) {
		if (len < 24)
			return;
		classify_ethertype(p + 22, len - 22, out);
	} else if (be16(p) == ETHERTYPE_IPV4)
		classify_ipv4(p + 20, len - 20, out);
	else if (be16(p) == ETHERTYPE_IPV6)
		classify_ipv6(p + 20, len - 20, out);
	else
		set_class(out, CLASS_NONIP);
}

static void
classify_raw(const uint8_t *p, uint32_t len, struct pkt *out)
{
	pkt_reset(out);
	classify_ip(p, len, out);
}

static void
classify_ipv4_only(const uint8_t *p, uint32_t len, struct pkt *out)
{
	pkt_reset(out);
	classify_ipv4(p, len, out);
}

static void
classify_ipv6_only(const uint8_t *p, uint32_t len, struct pkt *out)
{
	pkt_reset(out);
	classify_ipv6(p, len, out);
}

/*
 * BSD loopback: a 4-byte address family in the capturing host's byte
 * order (DLT_NULL) or in network order (DLT_LOOP).  AF_INET6 differs
 * between systems: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin.
 */
static void
classify_af(uint32_t af, const uint8_t *p, uint32_t len, struct pkt *out)
{
	switch (af) {
	case 2:
		classify_ipv4(p, len, out);
		break;
	case 10:
	case 24:
	case 28:
	case 30:
		classify_ipv6(p, len, out);
		break;
	default:
		set_class(out, CLASS_NONIP);
		break;
	}
}

static void
classify_null(const uint8_t *p, uint32_t len, struct pkt *out)
{
	uint32_t af;

	pkt_reset(out);
	if (len < 4)
		return;
	af = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	/* Written on a host of the other byte order: swap it back. */
	if ((af & 0xffff0000) != 0)
		af = __builtin_bswap32(af);
	classify_af(af, p + 4, len - 4, out);
}

static void
classify_loop(const uint8_t *p, uint32_t len, struct pkt *out)
{
	pkt_reset(out);
	if (len < 4)
		return;
	classify_af((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3],
	    p + 4, len - 4, out);
}

static const struct {
	int dlt;
	classify_fn fn;
} classify_linktypes[] = {
    {DLT_EN10MB, classify_en10mb},
    {DLT_LINUX_SLL, classify_sll},
    {DLT_LINUX_SLL2, classify_sll2},
    {DLT_RAW, classify_raw},
    {DLT_IPV4, classify_ipv4_only},
    {DLT_IPV6, classify_ipv6_only},
    {DLT_NULL, classify_null},
    {DLT_LOOP, classify_loop},
};

classify_fn
classify_for_linktype(int dlt)
{
	size_t i;

	for (i = 0;
	     i < sizeof(classify_linktypes) / sizeof(classify_linktypes[0]);
	     i++)
		if (classify_linktypes[i].dlt == dlt)
			return classify_linktypes[i].fn;
	return NULL;
}

const char *
classify_class_name(enum pkt_class c)
{
	static const char *const names[CLASS_COUNT] = {"tcp", "udp", "icmp",
	    "icmp6", "fragment", "other", "nonip", "malformed", "unmonitored"};

	return (unsigned)c < CLASS_COUNT ? names[c] : "?";
}

const char *
classify_tcpk_name(enum tcp_kind k)
{
	static const char *const names[TCPK_COUNT] = {"syn", "synack", "rst",
	    "other"};

	return (unsigned)k < TCPK_COUNT ? names[k] : "?";
}

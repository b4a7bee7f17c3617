/*
 * Unit tests for classify: hand-built frames, byte by byte, for every link
 * type the sensor unwraps, and every truncation of a set of valid frames
 * (doc/CONTRACTS.md contract 1).  Each frame is copied into a heap buffer of
 * exactly its captured length, so a build with -Db_sanitize=address
 * reports any read past caplen.
 *
 * Checksums are left zero: a dark-address sensor counts what arrives and
 * the classifier must not look at them.  Addresses are from the
 * documentation ranges: 198.51.100.7 and 2001:db8::7 scan 192.0.2.1 and
 * 2001:db8::1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "classify.h"

#define FRAME_MAX 512

/* Where the addresses sit in an IPv4 or IPv6 header. */
#define IP4_SRC_OFF 12
#define IP4_DST_OFF 16
#define IP6_SRC_OFF 8
#define IP6_DST_OFF 24

/* Offsets patched to derive variants from the packets below. */
#define IP4_FRAG_OFF 6 /* flags and fragment offset, 2 bytes */
#define IP4_PROTO_OFF 9
#define IP6_PLEN_OFF 4
#define IP6_NH_OFF 6
#define TCP_FLAGS_OFF 13

/* IPv4 TCP SYN 198.51.100.7:54321 -> 192.0.2.1:445. */
static const uint8_t ip4_tcp_syn[] = {
    0x45, 0x00, 0x00, 0x28, /* v4, IHL 5, total length 40 */
    0x00, 0x01, 0x00, 0x00, /* id 1, not a fragment */
    0x40, 0x06, 0x00, 0x00, /* TTL 64, TCP */
    0xc6, 0x33, 0x64, 0x07, /* 198.51.100.7 */
    0xc0, 0x00, 0x02, 0x01, /* 192.0.2.1 */
    0xd4, 0x31, 0x01, 0xbd, /* ports 54321 -> 445 */
    0x00, 0x00, 0x00, 0x01, /* seq */
    0x00, 0x00, 0x00, 0x00, /* ack */
    0x50, 0x02, 0x04, 0x00, /* data offset 5, SYN, window */
    0x00, 0x00, 0x00, 0x00, /* checksum, urgent */
};

/* IPv4 UDP 198.51.100.7:12345 -> 192.0.2.1:53. */
static const uint8_t ip4_udp[] = {
    0x45, 0x00, 0x00, 0x1c, /* total length 28 */
    0x00, 0x02, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, /* UDP */
    0xc6, 0x33, 0x64, 0x07, 0xc0, 0x00, 0x02, 0x01, 0x30, 0x39, 0x00,
    0x35, /* ports 12345 -> 53 */
    0x00, 0x08, 0x00, 0x00, /* length 8 */
};

/* IPv4 ICMP echo request: key 8. */
static const uint8_t ip4_icmp_echo[] = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x03, 0x00, 0x00, 0x40, 0x01, 0x00,
    0x00, /* ICMP */
    0xc6, 0x33, 0x64, 0x07, 0xc0, 0x00, 0x02, 0x01, 0x08, 0x00, 0xf7,
    0xff, /* echo, code 0, checksum */
    0x00, 0x00, 0x00, 0x00, /* id, seq */
};

/*
 * Backscatter: host unreachable for a TCP segment 192.0.2.1:445 ->
 * 203.0.113.5:8080.  The key is the ICMP type, 3, never a quoted port.
 */
static const uint8_t ip4_icmp_unreach_tcp[] = {
    0x45,
    0x00,
    0x00,
    0x38, /* total length 56 */
    0x00,
    0x04,
    0x00,
    0x00,
    0x40,
    0x01,
    0x00,
    0x00,
    0xc6,
    0x33,
    0x64,
    0x07,
    0xc0,
    0x00,
    0x02,
    0x01,
    0x03,
    0x01,
    0x00,
    0x00, /* unreachable, host */
    0x00,
    0x00,
    0x00,
    0x00, /* unused */
    0x45,
    0x00,
    0x00,
    0x28, /* quoted IPv4 header */
    0x00,
    0x01,
    0x00,
    0x00,
    0x40,
    0x06,
    0x00,
    0x00,
    0xc0,
    0x00,
    0x02,
    0x01,
    0xcb,
    0x00,
    0x71,
    0x05, /* 203.0.113.5 */
    0x01,
    0xbd,
    0x1f,
    0x90, /* quoted ports 445 -> 8080 */
    0x00,
    0x00,
    0x00,
    0x01,
};

/* Port unreachable for a UDP datagram 192.0.2.1:53 -> 203.0.113.5:12345. */
static const uint8_t ip4_icmp_unreach_udp[] = {
    0x45,
    0x00,
    0x00,
    0x38,
    0x00,
    0x05,
    0x00,
    0x00,
    0x40,
    0x01,
    0x00,
    0x00,
    0xc6,
    0x33,
    0x64,
    0x07,
    0xc0,
    0x00,
    0x02,
    0x01,
    0x03,
    0x03,
    0x00,
    0x00, /* unreachable, port */
    0x00,
    0x00,
    0x00,
    0x00,
    0x45,
    0x00,
    0x00,
    0x24,
    0x00,
    0x01,
    0x00,
    0x00,
    0x40,
    0x11,
    0x00,
    0x00,
    0xc0,
    0x00,
    0x02,
    0x01,
    0xcb,
    0x00,
    0x71,
    0x05,
    0x00,
    0x35,
    0x30,
    0x39, /* quoted ports 53 -> 12345 */
    0x00,
    0x10,
    0x00,
    0x00,
};

/* UDP with the largest IPv4 header: IHL 15, 40 bytes of NOP options. */
static const uint8_t ip4_opts15_udp[] = {
    0x4f,
    0x00,
    0x00,
    0x44, /* IHL 15, total length 68 */
    0x00,
    0x06,
    0x00,
    0x00,
    0x40,
    0x11,
    0x00,
    0x00,
    0xc6,
    0x33,
    0x64,
    0x07,
    0xc0,
    0x00,
    0x02,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x01,
    0x00, /* ..., EOL */
    0x30,
    0x39,
    0x00,
    0x35,
    0x00,
    0x08,
    0x00,
    0x00,
};

/* Non-first fragment (offset 185 = byte 1480): its data is no header. */
static const uint8_t ip4_frag_later[] = {
    0x45,
    0x00,
    0x00,
    0x1c,
    0x00,
    0x07,
    0x00,
    0xb9, /* offset 185, last fragment */
    0x40,
    0x11,
    0x00,
    0x00,
    0xc6,
    0x33,
    0x64,
    0x07,
    0xc0,
    0x00,
    0x02,
    0x01,
    0x30,
    0x39,
    0x00,
    0x35, /* payload that looks like ports */
    0x00,
    0x08,
    0x00,
    0x00,
};

/* GRE carrying IPv4 UDP: a tunnel is "other", the inner port no key. */
static const uint8_t ip4_gre[] = {
    0x45,
    0x00,
    0x00,
    0x34, /* total length 52 */
    0x00,
    0x08,
    0x00,
    0x00,
    0x40,
    0x2f,
    0x00,
    0x00, /* GRE */
    0xc6,
    0x33,
    0x64,
    0x07,
    0xc0,
    0x00,
    0x02,
    0x01,
    0x00,
    0x00,
    0x08,
    0x00, /* no flags, IPv4 */
    0x45,
    0x00,
    0x00,
    0x1c,
    0x00,
    0x02,
    0x00,
    0x00,
    0x40,
    0x11,
    0x00,
    0x00,
    0xc6,
    0x33,
    0x64,
    0x07,
    0xc0,
    0x00,
    0x02,
    0x01,
    0x30,
    0x39,
    0x00,
    0x35,
    0x00,
    0x08,
    0x00,
    0x00,
};

#define IP6_SRC \
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, \
	    0x00, 0x00, 0x00, 0x00, 0x07
#define IP6_DST \
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, \
	    0x00, 0x00, 0x00, 0x00, 0x01
#define TCP_SYN_445 \
	0xd4, 0x31, 0x01, 0xbd, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, \
	    0x00, 0x50, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00
#define UDP_53 0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00

/* IPv6 TCP SYN 2001:db8::7:54321 -> 2001:db8::1:445. */
static const uint8_t ip6_tcp_syn[] = {
    0x60,
    0x00,
    0x00,
    0x00, /* v6 */
    0x00,
    0x14,
    0x06,
    0x40, /* payload 20, TCP, hop limit 64 */
    IP6_SRC,
    IP6_DST,
    TCP_SYN_445,
};

static const uint8_t ip6_udp[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x08,
    0x11,
    0x40, /* payload 8, UDP */
    IP6_SRC,
    IP6_DST,
    UDP_53,
};

/* ICMPv6 echo request: key 128. */
static const uint8_t ip6_icmp6_echo[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x08,
    0x3a,
    0x40, /* ICMPv6 */
    IP6_SRC,
    IP6_DST,
    0x80,
    0x00,
    0x00,
    0x00, /* echo request, code 0 */
    0x00,
    0x00,
    0x00,
    0x00,
};

/* Hop-by-hop options, 8 bytes (length 0), a PadN, then UDP. */
static const uint8_t ip6_hbh_udp[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x00,
    0x40, /* payload 16, hop-by-hop */
    IP6_SRC,
    IP6_DST,
    0x11,
    0x00,
    0x01,
    0x04,
    0x00,
    0x00,
    0x00,
    0x00,
    UDP_53,
};

static const uint8_t ip6_dst_udp[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x3c,
    0x40, /* destination options */
    IP6_SRC,
    IP6_DST,
    0x11,
    0x00,
    0x01,
    0x04,
    0x00,
    0x00,
    0x00,
    0x00,
    UDP_53,
};

/* Routing header type 2 (RFC 6275): length 2 means 24 bytes. */
static const uint8_t ip6_rt_udp[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x20,
    0x2b,
    0x40, /* payload 32, routing */
    IP6_SRC,
    IP6_DST,
    0x11,
    0x02,
    0x02,
    0x01, /* UDP, 24 bytes, type 2, left 1 */
    0x00,
    0x00,
    0x00,
    0x00,
    0x20,
    0x01,
    0x0d,
    0xb8,
    0x00,
    0x00,
    0x00,
    0x00, /* home address */
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x02,
    UDP_53,
};

/* First fragment: offset 0, more fragments; the UDP header follows. */
static const uint8_t ip6_frag0_udp[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x2c,
    0x40, /* payload 16, fragment */
    IP6_SRC,
    IP6_DST,
    0x11,
    0x00,
    0x00,
    0x01, /* UDP, offset 0, M */
    0x00,
    0x00,
    0x30,
    0x39, /* identification */
    UDP_53,
};

/* Later fragment: offset 185 (0x05c8 >> 3); the data is not a header. */
static const uint8_t ip6_frag_later[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x2c,
    0x40,
    IP6_SRC,
    IP6_DST,
    0x11,
    0x00,
    0x05,
    0xc8, /* UDP, offset 185, last */
    0x00,
    0x00,
    0x30,
    0x39,
    UDP_53,
};

/* AH (RFC 4302): payload length 4 means (4 + 2) * 4 = 24 bytes. */
static const uint8_t ip6_ah_udp[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x20,
    0x33,
    0x40, /* payload 32, AH */
    IP6_SRC,
    IP6_DST,
    0x11,
    0x04,
    0x00,
    0x00, /* UDP, length 4, reserved */
    0x00,
    0x00,
    0x01,
    0x00, /* SPI */
    0x00,
    0x00,
    0x00,
    0x01, /* sequence */
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00, /* ICV, 96 bits */
    0x00,
    0x00,
    0x00,
    0x00,
    UDP_53,
};

/*
 * Every extension header at once: hop-by-hop (8), destination options
 * (8), routing (24), first fragment (8), AH (24), then TCP at 40 + 72.
 */
static const uint8_t ip6_chain_tcp[] = {
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x5c,
    0x00,
    0x40, /* payload 92, hop-by-hop */
    IP6_SRC,
    IP6_DST,
    0x3c,
    0x00,
    0x01,
    0x04,
    0x00,
    0x00,
    0x00,
    0x00, /* -> dstopts */
    0x2b,
    0x00,
    0x01,
    0x04,
    0x00,
    0x00,
    0x00,
    0x00, /* -> routing */
    0x2c,
    0x02,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00, /* -> fragment */
    0x20,
    0x01,
    0x0d,
    0xb8,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x02,
    0x33,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00,
    0x30,
    0x39, /* -> AH */
    0x06,
    0x04,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00, /* -> TCP */
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    TCP_SYN_445,
};

/* ARP request: who has 192.0.2.1, tell 198.51.100.7. */
#define ARP_BODY \
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, \
	    0x00, 0x00, 0x02, 0xc6, 0x33, 0x64, 0x07, 0x00, 0x00, 0x00, 0x00, \
	    0x00, 0x00, 0xc0, 0x00, 0x02, 0x01

/* Link headers: Ethernet addresses, then the EtherType chain. */
#define ETH_MACS \
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02
#define TAG_8021Q 0x81, 0x00, 0x00, 0x64 /* VID 100 */
#define TAG_8021Q_2 0x81, 0x00, 0x00, 0x65 /* VID 101 */
#define TAG_8021AD 0x88, 0xa8, 0x00, 0xc8 /* S-VID 200 */
#define TAG_QINQ_OLD 0x91, 0x00, 0x00, 0xc8
#define ET_IPV4 0x08, 0x00
#define ET_IPV6 0x86, 0xdd
#define ET_ARP 0x08, 0x06
/* SLL: packet type, ARPHRD_ETHER, address length 6, address + padding. */
#define SLL_HEAD \
	0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x02, 0x00, 0x00, 0x00, 0x00, \
	    0x02, 0x00, 0x00
/* SLL2 after its protocol: reserved, ifindex 2, ARPHRD_ETHER, host, 6. */
#define SLL2_TAIL \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x06, 0x02, \
	    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00

static const uint8_t arp_request[] = {ARP_BODY};
static const uint8_t arp_eth[] = {ETH_MACS, ET_ARP, ARP_BODY};

struct link {
	const char *name;
	int dlt;
	uint8_t hdr[32];
	size_t len;
	int ipver; /* what the header announces */
};

#define LINK(name, dlt, ver, ...) \
	{ \
		name, dlt, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), \
		    ver \
	}
#define LINK_NONE(name, dlt, ver) \
	{ \
		name, dlt, {0}, 0, ver \
	}

static const struct link links[] = {
    LINK("en10mb v4", DLT_EN10MB, 4, ETH_MACS, ET_IPV4),
    LINK("en10mb v6", DLT_EN10MB, 6, ETH_MACS, ET_IPV6),
    LINK("802.1q v4", DLT_EN10MB, 4, ETH_MACS, TAG_8021Q, ET_IPV4),
    LINK("802.1q v6", DLT_EN10MB, 6, ETH_MACS, TAG_8021Q, ET_IPV6),
    LINK("802.1ad v4", DLT_EN10MB, 4, ETH_MACS, TAG_8021AD, TAG_8021Q, ET_IPV4),
    LINK("802.1ad v6", DLT_EN10MB, 6, ETH_MACS, TAG_8021AD, TAG_8021Q, ET_IPV6),
    LINK("triple v4", DLT_EN10MB, 4, ETH_MACS, TAG_8021AD, TAG_8021Q,
	TAG_8021Q_2, ET_IPV4),
    LINK("triple v6", DLT_EN10MB, 6, ETH_MACS, TAG_8021AD, TAG_8021Q,
	TAG_8021Q_2, ET_IPV6),
    LINK("0x9100 v4", DLT_EN10MB, 4, ETH_MACS, TAG_QINQ_OLD, TAG_8021Q,
	ET_IPV4),
    LINK("sll v4", DLT_LINUX_SLL, 4, SLL_HEAD, ET_IPV4),
    LINK("sll v6", DLT_LINUX_SLL, 6, SLL_HEAD, ET_IPV6),
    LINK("sll 802.1q v4", DLT_LINUX_SLL, 4, SLL_HEAD, TAG_8021Q, ET_IPV4),
    LINK("sll 802.1ad v6", DLT_LINUX_SLL, 6, SLL_HEAD, TAG_8021AD, TAG_8021Q,
	ET_IPV6),
    LINK("sll2 v4", DLT_LINUX_SLL2, 4, ET_IPV4, SLL2_TAIL),
    LINK("sll2 v6", DLT_LINUX_SLL2, 6, ET_IPV6, SLL2_TAIL),
    /* SLL2 puts the tag's TPID in its protocol field, the TCI after. */
    LINK("sll2 802.1q v4", DLT_LINUX_SLL2, 4, 0x81, 0x00, SLL2_TAIL, 0x00, 0x64,
	ET_IPV4),
    LINK("sll2 802.1ad v6", DLT_LINUX_SLL2, 6, 0x88, 0xa8, SLL2_TAIL, 0x00,
	0xc8, TAG_8021Q, ET_IPV6),
    LINK_NONE("raw v4", DLT_RAW, 4),
    LINK_NONE("raw v6", DLT_RAW, 6),
    LINK_NONE("ipv4", DLT_IPV4, 4),
    LINK_NONE("ipv6", DLT_IPV6, 6),
    /* DLT_NULL: AF_ in the capturing host's byte order, either one. */
    LINK("null le inet", DLT_NULL, 4, 0x02, 0x00, 0x00, 0x00),
    LINK("null be inet", DLT_NULL, 4, 0x00, 0x00, 0x00, 0x02),
    LINK("null le inet6 10", DLT_NULL, 6, 0x0a, 0x00, 0x00, 0x00),
    LINK("null be inet6 10", DLT_NULL, 6, 0x00, 0x00, 0x00, 0x0a),
    LINK("null le inet6 24", DLT_NULL, 6, 0x18, 0x00, 0x00, 0x00),
    LINK("null be inet6 24", DLT_NULL, 6, 0x00, 0x00, 0x00, 0x18),
    LINK("null le inet6 28", DLT_NULL, 6, 0x1c, 0x00, 0x00, 0x00),
    LINK("null be inet6 28", DLT_NULL, 6, 0x00, 0x00, 0x00, 0x1c),
    LINK("null le inet6 30", DLT_NULL, 6, 0x1e, 0x00, 0x00, 0x00),
    LINK("null be inet6 30", DLT_NULL, 6, 0x00, 0x00, 0x00, 0x1e),
    /* DLT_LOOP: always network byte order. */
    LINK("loop inet", DLT_LOOP, 4, 0x00, 0x00, 0x00, 0x02),
    LINK("loop inet6 24", DLT_LOOP, 6, 0x00, 0x00, 0x00, 0x18),
    LINK("loop inet6 28", DLT_LOOP, 6, 0x00, 0x00, 0x00, 0x1c),
    LINK("loop inet6 30", DLT_LOOP, 6, 0x00, 0x00, 0x00, 0x1e),
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
};

/* What classify reported, addresses as offsets: the buffer is freed. */
struct result {
	int cls;
	int tcpk;
	int family;
	unsigned key;
	long srcoff; /* -1 when src is NULL */
	long dstoff; /* -1 when dst is NULL */
};

static void
frame_cat(struct frame *f, const uint8_t *p, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memcpy(f->b + f->len, p, n);
	f->len += (uint32_t)n;
}

static void
frame_make(struct frame *f, const struct link *l, const uint8_t *ip,
    size_t iplen)
{
	f->len = 0;
	frame_cat(f, l->hdr, l->len);
	frame_cat(f, ip, iplen);
}

static const struct link *
link_find(const char *name)
{
	size_t i;

	for (i = 0; i < NITEMS(links); i++)
		if (strcmp(links[i].name, name) == 0)
			return &links[i];
	fail_msg("no link %s", name);
	return NULL;
}

/*
 * Classify the first len bytes of frame from a heap copy of exactly len
 * bytes.  The result starts as garbage so that a field classify forgets
 * to set shows up.
 */
static struct result
classify_copy(int dlt, const uint8_t *frame, uint32_t len)
{
	classify_fn fn;
	struct pkt pk;
	struct result r;
	uint8_t *buf;

	fn = classify_for_linktype(dlt);
	assert_non_null(fn);
	buf = malloc(len != 0 ? len : 1);
	assert_non_null(buf);
	if (len != 0)
		memcpy(buf, frame, len);
	memset(&pk, 0xa5, sizeof(pk));
	fn(buf, len, &pk);
	r.cls = pk.cls;
	r.tcpk = pk.tcpk;
	r.family = pk.family;
	r.key = pk.key;
	r.srcoff = r.dstoff = -1;
	if (pk.dst != NULL) {
		assert_true(pk.dst >= buf);
		assert_true(pk.dst + (pk.family == 4 ? 4 : 16) <= buf + len);
		r.dstoff = (long)(pk.dst - buf);
	}
	if (pk.src != NULL) {
		assert_true(pk.src >= buf);
		assert_true(pk.src + (pk.family == 4 ? 4 : 16) <= buf + len);
		r.srcoff = (long)(pk.src - buf);
	}
	free(buf);
	return r;
}

static struct result
classify_frame(int dlt, const struct frame *f)
{
	return classify_copy(dlt, f->b, f->len);
}

static void
assert_class(const char *what, const struct result *r, int cls, unsigned key)
{
	if (r->cls != cls || r->key != key)
		print_message("%s: got %s/%u, want %s/%u\n", what,
		    classify_class_name(r->cls), r->key,
		    classify_class_name(cls), key);
	assert_int_equal(r->cls, cls);
	assert_int_equal(r->key, key);
}

/* A classified IP packet: src and dst point at its header's addresses. */
static void
assert_ip(const struct result *r, int family, size_t iphdr)
{
	assert_int_equal(r->family, family);
	assert_int_equal(r->srcoff,
	    (long)iphdr + (family == 4 ? IP4_SRC_OFF : IP6_SRC_OFF));
	assert_int_equal(r->dstoff,
	    (long)iphdr + (family == 4 ? IP4_DST_OFF : IP6_DST_OFF));
}

static void
assert_no_ip(const struct result *r)
{
	assert_int_equal(r->family, 0);
	assert_int_equal(r->srcoff, -1);
	assert_int_equal(r->dstoff, -1);
}

static void
test_linktypes_supported(void **state)
{
	(void)state;
	assert_non_null(classify_for_linktype(DLT_EN10MB));
	assert_non_null(classify_for_linktype(DLT_LINUX_SLL));
	assert_non_null(classify_for_linktype(DLT_LINUX_SLL2));
	assert_non_null(classify_for_linktype(DLT_RAW));
	assert_non_null(classify_for_linktype(DLT_IPV4));
	assert_non_null(classify_for_linktype(DLT_IPV6));
	assert_non_null(classify_for_linktype(DLT_NULL));
	assert_non_null(classify_for_linktype(DLT_LOOP));
	/* The caller refuses the capture rather than guess. */
	assert_null(classify_for_linktype(DLT_IEEE802_11));
	assert_null(classify_for_linktype(DLT_PPP));
	assert_null(classify_for_linktype(-1));
}

static void
check_link(const struct link *l, const uint8_t *ip, size_t iplen, int cls,
    unsigned key)
{
	struct frame f;
	struct result r;

	frame_make(&f, l, ip, iplen);
	r = classify_frame(l->dlt, &f);
	assert_class(l->name, &r, cls, key);
	assert_ip(&r, l->ipver, l->len);
	if (cls == CLASS_TCP)
		assert_int_equal(r.tcpk, TCPK_SYN);
}

/* Every link header with TCP, UDP and ICMP of the version it announces. */
static void
test_every_link(void **state)
{
	const struct link *l;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(links); i++) {
		l = &links[i];
		if (l->ipver == 4) {
			check_link(l, ip4_tcp_syn, sizeof(ip4_tcp_syn),
			    CLASS_TCP, 445);
			check_link(l, ip4_udp, sizeof(ip4_udp), CLASS_UDP, 53);
			check_link(l, ip4_icmp_echo, sizeof(ip4_icmp_echo),
			    CLASS_ICMP, 8);
		} else {
			check_link(l, ip6_tcp_syn, sizeof(ip6_tcp_syn),
			    CLASS_TCP, 445);
			check_link(l, ip6_udp, sizeof(ip6_udp), CLASS_UDP, 53);
			check_link(l, ip6_icmp6_echo, sizeof(ip6_icmp6_echo),
			    CLASS_ICMP6, 128);
		}
	}
}

/* A header announcing one IP version in front of the other: malformed. */
static void
test_version_mismatch(void **state)
{
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(links); i++) {
		const struct link *l = &links[i];

		/* DLT_RAW announces nothing: it reads the nibble. */
		if (l->dlt == DLT_RAW)
			continue;
		if (l->ipver == 4)
			frame_make(&f, l, ip6_udp, sizeof(ip6_udp));
		else
			frame_make(&f, l, ip4_udp, sizeof(ip4_udp));
		r = classify_frame(l->dlt, &f);
		assert_class(l->name, &r, CLASS_MALFORMED, 0);
	}
}

/* DLT_RAW: only versions 4 and 6 are IP. */
static void
test_raw_bad_version(void **state)
{
	static const uint8_t versions[] = {0x0, 0x5, 0x7, 0xf};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(versions); i++) {
		f.len = 0;
		frame_cat(&f, ip4_udp, sizeof(ip4_udp));
		f.b[0] = (uint8_t)(versions[i] << 4 | 5);
		r = classify_frame(DLT_RAW, &f);
		assert_class("raw version", &r, CLASS_MALFORMED, 0);
		assert_no_ip(&r);
	}
}

static void
test_nonip(void **state)
{
	static const uint8_t eth_arp[] = {ETH_MACS, ET_ARP};
	static const uint8_t eth_vlan_arp[] = {ETH_MACS, TAG_8021Q, ET_ARP};
	/* 802.3 length 38 followed by LLC: not an EtherType at all. */
	static const uint8_t eth_llc[] = {ETH_MACS, 0x00, 0x26, 0x42, 0x42,
	    0x03};
	static const uint8_t sll_arp[] = {SLL_HEAD, ET_ARP};
	static const uint8_t sll2_arp[] = {ET_ARP, SLL2_TAIL};
	static const uint8_t null_unix[] = {0x01, 0x00, 0x00, 0x00};
	static const uint8_t null_af7[] = {0x00, 0x00, 0x00, 0x07};
	/* AF_INET in host order is not AF_INET in DLT_LOOP's net order. */
	static const uint8_t loop_le_inet[] = {0x02, 0x00, 0x00, 0x00};
	static const struct {
		const char *name;
		int dlt;
		const uint8_t *hdr;
		size_t len;
	} cases[] = {
	    {"eth arp", DLT_EN10MB, eth_arp, sizeof(eth_arp)},
	    {"eth vlan arp", DLT_EN10MB, eth_vlan_arp, sizeof(eth_vlan_arp)},
	    {"eth llc", DLT_EN10MB, eth_llc, sizeof(eth_llc)},
	    {"sll arp", DLT_LINUX_SLL, sll_arp, sizeof(sll_arp)},
	    {"sll2 arp", DLT_LINUX_SLL2, sll2_arp, sizeof(sll2_arp)},
	    {"null af 1", DLT_NULL, null_unix, sizeof(null_unix)},
	    {"null af 7", DLT_NULL, null_af7, sizeof(null_af7)},
	    {"loop le", DLT_LOOP, loop_le_inet, sizeof(loop_le_inet)},
	};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		f.len = 0;
		frame_cat(&f, cases[i].hdr, cases[i].len);
		/* An ARP body: it must not be taken for an IP header. */
		frame_cat(&f, arp_request, sizeof(arp_request));
		r = classify_frame(cases[i].dlt, &f);
		assert_class(cases[i].name, &r, CLASS_NONIP, 0);
		assert_no_ip(&r);
	}
}

/* IHL 6..15: the transport header starts after the options. */
static void
test_ip4_options(void **state)
{
	struct frame f;
	struct result r;
	unsigned ihl;

	(void)state;
	for (ihl = 6; ihl <= 15; ihl++) {
		f.len = 0;
		frame_cat(&f, ip4_udp, 20);
		f.b[0] = (uint8_t)(0x40 | ihl);
		f.b[3] = (uint8_t)(ihl * 4 + 8);
		memset(f.b + 20, 0x01, (ihl - 5) * 4); /* NOP */
		f.len = ihl * 4;
		frame_cat(&f, ip4_udp + 20, 8);
		r = classify_frame(DLT_RAW, &f);
		assert_class("options", &r, CLASS_UDP, 53);
		assert_ip(&r, 4, 0);
	}
	r = classify_copy(DLT_IPV4, ip4_opts15_udp, sizeof(ip4_opts15_udp));
	assert_class("ihl 15", &r, CLASS_UDP, 53);
}

static void
test_ip4_bad_lengths(void **state)
{
	struct frame f;
	struct result r;
	unsigned ihl;

	(void)state;
	/* IHL counts 32-bit words and the fixed header alone is 5. */
	for (ihl = 0; ihl < 5; ihl++) {
		f.len = 0;
		frame_cat(&f, ip4_udp, sizeof(ip4_udp));
		f.b[0] = (uint8_t)(0x40 | ihl);
		r = classify_frame(DLT_RAW, &f);
		assert_class("ihl < 5", &r, CLASS_MALFORMED, 0);
	}
	/* Total length smaller than the header it contains. */
	f.len = 0;
	frame_cat(&f, ip4_udp, sizeof(ip4_udp));
	f.b[3] = 19;
	r = classify_frame(DLT_RAW, &f);
	assert_class("totlen 19", &r, CLASS_MALFORMED, 0);
	f.b[3] = 0;
	r = classify_frame(DLT_RAW, &f);
	assert_class("totlen 0", &r, CLASS_MALFORMED, 0);
	/* IHL 6 with total length 20: the options overrun the packet. */
	f.len = 0;
	frame_cat(&f, ip4_opts15_udp, sizeof(ip4_opts15_udp));
	f.b[0] = 0x46;
	f.b[3] = 20;
	r = classify_frame(DLT_RAW, &f);
	assert_class("totlen < ihl", &r, CLASS_MALFORMED, 0);
	/* IHL 15 claims 60 bytes but only 40 were captured. */
	r = classify_copy(DLT_RAW, ip4_opts15_udp, 40);
	assert_class("ihl > caplen", &r, CLASS_MALFORMED, 0);
}

/*
 * The total length, not the capture, ends the transport header: the
 * first 4 bytes must lie inside it (20 + 4 = 24).
 */
static void
test_ip4_totlen_bounds(void **state)
{
	struct frame f;
	struct result r;
	unsigned totlen;

	(void)state;
	for (totlen = 20; totlen <= 28; totlen++) {
		f.len = 0;
		frame_cat(&f, ip4_udp, sizeof(ip4_udp));
		f.b[3] = (uint8_t)totlen;
		r = classify_frame(DLT_RAW, &f);
		if (totlen < 24)
			assert_class("totlen", &r, CLASS_MALFORMED, 0);
		else
			assert_class("totlen", &r, CLASS_UDP, 53);
	}
}

/*
 * Short frames are padded to 60 bytes on Ethernet.  A packet whose total
 * length ends inside its transport header stays malformed however much
 * padding follows; a whole packet in padding is counted normally.
 */
static void
test_ethernet_padding(void **state)
{
	const struct link *l = link_find("en10mb v4");
	const struct link *l6 = link_find("en10mb v6");
	struct frame f;
	struct result r;

	(void)state;
	frame_make(&f, l, ip4_udp, sizeof(ip4_udp));
	memset(f.b + f.len, 0, 60 - f.len);
	f.len = 60;
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("padded udp", &r, CLASS_UDP, 53);

	f.b[14 + 3] = 22; /* 2 bytes of UDP, then padding */
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("padded 2 bytes", &r, CLASS_MALFORMED, 0);

	frame_make(&f, l, ip4_tcp_syn, 23);
	f.b[14 + 3] = 23; /* 3 bytes of TCP */
	memset(f.b + f.len, 0xff, 60 - f.len);
	f.len = 60;
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("padded 3 tcp bytes", &r, CLASS_MALFORMED, 0);

	/* IPv6: the payload length plays the same part. */
	frame_make(&f, l6, ip6_udp, sizeof(ip6_udp));
	f.b[14 + IP6_PLEN_OFF + 1] = 3;
	memset(f.b + f.len, 0, 20);
	f.len += 20;
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("v6 plen 3", &r, CLASS_MALFORMED, 0);
	f.b[14 + IP6_PLEN_OFF + 1] = 4;
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("v6 plen 4", &r, CLASS_UDP, 53);
}

static void
test_ip4_fragments(void **state)
{
	static const struct {
		uint8_t hi, lo;
		int cls;
	} frags[] = {
	    {0x00, 0x00, CLASS_UDP}, /* whole datagram */
	    {0x40, 0x00, CLASS_UDP}, /* DF: still whole */
	    {0x20, 0x00, CLASS_UDP}, /* MF, offset 0: first */
	    {0x20, 0x01, CLASS_FRAGMENT}, /* offset 8 bytes, more */
	    {0x00, 0x01, CLASS_FRAGMENT},
	    {0x00, 0xb9, CLASS_FRAGMENT}, /* offset 1480, last */
	    {0x1f, 0xff, CLASS_FRAGMENT}, /* largest offset */
	};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(frags); i++) {
		f.len = 0;
		frame_cat(&f, ip4_udp, sizeof(ip4_udp));
		f.b[IP4_FRAG_OFF] = frags[i].hi;
		f.b[IP4_FRAG_OFF + 1] = frags[i].lo;
		r = classify_frame(DLT_RAW, &f);
		assert_class("v4 fragment", &r, frags[i].cls,
		    frags[i].cls == CLASS_UDP ? 53 : 0);
		/* A fragment still has a destination to match prefixes. */
		assert_ip(&r, 4, 0);
	}
	/* Only the 20-byte IP header is needed to know it is a fragment. */
	r = classify_copy(DLT_RAW, ip4_frag_later, 20);
	assert_class("v4 fragment, no data", &r, CLASS_FRAGMENT, 0);
	/* A first fragment of TCP keeps its port and its flags. */
	f.len = 0;
	frame_cat(&f, ip4_tcp_syn, sizeof(ip4_tcp_syn));
	f.b[IP4_FRAG_OFF] = 0x20;
	r = classify_frame(DLT_RAW, &f);
	assert_class("v4 first fragment tcp", &r, CLASS_TCP, 445);
	assert_int_equal(r.tcpk, TCPK_SYN);
}

static void
test_ip6_exthdrs(void **state)
{
	static const struct {
		const char *name;
		const uint8_t *p;
		size_t len;
		int cls;
		unsigned key;
	} cases[] = {
	    {"hop-by-hop", ip6_hbh_udp, sizeof(ip6_hbh_udp), CLASS_UDP, 53},
	    {"dstopts", ip6_dst_udp, sizeof(ip6_dst_udp), CLASS_UDP, 53},
	    {"routing", ip6_rt_udp, sizeof(ip6_rt_udp), CLASS_UDP, 53},
	    {"fragment 0", ip6_frag0_udp, sizeof(ip6_frag0_udp), CLASS_UDP, 53},
	    {"fragment 185", ip6_frag_later, sizeof(ip6_frag_later),
		CLASS_FRAGMENT, 0},
	    {"ah", ip6_ah_udp, sizeof(ip6_ah_udp), CLASS_UDP, 53},
	    {"chain", ip6_chain_tcp, sizeof(ip6_chain_tcp), CLASS_TCP, 445},
	};
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		r = classify_copy(DLT_IPV6, cases[i].p, (uint32_t)cases[i].len);
		assert_class(cases[i].name, &r, cases[i].cls, cases[i].key);
		assert_ip(&r, 6, 0);
	}
	r = classify_copy(DLT_IPV6, ip6_chain_tcp, sizeof(ip6_chain_tcp));
	assert_int_equal(r.tcpk, TCPK_SYN);
}

/* An extension header longer than the packet's payload: malformed. */
static void
test_ip6_exthdr_overrun(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	/* Routing header claims (255 + 1) * 8 bytes, 32 are there. */
	f.len = 0;
	frame_cat(&f, ip6_rt_udp, sizeof(ip6_rt_udp));
	f.b[40 + 1] = 0xff;
	r = classify_frame(DLT_IPV6, &f);
	assert_class("routing overrun", &r, CLASS_MALFORMED, 0);
	/* Payload length 8 ends the packet inside the 24-byte AH. */
	f.len = 0;
	frame_cat(&f, ip6_ah_udp, sizeof(ip6_ah_udp));
	f.b[IP6_PLEN_OFF + 1] = 8;
	r = classify_frame(DLT_IPV6, &f);
	assert_class("ah past plen", &r, CLASS_MALFORMED, 0);
}

/*
 * ICMP errors quote the offending packet's IP and transport headers; the
 * key is the ICMP type, never a quoted port.
 */
static void
test_icmp_errors(void **state)
{
	const struct link *l = link_find("en10mb v4");
	struct frame f;
	struct result r;

	(void)state;
	frame_make(&f, l, ip4_icmp_unreach_tcp, sizeof(ip4_icmp_unreach_tcp));
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("unreach tcp", &r, CLASS_ICMP, 3);
	assert_ip(&r, 4, 14);
	frame_make(&f, l, ip4_icmp_unreach_udp, sizeof(ip4_icmp_unreach_udp));
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("unreach udp", &r, CLASS_ICMP, 3);
	/* Time exceeded (11) quoting the same datagram. */
	f.b[14 + 20] = 11;
	f.b[14 + 21] = 0;
	r = classify_frame(DLT_EN10MB, &f);
	assert_class("time exceeded", &r, CLASS_ICMP, 11);
}

static void
test_icmp6_types(void **state)
{
	static const uint8_t types[] = {1, 3, 128, 129, 135, 136, 255, 0};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		f.len = 0;
		frame_cat(&f, ip6_icmp6_echo, sizeof(ip6_icmp6_echo));
		f.b[40] = types[i];
		r = classify_frame(DLT_IPV6, &f);
		assert_class("icmp6", &r, CLASS_ICMP6, types[i]);
	}
}

/*
 * Tunnels and other protocols are "other" with no key, even when the
 * bytes after the IP header look like ports.  So are ICMPv6 in IPv4
 * and ICMP in IPv6, which no stack accepts.
 */
static void
test_other_protocols(void **state)
{
	static const uint8_t v4[] = {2, 4, 41, 47, 50, 51, 58, 132, 255};
	static const uint8_t v6[] = {1, 2, 4, 41, 47, 50, 59, 103, 132};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v4); i++) {
		f.len = 0;
		frame_cat(&f, ip4_udp, sizeof(ip4_udp));
		f.b[IP4_PROTO_OFF] = v4[i];
		r = classify_frame(DLT_RAW, &f);
		assert_class("v4 other", &r, CLASS_OTHER, 0);
		assert_ip(&r, 4, 0);
	}
	for (i = 0; i < sizeof(v6); i++) {
		f.len = 0;
		frame_cat(&f, ip6_udp, sizeof(ip6_udp));
		f.b[IP6_NH_OFF] = v6[i];
		r = classify_frame(DLT_RAW, &f);
		assert_class("v6 other", &r, CLASS_OTHER, 0);
		assert_ip(&r, 6, 0);
	}
	r = classify_copy(DLT_IPV4, ip4_gre, sizeof(ip4_gre));
	assert_class("gre", &r, CLASS_OTHER, 0);
	/* ICMP (1) after an IPv6 extension header is still not ICMPv6. */
	f.len = 0;
	frame_cat(&f, ip6_hbh_udp, sizeof(ip6_hbh_udp));
	f.b[40] = 1;
	r = classify_frame(DLT_IPV6, &f);
	assert_class("icmp after hbh", &r, CLASS_OTHER, 0);
}

static void
test_tcp_kinds(void **state)
{
	static const struct {
		uint8_t flags;
		int kind;
	} cases[] = {
	    {0x02, TCPK_SYN}, /* SYN */
	    {0x03, TCPK_SYN}, /* SYN FIN: SYN without ACK */
	    {0x12, TCPK_SYNACK}, /* backscatter */
	    {0x04, TCPK_RST}, {0x14, TCPK_RST}, /* RST ACK */
	    {0x10, TCPK_OTHER}, /* ACK */
	    {0x11, TCPK_OTHER}, /* FIN ACK */
	    {0x01, TCPK_OTHER}, /* FIN scan */
	    {0x00, TCPK_OTHER}, /* null scan */
	    {0x29, TCPK_OTHER}, /* Xmas: FIN PSH URG */
	};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		f.len = 0;
		frame_cat(&f, ip4_tcp_syn, sizeof(ip4_tcp_syn));
		f.b[20 + TCP_FLAGS_OFF] = cases[i].flags;
		r = classify_frame(DLT_RAW, &f);
		assert_class("tcp flags", &r, CLASS_TCP, 445);
		assert_int_equal(r.tcpk, cases[i].kind);
		f.len = 0;
		frame_cat(&f, ip6_tcp_syn, sizeof(ip6_tcp_syn));
		f.b[40 + TCP_FLAGS_OFF] = cases[i].flags;
		r = classify_frame(DLT_RAW, &f);
		assert_class("tcp6 flags", &r, CLASS_TCP, 445);
		assert_int_equal(r.tcpk, cases[i].kind);
	}
}

/* The port is counted from 4 bytes; the flags need 14. */
static void
test_tcp_flags_not_captured(void **state)
{
	struct result r;
	uint32_t len;

	(void)state;
	for (len = 20 + 4; len <= 20 + 13; len++) {
		r = classify_copy(DLT_RAW, ip4_tcp_syn, len);
		assert_class("tcp short", &r, CLASS_TCP, 445);
		assert_int_equal(r.tcpk, TCPK_OTHER);
	}
	r = classify_copy(DLT_RAW, ip4_tcp_syn, 20 + 14);
	assert_int_equal(r.tcpk, TCPK_SYN);
	/* The total length, not only caplen, bounds the flags. */
	r = classify_copy(DLT_RAW, ip4_tcp_syn, sizeof(ip4_tcp_syn));
	assert_int_equal(r.tcpk, TCPK_SYN);
}

/*
 * The outer header's addresses, whatever the link and however deep the
 * IPv6 extension chain: never the addresses an ICMP error quotes.
 */
static void
test_addresses(void **state)
{
	static const uint8_t s4[] = {0xc6, 0x33, 0x64, 0x07};
	static const uint8_t d4[] = {0xc0, 0x00, 0x02, 0x01};
	static const uint8_t s6[] = {IP6_SRC};
	static const uint8_t d6[] = {IP6_DST};
	const struct link *l = link_find("triple v6");
	struct frame f;
	classify_fn fn;
	struct pkt pk;

	(void)state;
	fn = classify_for_linktype(DLT_EN10MB);
	frame_make(&f, l, ip6_chain_tcp, sizeof(ip6_chain_tcp));
	fn(f.b, f.len, &pk);
	assert_int_equal(pk.family, 6);
	assert_ptr_equal(pk.src, f.b + 26 + IP6_SRC_OFF);
	assert_ptr_equal(pk.dst, f.b + 26 + IP6_DST_OFF);
	assert_memory_equal(pk.src, s6, sizeof(s6));
	assert_memory_equal(pk.dst, d6, sizeof(d6));
	fn = classify_for_linktype(DLT_LINUX_SLL2);
	frame_make(&f, link_find("sll2 802.1q v4"), ip4_icmp_unreach_tcp,
	    sizeof(ip4_icmp_unreach_tcp));
	fn(f.b, f.len, &pk);
	assert_int_equal(pk.family, 4);
	assert_ptr_equal(pk.src, f.b + 24 + IP4_SRC_OFF);
	assert_ptr_equal(pk.dst, f.b + 24 + IP4_DST_OFF);
	/* The outer addresses, not the quoted packet's. */
	assert_memory_equal(pk.src, s4, sizeof(s4));
	assert_memory_equal(pk.dst, d4, sizeof(d4));
	/* A fragment has addresses though no key. */
	fn = classify_for_linktype(DLT_IPV6);
	fn(ip6_frag_later, sizeof(ip6_frag_later), &pk);
	assert_int_equal(pk.cls, CLASS_FRAGMENT);
	assert_memory_equal(pk.src, s6, sizeof(s6));
	assert_memory_equal(pk.dst, d6, sizeof(d6));
	/* Not IP: no addresses at all. */
	fn = classify_for_linktype(DLT_EN10MB);
	fn(arp_eth, sizeof(arp_eth), &pk);
	assert_null(pk.src);
	assert_null(pk.dst);
}

struct trunc {
	const char *name;
	int dlt;
	const char *link; /* a links[] name, or NULL */
	const uint8_t *ip;
	size_t iplen;
	size_t pad; /* zero bytes of link padding after */
	uint32_t need; /* first length that is not malformed */
	int cls;
	unsigned key;
	uint32_t flags_at; /* TCP: first length with the flags */
};

#define TR(name, dlt, link, ip, pad, need, cls, key, flags_at) \
	{ \
		name, dlt, link, ip, sizeof(ip), pad, need, cls, key, flags_at \
	}

/*
 * Each need is the link header, the IP header and any extension headers,
 * plus 4 transport bytes for the keyed classes.
 */
static const struct trunc truncs[] = {
    TR("eth tcp", DLT_EN10MB, "en10mb v4", ip4_tcp_syn, 0, 14 + 20 + 4,
	CLASS_TCP, 445, 14 + 20 + 14),
    TR("eth udp padded", DLT_EN10MB, "en10mb v4", ip4_udp, 18, 14 + 20 + 4,
	CLASS_UDP, 53, 0),
    TR("eth arp", DLT_EN10MB, NULL, arp_eth, 0, 14, CLASS_NONIP, 0, 0),
    TR("802.1q udp6", DLT_EN10MB, "802.1q v6", ip6_udp, 0, 18 + 40 + 4,
	CLASS_UDP, 53, 0),
    TR("triple chain", DLT_EN10MB, "triple v6", ip6_chain_tcp, 0,
	26 + 40 + 72 + 4, CLASS_TCP, 445, 26 + 40 + 72 + 14),
    TR("802.1ad frag0", DLT_EN10MB, "802.1ad v6", ip6_frag0_udp, 0,
	22 + 40 + 8 + 4, CLASS_UDP, 53, 0),
    TR("sll unreach", DLT_LINUX_SLL, "sll v4", ip4_icmp_unreach_tcp, 0,
	16 + 20 + 4, CLASS_ICMP, 3, 0),
    TR("sll routing", DLT_LINUX_SLL, "sll v6", ip6_rt_udp, 0, 16 + 40 + 24 + 4,
	CLASS_UDP, 53, 0),
    TR("sll2 vlan opts", DLT_LINUX_SLL2, "sll2 802.1q v4", ip4_opts15_udp, 0,
	24 + 60 + 4, CLASS_UDP, 53, 0),
    TR("sll2 icmp6", DLT_LINUX_SLL2, "sll2 v6", ip6_icmp6_echo, 0, 20 + 40 + 4,
	CLASS_ICMP6, 128, 0),
    TR("raw v4 fragment", DLT_RAW, NULL, ip4_frag_later, 0, 20, CLASS_FRAGMENT,
	0, 0),
    TR("raw v6 fragment", DLT_RAW, NULL, ip6_frag_later, 0, 40 + 8,
	CLASS_FRAGMENT, 0, 0),
    TR("ipv4 gre", DLT_IPV4, NULL, ip4_gre, 0, 20, CLASS_OTHER, 0, 0),
    TR("ipv6 ah", DLT_IPV6, NULL, ip6_ah_udp, 0, 40 + 24 + 4, CLASS_UDP, 53, 0),
    TR("null hbh", DLT_NULL, "null le inet6 30", ip6_hbh_udp, 0, 4 + 40 + 8 + 4,
	CLASS_UDP, 53, 0),
    TR("null be icmp", DLT_NULL, "null be inet", ip4_icmp_echo, 0, 4 + 20 + 4,
	CLASS_ICMP, 8, 0),
    TR("loop udp", DLT_LOOP, "loop inet", ip4_udp, 0, 4 + 20 + 4, CLASS_UDP, 53,
	0),
    TR("loop dstopts", DLT_LOOP, "loop inet6 24", ip6_dst_udp, 0,
	4 + 40 + 8 + 4, CLASS_UDP, 53, 0),
    TR("loop tcp6", DLT_LOOP, "loop inet6 28", ip6_tcp_syn, 0, 4 + 40 + 4,
	CLASS_TCP, 445, 4 + 40 + 14),
};

static void
trunc_frame(const struct trunc *t, struct frame *f)
{
	f->len = 0;
	if (t->link != NULL) {
		const struct link *l = link_find(t->link);

		frame_cat(f, l->hdr, l->len);
	}
	frame_cat(f, t->ip, t->iplen);
	assert_true(f->len + t->pad <= sizeof(f->b));
	memset(f->b + f->len, 0, t->pad);
	f->len += (uint32_t)t->pad;
}

/*
 * Every way a header can be cut short: each prefix of each frame, from
 * 0 bytes to all of it, in a buffer that ends where the capture does.
 */
static void
test_every_truncation(void **state)
{
	struct frame f;
	struct result r;
	uint32_t len;
	size_t i;
	int kind;

	(void)state;
	for (i = 0; i < NITEMS(truncs); i++) {
		const struct trunc *t = &truncs[i];

		trunc_frame(t, &f);
		assert_true(t->need <= f.len);
		for (len = 0; len <= f.len; len++) {
			r = classify_copy(t->dlt, f.b, len);
			if (len < t->need) {
				if (r.cls != CLASS_MALFORMED)
					print_message("%s: len %u\n", t->name,
					    len);
				assert_class(t->name, &r, CLASS_MALFORMED, 0);
				continue;
			}
			if (r.cls != t->cls)
				print_message("%s: len %u\n", t->name, len);
			assert_class(t->name, &r, t->cls, t->key);
			if (t->cls != CLASS_TCP)
				continue;
			kind = len >= t->flags_at ? TCPK_SYN : TCPK_OTHER;
			assert_int_equal(r.tcpk, kind);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linktypes_supported),
	    cmocka_unit_test(test_every_link),
	    cmocka_unit_test(test_version_mismatch),
	    cmocka_unit_test(test_raw_bad_version),
	    cmocka_unit_test(test_nonip),
	    cmocka_unit_test(test_ip4_options),
	    cmocka_unit_test(test_ip4_bad_lengths),
	    cmocka_unit_test(test_ip4_totlen_bounds),
	    cmocka_unit_test(test_ethernet_padding),
	    cmocka_unit_test(test_ip4_fragments),
	    cmocka_unit_test(test_ip6_exthdrs),
	    cmocka_unit_test(test_ip6_exthdr_overrun),
	    cmocka_unit_test(test_icmp_errors),
	    cmocka_unit_test(test_icmp6_types),
	    cmocka_unit_test(test_other_protocols),
	    cmocka_unit_test(test_tcp_kinds),
	    cmocka_unit_test(test_tcp_flags_not_captured),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Classify one captured frame: unwrap the link layer, find the IP header
 * and put the packet in exactly one class, with its destination port or
 * ICMP type as key for the keyed classes (doc/CONTRACTS.md contract 1).
 * Pure and bounded: reads nothing past caplen and allocates nothing.  src
 * and dst point into the caller's frame.
 */
#ifndef TEITEN_CLASSIFY_H
#define TEITEN_CLASSIFY_H

#include <stdint.h>

/* The first four are keyed and equal to enum proto in common/proto.h. */
enum pkt_class {
	CLASS_TCP,
	CLASS_UDP,
	CLASS_ICMP,
	CLASS_ICMP6,
	CLASS_FRAGMENT, /* non-first IP fragment: no transport header */
	CLASS_OTHER, /* another IP protocol, tunnels included */
	CLASS_NONIP, /* ARP, LLC and everything not IPv4/IPv6 */
	CLASS_MALFORMED, /* cut short or impossible header */
	CLASS_UNMONITORED, /* set by the counter, never by classify */
	CLASS_COUNT
};

/* TCP segments by flags, for statistics only. */
enum tcp_kind {
	TCPK_SYN, /* SYN without ACK */
	TCPK_SYNACK,
	TCPK_RST,
	TCPK_OTHER, /* anything else, or flags not captured */
	TCPK_COUNT
};

struct pkt {
	uint8_t cls; /* enum pkt_class */
	uint8_t tcpk; /* enum tcp_kind when cls is TCP */
	uint8_t family; /* 4 or 6 when src and dst are set, else 0 */
	uint16_t key; /* port or type for keyed classes */
	/* Outer IP header's addresses (4 or 16 bytes), or both NULL. */
	const uint8_t *src;
	const uint8_t *dst;
};

typedef void (*classify_fn)(const uint8_t *, uint32_t caplen, struct pkt *);

/* The classifier for a pcap DLT_ value, or NULL if it is not supported. */
classify_fn classify_for_linktype(int dlt);
const char *classify_class_name(enum pkt_class);
const char *classify_tcpk_name(enum tcp_kind);

#endif

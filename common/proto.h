/*
 * The four keyed protocols and their names.  The enum order is the output
 * order of doc/CONTRACTS.md contract 3 (tcp, udp, icmp, icmp6); the number
 * of keys per protocol bounds the fixed-size count arrays.
 */
#ifndef TEITEN_PROTO_H
#define TEITEN_PROTO_H

enum proto { PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMP6, PROTO_COUNT };

/* Keys per protocol: 65536 ports, or 256 ICMP types. */
static inline unsigned
proto_nkeys(enum proto p)
{
	return p <= PROTO_UDP ? 65536 : 256;
}

const char *proto_name(enum proto);
/* Returns the protocol named, or -1. */
int proto_from_name(const char *);

#endif

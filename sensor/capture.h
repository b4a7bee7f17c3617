/*
 * Opening a capture: a live interface (non-blocking, so the event loop and
 * its timer decide when intervals close) or a pcap/pcapng file ("-" is
 * standard input), then its BPF filter.  Errors come back as one line in
 * err; the caller owns the returned handle and closes it with pcap_close().
 */
#ifndef TEITEN_CAPTURE_H
#define TEITEN_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

/* libpcap's cumulative 32-bit drop counters. */
struct capture_drops {
	uint32_t kernel, iface;
};

struct capture_opts {
	const char *iface;
	unsigned snaplen;
	unsigned bufsize; /* kernel buffer, bytes */
	int promisc;
	int timeout_ms; /* how long the kernel may hold packets */
	int inbound_only; /* not the host's own outgoing packets */
};

pcap_t *capture_open_live(const struct capture_opts *, char *err, size_t);
pcap_t *capture_open_file(const char *path, char *err, size_t);
int capture_set_filter(pcap_t *, const char *expr, char *err, size_t);
/*
 * Packets dropped since *last, which is updated; the counters are 32-bit
 * and wrap, so the difference is taken in 32 bits.  -1 if unavailable.
 */
int capture_drops(pcap_t *, struct capture_drops *last, uint64_t *drops);

#endif

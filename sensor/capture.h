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

struct capture_opts {
	const char *iface;
	unsigned snaplen;
	unsigned bufsize; /* kernel buffer, bytes */
	int promisc;
	int timeout_ms; /* how long the kernel may hold packets */
};

pcap_t *capture_open_live(const struct capture_opts *, char *err, size_t);
pcap_t *capture_open_file(const char *path, char *err, size_t);
int capture_set_filter(pcap_t *, const char *expr, char *err, size_t);
/* Packets the kernel or interface dropped since the capture opened. */
int capture_drops(pcap_t *, uint64_t *);

#endif

/*
 * Opening a capture: a live interface (non-blocking, so the event loop and
 * its timer decide when intervals close) or a pcap/pcapng file ("-" is
 * standard input), then its BPF filter.  Errors come back as one line in
 * err; the caller owns the returned handle and closes it with pcap_close().
 *
 * Reading it: capture_read() owns the pcap callback and hands each frame
 * straight to the classifier and the tally, as pflogd's loop hands packets
 * to its dumper; the two loops that read (the file's in main.c, the live
 * one in live.c) call down into it, and nothing calls back into main.c.
 */
#ifndef TEITEN_CAPTURE_H
#define TEITEN_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "classify.h"
#include "pcapfile.h"
#include "tally.h"

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
 * The direct reader (pcapfile.h) of the file libpcap has opened as p, with
 * p's filter expression compiled for it, when the file is a classic pcap
 * file that it reads as libpcap would; else NULL, and the file is read
 * through p.  It reads p's own descriptor, open before privileges are
 * dropped; p must stay open while it is used.
 */
struct pcapfile *capture_open_direct(pcap_t *p, const char *expr);
/*
 * Classify every frame ready to be read (live) or the whole file, and
 * count it in the tally at its timestamp plus offset seconds (the test
 * clock, live.c).  Returns the frames read, or PCAP_ERROR.
 */
int capture_read(pcap_t *, classify_fn, struct tally *, int64_t offset);
/*
 * capture_read() of a whole file, telling progress (unless NULL) how far
 * it is as pcapfile_read() does; bytes are UINT64_MAX when the stream
 * cannot say (a pipe).
 */
int capture_read_file(pcap_t *, classify_fn, struct tally *, int64_t offset,
    pcapfile_progress_fn progress, void *arg);
/*
 * Packets dropped since *last, which is updated; the counters are 32-bit
 * and wrap, so the difference is taken in 32 bits.  -1 if unavailable.
 */
int capture_drops(pcap_t *, struct capture_drops *last, uint64_t *drops);

#endif

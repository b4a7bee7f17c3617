/*
 * A classic pcap file read without libpcap's record-by-record reading: the
 * file is read in large pieces (pread), and each record goes straight to
 * the classifier and the tally.  Only what it fully understands is taken
 * (classic pcap, micro- or nanosecond, either byte order, a link type the
 * classifier knows); for anything else pcapfile_open_fd() and
 * pcapfile_open_mem() return NULL and the caller reads through libpcap.
 * Records are taken, cut short and refused exactly as libpcap 1.10's
 * sf-pcap.c takes them, with its error messages.  The caller owns the
 * returned reader and closes it with pcapfile_close(); a buffer given to
 * pcapfile_open_mem() must outlive it.
 */
#ifndef TEITEN_PCAPFILE_H
#define TEITEN_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "classify.h"
#include "tally.h"

#define PCAPFILE_HDR_LEN 24
#define PCAPFILE_REC_LEN 16

/* The global header, as libpcap reads it (only the fields we act on). */
struct pcapfile_hdr {
	int swapped; /* written in the other byte order */
	int nsec; /* nanosecond timestamps */
	int lenswap; /* enum pcapfile_lenswap: old files swap caplen, len */
	int dlt; /* the DLT_ value of the file's link type */
	uint32_t snapshot; /* as libpcap adjusts it: 1 to INT_MAX */
};

enum pcapfile_lenswap {
	PCAPFILE_LEN_NOT_SWAPPED,
	PCAPFILE_LEN_MAYBE_SWAPPED, /* 2.3: caplen > len means swapped */
	PCAPFILE_LEN_SWAPPED, /* before 2.3, and DG/UX's 543.0 */
};

/*
 * 0 if buf starts with a global header the direct reader handles, filled
 * into h; -1 otherwise (another format, a version or link type it leaves
 * to libpcap, or fewer than PCAPFILE_HDR_LEN bytes).
 */
int pcapfile_parse(const uint8_t *buf, size_t len, struct pcapfile_hdr *h);

struct pcapfile;

/*
 * Read the regular file open on fd, from its start whatever the file
 * offset (which stays where it is), to its end, as libpcap does.  NULL if
 * it is not a regular file or is not one pcapfile_parse() takes; the
 * descriptor stays the caller's and must stay open until
 * pcapfile_close().
 */
struct pcapfile *pcapfile_open_fd(int fd);
struct pcapfile *pcapfile_open_mem(const uint8_t *buf, size_t len);
void pcapfile_close(struct pcapfile *);
const struct pcapfile_hdr *pcapfile_header(const struct pcapfile *);
/*
 * Apply prog (compiled for this file's link type and snapshot length) to
 * each record, as pcap_setfilter() would; the reader takes it over and
 * frees it with pcap_freecode().
 */
void pcapfile_set_filter(struct pcapfile *, struct bpf_program *prog);
/*
 * Classify every record, or every one the filter passes, and count it in
 * the tally at its timestamp's seconds plus offset.  Returns the records
 * counted, or -1 when a record is damaged or cut short: those before it
 * are counted, as libpcap counts them, and pcapfile_geterr() says what
 * libpcap would say.  A file that ends before the size it had when
 * opened (another process cut it short while it was read: a rotation, a
 * cleaner) is read up to its new end, as libpcap would read it, and is
 * an error: "truncated while being read (N bytes when opened, M at the
 * end)", then libpcap's words for the cut record, if any.  Reading never
 * faults on such a file (it is not mapped).
 */
int64_t
pcapfile_read(struct pcapfile *, classify_fn, struct tally *, int64_t offset);
const char *pcapfile_geterr(const struct pcapfile *);
/*
 * How far a reading of a whole file has gone: bytes of the file taken
 * (up to the next record) and records counted (those the filter passes),
 * given every few MiB of the file, when the reader reads the next piece,
 * and once at the end; so the clock is looked at seldom (see
 * sensor/main.c), and the loop does no work of its own for it.  When it
 * is called, the reader has read less than PCAPFILE_AHEAD bytes of the
 * file past those it reports.  capture_read_file() gives the same every
 * PCAPFILE_PROGRESS_EVERY records.
 */
#define PCAPFILE_PROGRESS_EVERY 65536
#define PCAPFILE_AHEAD (1u << 20)
typedef void (
    *pcapfile_progress_fn)(void *arg, uint64_t bytes, uint64_t records);
void pcapfile_set_progress(struct pcapfile *, pcapfile_progress_fn, void *);

#endif

/*
 * The direct reader of classic pcap files; see pcapfile.h.  Each rule
 * below that decides how a record is taken follows libpcap 1.10's
 * sf-pcap.c (pcap_check_header, pcap_next_packet), so that the counts and
 * the error of a damaged file are the ones the libpcap path gives.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/dlt.h>

#include "pcapfile.h"
#include "xmalloc.h"

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
/*
 * libpcap's MAXIMUM_SNAPLEN, its largest sane record for every link type
 * the classifier knows (max_snaplen_for_dlt() is larger only for D-Bus,
 * EBHSCR and USBPcap).
 */
#define PCAP_MAX_SNAPLEN 262144u
/*
 * A file is read in pieces of CHUNK bytes into a buffer that holds the
 * largest record: small enough to stay in the CPU's cache while its
 * records are classified (read() copies from the page cache faster than
 * touching a mapping of it, and a file cut short by another process is a
 * short read, not a SIGBUS; see doc/BENCHMARKS.md).
 */
#define CHUNK (256u << 10)
#define BUF_LEN (CHUNK + PCAPFILE_REC_LEN + PCAP_MAX_SNAPLEN)
_Static_assert(BUF_LEN <= PCAPFILE_AHEAD, "read past what pcapfile.h says");
/* How often the progress callback hears from a reading of a file. */
#define PROGRESS_STEP (4u << 20)

struct pcapfile {
	struct pcapfile_hdr h;
	int fd; /* -1: the whole file is in mem */
	uint8_t *buf; /* BUF_LEN bytes, reading fd */
	const uint8_t *win; /* buf, or the caller's buffer */
	size_t have; /* bytes in win */
	size_t pos; /* next record, in win */
	uint64_t woff; /* the file offset of win[0] */
	uint64_t opened; /* the file's size when opened */
	uint64_t next_progress; /* file offset of the next call */
	uint64_t records; /* counted so far, for the progress */
	int sec_signed; /* seconds past 2^31 are negative (see below) */
	struct bpf_program filter; /* bf_insns NULL: none */
	pcapfile_progress_fn progress; /* or NULL */
	void *progress_arg;
	char err[PCAP_ERRBUF_SIZE];
};

/*
 * File link types (LINKTYPE_*) to DLT_ values, for the link types the
 * classifier knows, in their canonical LINKTYPE_ numbers only; the
 * numbering quirks of other systems are left to libpcap.
 */
static const struct {
	uint32_t linktype;
	int dlt;
} pcapfile_linktypes[] = {
    {0, DLT_NULL},
    {1, DLT_EN10MB},
    {101, DLT_RAW},
    {108, DLT_LOOP},
    {113, DLT_LINUX_SLL},
    {228, DLT_IPV4},
    {229, DLT_IPV6},
    {276, DLT_LINUX_SLL2},
};

static inline uint32_t
get32(const uint8_t *p, int swapped)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

static inline uint16_t
get16(const uint8_t *p, int swapped)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap16(v) : v;
}

static int
pcapfile_dlt(uint32_t linktype)
{
	size_t i;

	for (i = 0;
	     i < sizeof(pcapfile_linktypes) / sizeof(pcapfile_linktypes[0]);
	     i++)
		if (pcapfile_linktypes[i].linktype == linktype)
			return pcapfile_linktypes[i].dlt;
	return -1;
}

/* Versions 2.0 to 2.4 and DG/UX's 543.0, as libpcap takes them. */
static int
pcapfile_version(uint16_t major, uint16_t minor, struct pcapfile_hdr *h)
{
	if (major == 2 && minor <= 4) {
		if (minor < 3)
			h->lenswap = PCAPFILE_LEN_SWAPPED;
		else if (minor == 3)
			h->lenswap = PCAPFILE_LEN_MAYBE_SWAPPED;
		else
			h->lenswap = PCAPFILE_LEN_NOT_SWAPPED;
		return 0;
	}
	if (major == 543 && minor == 0) {
		h->lenswap = PCAPFILE_LEN_SWAPPED;
		return 0;
	}
	return -1;
}

int
pcapfile_parse(const uint8_t *buf, size_t len, struct pcapfile_hdr *h)
{
	uint32_t magic, linktype, snaplen;

	if (len < PCAPFILE_HDR_LEN)
		return -1;
	memset(h, 0, sizeof(*h));
	magic = get32(buf, 0);
	if (magic != MAGIC_USEC && magic != MAGIC_NSEC) {
		magic = __builtin_bswap32(magic);
		/* Kuznetzov's patched format and pcapng stay with libpcap. */
		if (magic != MAGIC_USEC && magic != MAGIC_NSEC)
			return -1;
		h->swapped = 1;
	}
	h->nsec = magic == MAGIC_NSEC;
	if (pcapfile_version(get16(buf + 4, h->swapped),
		get16(buf + 6, h->swapped), h) == -1)
		return -1;
	snaplen = get32(buf + 16, h->swapped);
	linktype = get32(buf + 20, h->swapped);
	/*
	 * The upper six bits say how long a frame check sequence is; libpcap
	 * keeps them for the filter compiler and classification ignores them.
	 */
	if ((h->dlt = pcapfile_dlt(linktype & 0x03ffffffu)) == -1 ||
	    classify_for_linktype(h->dlt) == NULL)
		return -1;
	/* pcap_adjust_snapshot(): a bogus length means the largest. */
	if (snaplen == 0 || snaplen > INT_MAX)
		snaplen = PCAP_MAX_SNAPLEN;
	h->snapshot = snaplen;
	return 0;
}

/*
 * Before 1.10.5, libpcap read the seconds of a record as a signed 32-bit
 * number, and as unsigned when it swapped their bytes (its SWAPLONG casts
 * to unsigned); from 1.10.5 on they are unsigned, as the format says.
 * Which libpcap runs decides, so that both readers agree past 2038 and
 * on damaged files.  A version string we cannot read is a newer one.
 */
static int
pcapfile_old_libpcap(void)
{
	const char *v = strstr(pcap_lib_version(), "version ");
	int major, minor, micro;

	if (v == NULL ||
	    sscanf(v, "version %d.%d.%d", &major, &minor, &micro) != 3)
		return 0;
	if (major != 1)
		return major < 1;
	return minor < 10 || (minor == 10 && micro < 5);
}

static struct pcapfile *
pcapfile_new(const uint8_t *buf, size_t len)
{
	struct pcapfile_hdr h;
	struct pcapfile *pf;

	if (pcapfile_parse(buf, len, &h) == -1)
		return NULL;
	pf = xcalloc(1, sizeof(*pf));
	pf->h = h;
	pf->fd = -1;
	pf->win = buf;
	pf->have = len;
	pf->pos = PCAPFILE_HDR_LEN;
	pf->opened = len;
	pf->next_progress = PROGRESS_STEP;
	pf->sec_signed = !h.swapped && pcapfile_old_libpcap();
	return pf;
}

struct pcapfile *
pcapfile_open_mem(const uint8_t *buf, size_t len)
{
	return pcapfile_new(buf, len);
}

/* pread() that retries an interrupted call; what it read, or -1. */
static ssize_t
pcapfile_pread(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (off > (uint64_t)INT64_MAX - len)
		return 0;
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n == -1 && errno == EINTR);
	return n;
}

struct pcapfile *
pcapfile_open_fd(int fd)
{
	uint8_t hdr[PCAPFILE_HDR_LEN];
	struct pcapfile *pf;
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    pcapfile_pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    (pf = pcapfile_new(hdr, sizeof(hdr))) == NULL)
		return NULL;
	pf->fd = fd;
	pf->buf = xmalloc(BUF_LEN);
	pf->win = pf->buf;
	pf->have = 0;
	pf->pos = 0;
	pf->woff = PCAPFILE_HDR_LEN;
	pf->opened = (uint64_t)st.st_size;
	return pf;
}

void
pcapfile_close(struct pcapfile *pf)
{
	if (pf == NULL)
		return;
	free(pf->buf);
	if (pf->filter.bf_insns != NULL)
		pcap_freecode(&pf->filter);
	free(pf);
}

const struct pcapfile_hdr *
pcapfile_header(const struct pcapfile *pf)
{
	return &pf->h;
}

void
pcapfile_set_filter(struct pcapfile *pf, struct bpf_program *prog)
{
	if (pf->filter.bf_insns != NULL)
		pcap_freecode(&pf->filter);
	pf->filter = *prog;
	prog->bf_insns = NULL;
	prog->bf_len = 0;
}

const char *
pcapfile_geterr(const struct pcapfile *pf)
{
	return pf->err;
}

void
pcapfile_set_progress(struct pcapfile *pf, pcapfile_progress_fn fn, void *arg)
{
	pf->progress = fn;
	pf->progress_arg = arg;
}

/* Bytes of the file taken so far: those before the next record. */
static uint64_t
pcapfile_done(const struct pcapfile *pf)
{
	return pf->woff + pf->pos;
}

/*
 * The record at the cursor is not all in the buffer: move what there is
 * of it to the front and read the file on after it.  The bytes read, 0 at
 * the end of the file (or of a buffer given whole), -1 on a read error,
 * with its message.  Reading stops only at the end of the file, wherever
 * that is now, as libpcap's does.  The progress is given here, seldom.
 */
static ssize_t
pcapfile_fill(struct pcapfile *pf)
{
	size_t left = pf->have - pf->pos;
	ssize_t n;

	if (pf->fd == -1)
		return 0;
	if (pf->progress != NULL && pcapfile_done(pf) >= pf->next_progress) {
		pf->progress(pf->progress_arg, pcapfile_done(pf), pf->records);
		pf->next_progress = pcapfile_done(pf) + PROGRESS_STEP;
	}
	memmove(pf->buf, pf->buf + pf->pos, left);
	pf->woff += pf->pos;
	pf->pos = 0;
	pf->have = left;
	n = pcapfile_pread(pf->fd, pf->buf + left,
	    BUF_LEN - left < CHUNK ? BUF_LEN - left : CHUNK, pf->woff + left);
	if (n == -1)
		snprintf(pf->err, sizeof(pf->err),
		    "error reading dump file: %s", strerror(errno));
	else
		pf->have += (size_t)n;
	return n;
}

/*
 * A record libpcap refuses or cannot read whole: its message, word for
 * word (pcap_next_packet()).  caplen is after the length swap.
 */
static void
pcapfile_damaged(struct pcapfile *pf, uint32_t caplen, size_t left)
{
	uint32_t snap = pf->h.snapshot;

	if (caplen > PCAP_MAX_SNAPLEN && caplen > snap)
		snprintf(pf->err, sizeof(pf->err),
		    "invalid packet capture length %u, bigger than "
		    "snaplen of %d",
		    caplen, (int)snap);
	else if (caplen > PCAP_MAX_SNAPLEN)
		snprintf(pf->err, sizeof(pf->err),
		    "invalid packet capture length %u, bigger than "
		    "maximum of %u",
		    caplen, PCAP_MAX_SNAPLEN);
	else if (caplen > snap && left < snap)
		snprintf(pf->err, sizeof(pf->err),
		    "truncated dump file; tried to read %d captured bytes, "
		    "only got %zu",
		    (int)snap, left);
	else
		snprintf(pf->err, sizeof(pf->err),
		    "truncated dump file; tried to read %u captured bytes, "
		    "only got %zu",
		    caplen, left);
}

/*
 * The file ended before the size it had when opened: another process
 * cut it short (a rotation, a cleaner) while we read it.  What libpcap
 * would say of its end follows, if it says anything.
 */
static void
pcapfile_shrunk(struct pcapfile *pf)
{
	char was[PCAP_ERRBUF_SIZE];

	snprintf(was, sizeof(was), "%s", pf->err);
	snprintf(pf->err, sizeof(pf->err),
	    "truncated while being read (%ju bytes when opened, %ju at the "
	    "end)%s%.150s",
	    (uintmax_t)pf->opened, (uintmax_t)(pf->woff + pf->have),
	    was[0] != '\0' ? "; " : "", was);
}

/* The record's lengths as libpcap hands them on, for the filter. */
static inline int
pcapfile_pass(const struct pcapfile *pf, const uint8_t *data, uint32_t caplen,
    uint32_t len)
{
	struct pcap_pkthdr ph;

	memset(&ph, 0, sizeof(ph));
	ph.caplen = caplen;
	ph.len = len;
	return pcap_offline_filter(&pf->filter, &ph, data) != 0;
}

/*
 * The captured and original lengths of the record at rec, as libpcap
 * takes them (swapped in the files that swap them).
 */
static inline uint32_t
pcapfile_lens(const struct pcapfile *pf, const uint8_t *rec, uint32_t *len)
{
	uint32_t caplen = get32(rec + 8, pf->h.swapped);

	*len = get32(rec + 12, pf->h.swapped);
	if (pf->h.lenswap == PCAPFILE_LEN_SWAPPED ||
	    (pf->h.lenswap == PCAPFILE_LEN_MAYBE_SWAPPED && caplen > *len)) {
		uint32_t tmp = caplen;

		caplen = *len;
		*len = tmp;
	}
	return caplen;
}

/*
 * Classify and count the records wholly in the buffer, up to one that is
 * not (-2: read on) or that libpcap refuses (-1, with its message).
 */
static int
pcapfile_take(struct pcapfile *pf, classify_fn classify, struct tally *t,
    int64_t offset)
{
	const uint8_t *rec, *data;
	uint32_t caplen, len;
	int64_t sec;
	struct pkt pk;
	size_t left;

	while ((left = pf->have - pf->pos) >= PCAPFILE_REC_LEN) {
		rec = pf->win + pf->pos;
		sec = get32(rec, pf->h.swapped);
		if (pf->sec_signed)
			sec = (int32_t)sec;
		caplen = pcapfile_lens(pf, rec, &len);
		if (caplen > PCAP_MAX_SNAPLEN) {
			pcapfile_damaged(pf, caplen, left - PCAPFILE_REC_LEN);
			return -1;
		}
		if (caplen > left - PCAPFILE_REC_LEN)
			return -2;
		data = rec + PCAPFILE_REC_LEN;
		pf->pos += PCAPFILE_REC_LEN + caplen;
		/* libpcap reads the whole record but hands on the snapshot. */
		if (caplen > pf->h.snapshot)
			caplen = pf->h.snapshot;
		if (pf->filter.bf_insns != NULL &&
		    !pcapfile_pass(pf, data, caplen, len))
			continue;
		classify(data, caplen, &pk);
		tally_packet(t, sec + offset, &pk);
		pf->records++;
	}
	return -2;
}

/*
 * The end of the file, with part of a record after the last one taken,
 * or none: -1 with libpcap's message, or 0.  A file that ended before
 * the size it had when opened is an error too: its tail is lost.
 */
static int
pcapfile_end(struct pcapfile *pf)
{
	size_t left = pf->have - pf->pos;
	uint32_t len;
	int rc = -1;

	if (left == 0)
		rc = 0;
	else if (left < PCAPFILE_REC_LEN) {
		snprintf(pf->err, sizeof(pf->err),
		    "truncated dump file; tried to read %zu header bytes, only "
		    "got %zu",
		    (size_t)PCAPFILE_REC_LEN, left);
		pf->pos = pf->have;
	} else
		pcapfile_damaged(pf, pcapfile_lens(pf, pf->win + pf->pos, &len),
		    left - PCAPFILE_REC_LEN);
	if (pf->fd != -1 && pf->woff + pf->have < pf->opened) {
		pcapfile_shrunk(pf);
		rc = -1;
	}
	return rc;
}

int64_t
pcapfile_read(struct pcapfile *pf, classify_fn classify, struct tally *t,
    int64_t offset)
{
	ssize_t n = 0;
	int rc;

	pf->records = 0;
	while ((rc = pcapfile_take(pf, classify, t, offset)) == -2 &&
	    (n = pcapfile_fill(pf)) > 0)
		;
	if (rc == -2)
		rc = n == 0 ? pcapfile_end(pf) : -1;
	if (pf->progress != NULL)
		pf->progress(pf->progress_arg, pcapfile_done(pf), pf->records);
	return rc == -1 ? -1 : (int64_t)pf->records;
}

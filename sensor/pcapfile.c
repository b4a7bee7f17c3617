/*
 * The direct reader of classic pcap files; see pcapfile.h.  Each rule
 * below that decides how a record is taken follows libpcap 1.10's
 * sf-pcap.c (pcap_check_header, pcap_next_packet), so that the counts and
 * the error of a damaged file are the ones the libpcap path gives.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
/* The mapping read so far is dropped from our memory in steps this big. */
#define DROP_STEP (2u << 20)
#define PREFETCH_AHEAD 1024

struct pcapfile {
	struct pcapfile_hdr h;
	const uint8_t *base;
	size_t size;
	size_t off; /* next record */
	int mapped; /* base is our mapping, to unmap */
	int sec_signed; /* seconds past 2^31 are negative (see below) */
	size_t dropped; /* bytes of the mapping released so far */
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
	pf->base = buf;
	pf->size = len;
	pf->off = PCAPFILE_HDR_LEN;
	pf->sec_signed = !h.swapped && pcapfile_old_libpcap();
	return pf;
}

struct pcapfile *
pcapfile_open_mem(const uint8_t *buf, size_t len)
{
	return pcapfile_new(buf, len);
}

struct pcapfile *
pcapfile_open_fd(int fd)
{
	struct pcapfile *pf;
	struct stat st;
	void *map;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < PCAPFILE_HDR_LEN || (uintmax_t)st.st_size > SIZE_MAX)
		return NULL;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return NULL;
	/* Only a hint for read-ahead: reading works without it. */
	(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	if ((pf = pcapfile_new(map, (size_t)st.st_size)) == NULL) {
		munmap(map, (size_t)st.st_size);
		return NULL;
	}
	pf->mapped = 1;
	return pf;
}

void
pcapfile_close(struct pcapfile *pf)
{
	if (pf == NULL)
		return;
	if (pf->mapped)
		munmap((void *)pf->base, pf->size);
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

/*
 * The pages before the record at the cursor are read and done with; the
 * page cache keeps them, but they would count in our resident size to the
 * end.
 */
static void
pcapfile_drop(struct pcapfile *pf)
{
	size_t upto = pf->off & ~(size_t)(DROP_STEP - 1);

	if (upto <= pf->dropped)
		return;
	/* Only memory use: reading goes on whether or not it works. */
	if (pf->mapped)
		(void)madvise((uint8_t *)pf->base + pf->dropped,
		    upto - pf->dropped, MADV_DONTNEED);
	pf->dropped = upto;
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

int64_t
pcapfile_read(struct pcapfile *pf, classify_fn classify, struct tally *t,
    int64_t offset)
{
	const int sw = pf->h.swapped;
	const uint8_t *rec, *data;
	uint32_t caplen, len, tmp;
	int64_t n = 0, sec;
	struct pkt pk;
	size_t left;

	while ((left = pf->size - pf->off) >= PCAPFILE_REC_LEN) {
		rec = pf->base + pf->off;
		/*
		 * The file streams through the cache once: ask for the
		 * records a few ahead while this one is classified.
		 */
		if (left > PREFETCH_AHEAD)
			__builtin_prefetch(rec + PREFETCH_AHEAD);
		sec = get32(rec, sw);
		if (pf->sec_signed)
			sec = (int32_t)sec;
		caplen = get32(rec + 8, sw);
		len = get32(rec + 12, sw);
		if (pf->h.lenswap == PCAPFILE_LEN_SWAPPED ||
		    (pf->h.lenswap == PCAPFILE_LEN_MAYBE_SWAPPED &&
			caplen > len)) {
			tmp = caplen;
			caplen = len;
			len = tmp;
		}
		left -= PCAPFILE_REC_LEN;
		if (caplen > PCAP_MAX_SNAPLEN || caplen > left) {
			pcapfile_damaged(pf, caplen, left);
			if (pf->progress != NULL)
				pf->progress(pf->progress_arg, pf->off,
				    (uint64_t)n);
			return -1;
		}
		/*
		 * Every DROP_STEP bytes, and only then, the progress too: no
		 * work of its own for each record.
		 */
		if (pf->off - pf->dropped >= 2 * DROP_STEP) {
			pcapfile_drop(pf);
			if (pf->progress != NULL)
				pf->progress(pf->progress_arg, pf->off,
				    (uint64_t)n);
		}
		data = rec + PCAPFILE_REC_LEN;
		pf->off += PCAPFILE_REC_LEN + caplen;
		/* libpcap reads the whole record but hands on the snapshot. */
		if (caplen > pf->h.snapshot)
			caplen = pf->h.snapshot;
		if (pf->filter.bf_insns != NULL &&
		    !pcapfile_pass(pf, data, caplen, len))
			continue;
		classify(data, caplen, &pk);
		tally_packet(t, sec + offset, &pk);
		n++;
	}
	if (left > 0) {
		snprintf(pf->err, sizeof(pf->err),
		    "truncated dump file; tried to read %zu header bytes, only "
		    "got %zu",
		    (size_t)PCAPFILE_REC_LEN, left);
		pf->off = pf->size;
	}
	if (pf->progress != NULL)
		pf->progress(pf->progress_arg, pf->off, (uint64_t)n);
	return left > 0 ? -1 : n;
}

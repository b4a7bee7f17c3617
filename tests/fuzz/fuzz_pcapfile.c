/*
 * libFuzzer target for the direct pcap reader: the input is a whole capture
 * file.  When the direct reader takes it, libpcap reads the same bytes (a
 * memory stream through pcap_fopen_offline) into a second tally, and the
 * two must agree on every interval closed, every gap, the number of
 * records counted and the error, word for word: a difference is a crash.
 * The input is copied to a buffer of exactly its size so that
 * AddressSanitizer sees any read past the end.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "classify.h"
#include "counts.h"
#include "pcapfile.h"
#include "tally.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What a tally emitted, folded into one FNV-1a hash. */
struct digest {
	uint64_t h;
	uint64_t intervals;
};

static void
digest_bytes(struct digest *d, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		d->h = (d->h ^ *b++) * 0x100000001b3ull;
}

static void
digest_key(enum proto p, unsigned key, uint64_t n, void *arg)
{
	digest_bytes(arg, &p, sizeof(p));
	digest_bytes(arg, &key, sizeof(key));
	digest_bytes(arg, &n, sizeof(n));
}

static void
digest_emit(struct counts *c, void *arg)
{
	struct digest *d = arg;

	d->intervals++;
	digest_bytes(d, &c->start, sizeof(c->start));
	digest_bytes(d, &c->t, sizeof(c->t));
	counts_foreach(c, digest_key, d);
}

static void
digest_gap(int64_t start, uint64_t n, uint32_t len, void *arg)
{
	struct digest *d = arg;

	digest_bytes(d, &start, sizeof(start));
	digest_bytes(d, &n, sizeof(n));
	digest_bytes(d, &len, sizeof(len));
}

struct sink {
	classify_fn classify;
	struct tally *t;
	int64_t n;
};

static void
sink_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct sink *k = (struct sink *)user;
	struct pkt pk;

	k->classify(bytes, h->caplen, &pk);
	tally_packet(k->t, h->ts.tv_sec, &pk);
	k->n++;
}

static void
tally_start(struct tally *t, struct digest *d)
{
	d->h = 0xcbf29ce484222325ull;
	d->intervals = 0;
	tally_init(t, 60, NULL, digest_emit, digest_gap, d);
	tally_set_max_gap(t, 86400);
}

/* libpcap's reading of the same bytes: records counted, or -1. */
static int64_t
libpcap_read(uint8_t *buf, size_t size, const struct pcapfile_hdr *h,
    struct digest *d, char *err)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct tally t;
	struct sink k;
	pcap_t *p;
	FILE *f;
	int rc;

	f = fmemopen(buf, size, "rb");
	assert(f != NULL);
	p = pcap_fopen_offline(f, ebuf);
	/* The direct reader took the header: libpcap takes it too. */
	assert(p != NULL);
	assert(pcap_datalink(p) == h->dlt);
	assert(pcap_snapshot(p) == (int)h->snapshot);
	tally_start(&t, d);
	k.classify = classify_for_linktype(h->dlt);
	k.t = &t;
	k.n = 0;
	rc = pcap_dispatch(p, -1, sink_packet, (u_char *)&k);
	tally_finish(&t);
	tally_free(&t);
	if (rc == PCAP_ERROR)
		snprintf(err, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
	pcap_close(p);
	return rc == PCAP_ERROR ? -1 : k.n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char lerr[PCAP_ERRBUF_SIZE] = "";
	struct digest dd, ld;
	struct pcapfile *pf;
	struct tally t;
	int64_t dn, ln;
	uint8_t *buf;

	if (size > (1u << 20))
		return 0;
	buf = malloc(size ? size : 1);
	assert(buf != NULL);
	memcpy(buf, data, size);
	if ((pf = pcapfile_open_mem(buf, size)) == NULL) {
		free(buf);
		return 0;
	}
	tally_start(&t, &dd);
	dn = pcapfile_read(pf, classify_for_linktype(pcapfile_header(pf)->dlt),
	    &t, 0);
	tally_finish(&t);
	tally_free(&t);
	ln = libpcap_read(buf, size, pcapfile_header(pf), &ld, lerr);
	assert(dn == ln);
	assert(dd.h == ld.h && dd.intervals == ld.intervals);
	assert(dn != -1 || strcmp(pcapfile_geterr(pf), lerr) == 0);
	pcapfile_close(pf);
	free(buf);
	return 0;
}

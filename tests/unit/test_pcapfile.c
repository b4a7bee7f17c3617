/*
 * Unit tests for pcapfile, the direct reader of classic pcap files: which
 * global headers it takes (and leaves to libpcap), how records are cut and
 * refused, with libpcap 1.10's messages written out here, the BPF filter,
 * and the timestamps handed to the tally.  Files are built byte by byte;
 * the expectations come from the pcap format (pcap-savefile(5)) and from
 * libpcap's sf-pcap.c, not from the reader.  Files read through a
 * descriptor are written to a scratch directory: large ones, whose
 * records fall across every boundary of the reader's pieces, against
 * libpcap reading the same file, and files cut short by ftruncate()
 * after they were opened or while they are read.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "classify.h"
#include "counts.h"
#include "pcapfile.h"
#include "tally.h"
#include "tmpdir.h"

#define FILE_MAX 4096

/* A file being built, in one byte order. */
struct file {
	uint8_t b[FILE_MAX];
	size_t len;
	int be;
};

static void
put32(struct file *f, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		f->b[f->len++] =
		    (uint8_t)(f->be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void
put16(struct file *f, uint16_t v)
{
	f->b[f->len++] = (uint8_t)(f->be ? v >> 8 : v);
	f->b[f->len++] = (uint8_t)(f->be ? v : v >> 8);
}

static void
header(struct file *f, int be, uint32_t magic, uint16_t major, uint16_t minor,
    uint32_t snaplen, uint32_t linktype)
{
	memset(f, 0, sizeof(*f));
	f->be = be;
	put32(f, magic);
	put16(f, major);
	put16(f, minor);
	put32(f, 0); /* thiszone */
	put32(f, 0); /* sigfigs */
	put32(f, snaplen);
	put32(f, linktype);
}

/* An Ethernet frame of a TCP SYN to port, 54 bytes. */
static size_t
syn(uint8_t *p, uint16_t port)
{
	static const uint8_t eth_ip[] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8,
	    0, 0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 198, 51, 100, 7, 192, 0,
	    2, 1};

	memcpy(p, eth_ip, sizeof(eth_ip));
	memset(p + 34, 0, 20);
	p[34] = 0x9c;
	p[35] = 0x40;
	p[36] = (uint8_t)(port >> 8);
	p[37] = (uint8_t)port;
	p[46] = 0x50;
	p[47] = 0x02; /* SYN */
	return 54;
}

static void
record(struct file *f, uint32_t sec, uint32_t frac, uint32_t caplen,
    uint32_t len, uint16_t port)
{
	uint8_t frame[64];
	size_t n = syn(frame, port);

	put32(f, sec);
	put32(f, frac);
	put32(f, caplen);
	put32(f, len);
	memcpy(f->b + f->len, frame, n);
	f->len += n;
}

/* What the tally emitted: the start and tcp count of each interval. */
struct seen {
	int64_t start[16];
	uint64_t tcp[16];
	uint64_t port[16];
	int n;
	uint16_t probe; /* the port counted in port[] */
};

static void
seen_emit(struct counts *c, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	s->start[s->n] = c->start;
	s->tcp[s->n] = c->t.classes[CLASS_TCP];
	s->port[s->n] = c->key[keyidx(PROTO_TCP, s->probe)];
	s->n++;
}

static void
seen_gap(int64_t start, uint64_t n, uint32_t len, void *arg)
{
	(void)start;
	(void)n;
	(void)len;
	(void)arg;
}

/* Read f through the reader; the result of pcapfile_read(). */
static int64_t
read_all(const struct file *f, struct seen *s, struct pcapfile **out)
{
	struct pcapfile *pf = pcapfile_open_mem(f->b, f->len);
	struct tally t;
	int64_t n;

	assert_non_null(pf);
	tally_init(&t, 60, NULL, seen_emit, seen_gap, s);
	n = pcapfile_read(pf, classify_for_linktype(pcapfile_header(pf)->dlt),
	    &t, 0);
	tally_finish(&t);
	tally_free(&t);
	*out = pf;
	return n;
}

static void
test_headers_taken(void **state)
{
	struct pcapfile_hdr h;
	struct file f;

	(void)state;
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.swapped, 0);
	assert_int_equal(h.nsec, 0);
	assert_int_equal(h.dlt, DLT_EN10MB);
	assert_int_equal(h.snapshot, 65535);
	assert_int_equal(h.lenswap, PCAPFILE_LEN_NOT_SWAPPED);
	header(&f, 1, 0xa1b23c4d, 2, 4, 96, 276);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.swapped, 1);
	assert_int_equal(h.nsec, 1);
	assert_int_equal(h.dlt, DLT_LINUX_SLL2);
	assert_int_equal(h.snapshot, 96);
	/* A bogus snapshot length is libpcap's maximum, 262144. */
	header(&f, 0, 0xa1b2c3d4, 2, 4, 0, 101);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.dlt, DLT_RAW);
	assert_int_equal(h.snapshot, 262144);
	header(&f, 1, 0xa1b2c3d4, 2, 4, 0x80000000u, 0);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.dlt, DLT_NULL);
	assert_int_equal(h.snapshot, 262144);
	/* Old versions: lengths swapped before 2.3, maybe at 2.3. */
	header(&f, 0, 0xa1b2c3d4, 2, 2, 65535, 108);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.lenswap, PCAPFILE_LEN_SWAPPED);
	assert_int_equal(h.dlt, DLT_LOOP);
	header(&f, 0, 0xa1b2c3d4, 2, 3, 65535, 113);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.lenswap, PCAPFILE_LEN_MAYBE_SWAPPED);
	header(&f, 1, 0xa1b2c3d4, 543, 0, 65535, 228);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.lenswap, PCAPFILE_LEN_SWAPPED);
	assert_int_equal(h.dlt, DLT_IPV4);
	/* FCS bits above the link type. */
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 0x30000000u | 229);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), 0);
	assert_int_equal(h.dlt, DLT_IPV6);
}

static void
test_headers_left(void **state)
{
	struct pcapfile_hdr h;
	struct file f;

	(void)state;
	/* pcapng, Kuznetzov's format, unknown magic. */
	header(&f, 0, 0x0a0d0d0a, 0, 0, 0, 0);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	header(&f, 0, 0xa1b2cd34, 2, 4, 65535, 1);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	header(&f, 1, 0xa1b2cd34, 2, 4, 65535, 1);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	/* Versions libpcap refuses. */
	header(&f, 0, 0xa1b2c3d4, 1, 4, 65535, 1);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	header(&f, 0, 0xa1b2c3d4, 2, 5, 65535, 1);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	header(&f, 0, 0xa1b2c3d4, 543, 1, 65535, 1);
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	/* Link types the classifier does not know, or numbered oddly. */
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 105); /* 802.11 */
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 12); /* DLT_RAW's number */
	assert_int_equal(pcapfile_parse(f.b, f.len, &h), -1);
	/* Cut short. */
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	assert_int_equal(pcapfile_parse(f.b, 23, &h), -1);
	assert_null(pcapfile_open_mem(f.b, 23));
}

static void
test_counts(void **state)
{
	struct pcapfile *pf;
	struct seen s = {.probe = 445};
	struct file f;
	int be;

	(void)state;
	for (be = 0; be < 2; be++) {
		memset(&s, 0, sizeof(s));
		s.probe = 445;
		header(&f, be, 0xa1b23c4d, 2, 4, 65535, 1);
		record(&f, 1700000000, 999999999, 54, 54, 445);
		record(&f, 1700000059, 0, 54, 60, 80);
		record(&f, 1700000060, 5, 54, 54, 445);
		assert_int_equal(read_all(&f, &s, &pf), 3);
		assert_int_equal(s.n, 2);
		/* 1700000000 is 20 s into [1699999980, 1700000040). */
		assert_int_equal(s.start[0], 1699999980);
		assert_int_equal(s.tcp[0], 1);
		assert_int_equal(s.port[0], 1);
		assert_int_equal(s.start[1], 1700000040);
		assert_int_equal(s.tcp[1], 2);
		assert_int_equal(s.port[1], 1);
		pcapfile_close(pf);
	}
}

/* The whole of a record of the wrong size is skipped; the rest is read. */
static void
test_truncated(void **state)
{
	struct pcapfile *pf;
	struct seen s = {.probe = 445};
	struct file f;
	size_t full;

	(void)state;
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&f, 1700000000, 0, 54, 54, 445);
	record(&f, 1700000001, 0, 54, 54, 445);
	full = f.len;
	f.len = full - 10;
	assert_int_equal(read_all(&f, &s, &pf), -1);
	assert_string_equal(pcapfile_geterr(pf),
	    "truncated dump file; tried "
	    "to read 54 captured bytes, "
	    "only got 44");
	assert_int_equal(s.n, 1);
	assert_int_equal(s.port[0], 1);
	pcapfile_close(pf);
	memset(&s, 0, sizeof(s));
	f.len = 24 + 70 + 5;
	assert_int_equal(read_all(&f, &s, &pf), -1);
	assert_string_equal(pcapfile_geterr(pf),
	    "truncated dump file; tried "
	    "to read 16 header bytes, "
	    "only got 5");
	assert_int_equal(s.n, 1);
	pcapfile_close(pf);
	memset(&s, 0, sizeof(s));
	f.len = 24 + 70;
	assert_int_equal(read_all(&f, &s, &pf), 1);
	pcapfile_close(pf);
}

static void
test_damaged(void **state)
{
	struct pcapfile *pf;
	struct seen s;
	struct file f;

	(void)state;
	memset(&s, 0, sizeof(s));
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&f, 1700000000, 0, 54, 54, 445);
	record(&f, 1700000001, 0, 262145, 54, 445);
	assert_int_equal(read_all(&f, &s, &pf), -1);
	assert_string_equal(pcapfile_geterr(pf),
	    "invalid packet capture length 262145, bigger than snaplen of "
	    "65535");
	assert_int_equal(s.n, 1);
	pcapfile_close(pf);
	memset(&s, 0, sizeof(s));
	/* Snapshot 0 is 262144, and the record is bigger than that... */
	header(&f, 0, 0xa1b2c3d4, 2, 4, 0, 1);
	record(&f, 1700000000, 0, 300000, 54, 445);
	assert_int_equal(read_all(&f, &s, &pf), -1);
	assert_string_equal(pcapfile_geterr(pf),
	    "invalid packet capture length 300000, bigger than snaplen of "
	    "262144");
	pcapfile_close(pf);
	/* ...but within a snapshot of 10^6 it is only bigger than sane. */
	header(&f, 0, 0xa1b2c3d4, 2, 4, 1000000, 1);
	record(&f, 1700000000, 0, 300000, 54, 445);
	assert_int_equal(read_all(&f, &s, &pf), -1);
	assert_string_equal(pcapfile_geterr(pf),
	    "invalid packet capture length 300000, bigger than maximum of "
	    "262144");
	pcapfile_close(pf);
	/* Past the snapshot but sane: needs caplen bytes, hands on 40. */
	memset(&s, 0, sizeof(s));
	header(&f, 0, 0xa1b2c3d4, 2, 4, 40, 1);
	record(&f, 1700000000, 0, 54, 54, 445);
	f.len -= 10;
	assert_int_equal(read_all(&f, &s, &pf), -1);
	assert_string_equal(pcapfile_geterr(pf),
	    "truncated dump file; tried "
	    "to read 54 captured bytes, "
	    "only got 44");
	pcapfile_close(pf);
	/* Fewer than the snapshot: libpcap's first read of 40 fails. */
	f.len -= 14;
	assert_int_equal(read_all(&f, &s, &pf), -1);
	assert_string_equal(pcapfile_geterr(pf),
	    "truncated dump file; tried "
	    "to read 40 captured bytes, "
	    "only got 30");
	pcapfile_close(pf);
}

/* What the classifier was handed. */
static uint32_t probe_caplen[8];
static int probe_n;

static void
probe_classify(const uint8_t *p, uint32_t caplen, struct pkt *out)
{
	(void)p;
	probe_caplen[probe_n++ % 8] = caplen;
	memset(out, 0, sizeof(*out));
	out->cls = CLASS_NONIP;
}

static void
test_caplen(void **state)
{
	struct pcapfile *pf;
	struct seen s;
	struct tally t;
	struct file f;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* Snapshot 40: a 54-byte record is handed on as 40 bytes. */
	header(&f, 0, 0xa1b2c3d4, 2, 4, 40, 1);
	record(&f, 1700000000, 0, 54, 54, 445);
	/* Version 2.3 with caplen > len: the two were swapped. */
	f.b[6] = 3;
	record(&f, 1700000000, 0, 54, 54, 445);
	f.b[f.len - 54 - 8] = 60; /* caplen 60 > len 54... */
	f.b[f.len - 54 - 4] = 54;
	pf = pcapfile_open_mem(f.b, f.len);
	assert_non_null(pf);
	tally_init(&t, 60, NULL, seen_emit, seen_gap, &s);
	probe_n = 0;
	/* ...so its caplen is 54 and the file ends where it should. */
	assert_int_equal(pcapfile_read(pf, probe_classify, &t, 0), 2);
	tally_finish(&t);
	tally_free(&t);
	assert_int_equal(probe_n, 2);
	assert_int_equal(probe_caplen[0], 40);
	assert_int_equal(probe_caplen[1], 40);
	pcapfile_close(pf);
}

static void
test_filter(void **state)
{
	struct bpf_program prog;
	struct pcapfile *pf;
	struct seen s;
	struct tally t;
	struct file f;
	pcap_t *dead;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.probe = 80;
	header(&f, 1, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&f, 1700000000, 0, 54, 54, 445);
	record(&f, 1700000001, 0, 54, 54, 80);
	record(&f, 1700000002, 0, 54, 54, 80);
	pf = pcapfile_open_mem(f.b, f.len);
	assert_non_null(pf);
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	assert_non_null(dead);
	assert_int_equal(pcap_compile(dead, &prog, "tcp dst port 80", 1,
			     PCAP_NETMASK_UNKNOWN),
	    0);
	pcapfile_set_filter(pf, &prog);
	assert_null(prog.bf_insns);
	tally_init(&t, 60, NULL, seen_emit, seen_gap, &s);
	assert_int_equal(pcapfile_read(pf, classify_for_linktype(DLT_EN10MB),
			     &t, 0),
	    2);
	tally_finish(&t);
	tally_free(&t);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tcp[0], 2);
	assert_int_equal(s.port[0], 2);
	pcapfile_close(pf);
	pcap_close(dead);
}

/* Swapped files: the seconds are unsigned in every libpcap. */
static void
test_seconds(void **state)
{
	struct pcapfile *pf;
	struct seen s;
	struct file f;

	(void)state;
	memset(&s, 0, sizeof(s));
	header(&f, 1, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&f, 0x80000010u, 0, 54, 54, 445);
	assert_int_equal(read_all(&f, &s, &pf), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.start[0], 2147483640);
	pcapfile_close(pf);
}

/*
 * Every truncation of a file read by both readers: libpcap (through a
 * memory stream) is the reference for the packets counted, the intervals
 * closed and the error, word for word.
 */
struct both {
	uint64_t tcp, intervals;
	int64_t last;
};

static void
both_emit(struct counts *c, void *arg)
{
	struct both *b = arg;

	/* Distinct weights: a packet moved between classes shows. */
	b->tcp += c->t.classes[CLASS_TCP] * 1000003u +
	    c->t.classes[CLASS_MALFORMED] + c->t.tcpk[TCPK_SYN] * 1009u;
	b->intervals++;
	b->last = c->start;
}

static void
both_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct tally *t = (struct tally *)user;
	struct pkt pk;

	classify_for_linktype(DLT_EN10MB)(bytes, h->caplen, &pk);
	tally_packet(t, h->ts.tv_sec, &pk);
}

/*
 * The direct reader's result, error and tally (dn, derr, bd) are libpcap's
 * (rc from pcap_dispatch(), lerr, bl).
 */
static void
agree(int64_t dn, const char *derr, const struct both *bd, int rc,
    const char *lerr, const struct both *bl)
{
	assert_int_equal(dn == -1, rc == PCAP_ERROR);
	if (dn == -1)
		assert_string_equal(derr, lerr);
	else
		assert_int_equal(dn, rc);
	assert_int_equal(bd->tcp, bl->tcp);
	assert_int_equal(bd->intervals, bl->intervals);
	assert_int_equal(bd->last, bl->last);
}

static void
truncations(struct file *f)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct both bd, bl;
	struct pcapfile *pf;
	struct tally t;
	int64_t dn;
	size_t n;
	pcap_t *p;
	FILE *mf;
	int rc;

	for (n = 24; n <= f->len; n++) {
		memset(&bd, 0, sizeof(bd));
		memset(&bl, 0, sizeof(bl));
		pf = pcapfile_open_mem(f->b, n);
		assert_non_null(pf);
		tally_init(&t, 60, NULL, both_emit, seen_gap, &bd);
		dn =
		    pcapfile_read(pf, classify_for_linktype(DLT_EN10MB), &t, 0);
		tally_finish(&t);
		tally_free(&t);
		mf = fmemopen(f->b, n, "rb");
		assert_non_null(mf);
		p = pcap_fopen_offline(mf, ebuf);
		assert_non_null(p);
		tally_init(&t, 60, NULL, both_emit, seen_gap, &bl);
		rc = pcap_dispatch(p, -1, both_packet, (u_char *)&t);
		tally_finish(&t);
		tally_free(&t);
		agree(dn, pcapfile_geterr(pf), &bd, rc, pcap_geterr(p), &bl);
		pcap_close(p);
		pcapfile_close(pf);
	}
}

static void
test_every_truncation(void **state)
{
	struct file f;

	(void)state;
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	record(&f, 1700000000, 0, 54, 54, 445);
	record(&f, 1700000030, 0, 40, 54, 80);
	f.len -= 14; /* the second record is 40 bytes of its frame */
	record(&f, 1700000100, 0, 54, 54, 22);
	truncations(&f);
	/* Swapped, nanoseconds, version 2.3, a snapshot below the records. */
	header(&f, 1, 0xa1b23c4d, 2, 3, 40, 1);
	record(&f, 1700000000, 0, 54, 54, 445);
	record(&f, 1700000061, 0, 54, 54, 23);
	truncations(&f);
}

/*
 * A large file, built in memory, of records of many sizes up to libpcap's
 * largest, mostly small ones so that the reader's pieces end in records'
 * headers as often as in their data: the i-th record's caplen, its frame
 * a SYN to port i % 1024 padded with bytes that are not zero.
 */
#define BIG_RECORDS 30000

static uint32_t
big_caplen(int i)
{
	static const uint32_t large[] = {65535, 262144, 200001, 9000, 131071};

	if (i % 600 == 599)
		return large[(i / 600) % 5];
	return 54 + (uint32_t)(i * 7919 % 147);
}

static uint8_t *
big_file(size_t *lenp)
{
	size_t len = 24, off;
	uint8_t *b;
	int i;

	for (i = 0; i < BIG_RECORDS; i++)
		len += 16 + big_caplen(i);
	b = calloc(1, len);
	assert_non_null(b);
	/* Little-endian microseconds, version 2.4, snaplen 262144, Ethernet. */
	memcpy(b, "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8);
	memcpy(b + 16, "\x00\x00\x04\x00\x01\x00\x00\x00", 8);
	for (i = 0, off = 24; i < BIG_RECORDS; i++) {
		uint32_t v[4] = {1700000000u + (uint32_t)i / 20, 0,
		    big_caplen(i), big_caplen(i)};
		int j;

		for (j = 0; j < 16; j++)
			b[off + j] = (uint8_t)(v[j / 4] >> (8 * (j % 4)));
		memset(b + off + 16, 0xa5, big_caplen(i));
		syn(b + off + 16, (uint16_t)(i % 1024));
		off += 16 + big_caplen(i);
	}
	*lenp = len;
	return b;
}

static void
write_file(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* As both_emit(), and every TCP port's count, each with its own weight. */
static void
ports_emit(struct counts *c, void *arg)
{
	struct both *b = arg;
	unsigned p;

	both_emit(c, arg);
	for (p = 0; p < 1024; p++)
		b->tcp += c->key[keyidx(PROTO_TCP, (uint16_t)p)] * (p * 7 + 1) *
		    (uint64_t)(c->start % 7919);
}

/* The file at path read by the direct reader through a descriptor. */
static int64_t
read_fd(const char *path, struct both *b, char *err, size_t errlen)
{
	struct pcapfile *pf;
	struct tally t;
	int64_t n;
	int fd;

	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	pf = pcapfile_open_fd(fd);
	assert_non_null(pf);
	tally_init(&t, 60, NULL, ports_emit, seen_gap, b);
	n = pcapfile_read(pf, classify_for_linktype(DLT_EN10MB), &t, 0);
	tally_finish(&t);
	tally_free(&t);
	snprintf(err, errlen, "%s", pcapfile_geterr(pf));
	pcapfile_close(pf);
	assert_int_equal(close(fd), 0);
	return n;
}

/* The same file through libpcap: its pcap_dispatch() result. */
static int
read_libpcap(const char *path, struct both *b, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct tally t;
	pcap_t *p;
	int rc;

	p = pcap_open_offline(path, ebuf);
	assert_non_null(p);
	tally_init(&t, 60, NULL, ports_emit, seen_gap, b);
	rc = pcap_dispatch(p, -1, both_packet, (u_char *)&t);
	tally_finish(&t);
	tally_free(&t);
	snprintf(err, errlen, "%s", rc == PCAP_ERROR ? pcap_geterr(p) : "");
	pcap_close(p);
	return rc;
}

/*
 * Read through a descriptor, in pieces, the large file gives what libpcap
 * gives for it, whole and cut at lengths that fall in records' headers,
 * in their data and between them, all over the file.
 */
static void
test_fd_pieces(void **state)
{
	char dir[256], path[300], derr[PCAP_ERRBUF_SIZE],
	    lerr[PCAP_ERRBUF_SIZE];
	struct both bd, bl;
	size_t len, cut;
	int64_t dn;
	uint8_t *b;
	int k, rc;

	(void)state;
	assert_int_equal(tmpdir_make(dir, sizeof(dir), "pcapfile"), 0);
	snprintf(path, sizeof(path), "%s/big.pcap", dir);
	b = big_file(&len);
	for (k = 0; k <= 40; k++) {
		/* The whole file first, then ever shorter ones. */
		cut =
		    k == 0 ? len : len - (size_t)k * (len / 41) - (size_t)k * 3;
		write_file(path, b, cut);
		memset(&bd, 0, sizeof(bd));
		memset(&bl, 0, sizeof(bl));
		dn = read_fd(path, &bd, derr, sizeof(derr));
		rc = read_libpcap(path, &bl, lerr, sizeof(lerr));
		if (k == 0)
			assert_int_equal(rc, BIG_RECORDS);
		agree(dn, derr, &bd, rc, lerr, &bl);
	}
	free(b);
	assert_int_equal(tmpdir_remove(dir), 0);
}

/*
 * A file of n records of a 54-byte SYN, 70 bytes each with its header,
 * the i-th at 1700000000 + i / per seconds.
 */
#define SMALL_REC 70

static uint8_t *
small_file(int n, int per, size_t *lenp)
{
	struct file f;
	uint8_t *b;
	int i;

	*lenp = 24 + (size_t)n * SMALL_REC;
	b = malloc(*lenp);
	assert_non_null(b);
	header(&f, 0, 0xa1b2c3d4, 2, 4, 65535, 1);
	memcpy(b, f.b, 24);
	for (i = 0; i < n; i++) {
		f.len = 0;
		record(&f, 1700000000u + (uint32_t)(i / per), 0, 54, 54, 445);
		assert_int_equal(f.len, SMALL_REC);
		memcpy(b + 24 + (size_t)i * SMALL_REC, f.b, SMALL_REC);
	}
	return b;
}

/*
 * What the tally must emit for the first k records of small_file(): the
 * records per 60-second interval, computed here from their timestamps.
 */
static void
small_expect(int k, int per, struct seen *want)
{
	int64_t start;
	int i;

	memset(want, 0, sizeof(*want));
	for (i = 0; i < k; i++) {
		start = (1700000000 + i / per) / 60 * 60;
		if (want->n == 0 || want->start[want->n - 1] != start) {
			/* Consecutive intervals only: per keeps them so. */
			assert_true(want->n == 0 ||
			    want->start[want->n - 1] + 60 == start);
			want->start[want->n++] = start;
		}
		want->tcp[want->n - 1]++;
	}
}

static void
seen_equal(const struct seen *got, const struct seen *want)
{
	int i;

	assert_int_equal(got->n, want->n);
	for (i = 0; i < want->n; i++) {
		assert_int_equal(got->start[i], want->start[i]);
		assert_int_equal(got->tcp[i], want->tcp[i]);
		assert_int_equal(got->port[i], want->tcp[i]);
	}
}

/*
 * Cut short after it was opened, in a record's data, in its header or
 * between records: the records wholly before the cut are counted, and
 * the error says the file shrank (then libpcap's words for the cut).
 */
static void
test_shrunk_before_read(void **state)
{
	static const struct {
		size_t cut; /* bytes into the records */
		const char *tail; /* the error after the shrinking */
	} cuts[] = {
	    {100 * SMALL_REC + 30,
		"; truncated dump file; tried to read 54 captured bytes, "
		"only got 14"},
	    {100 * SMALL_REC + 5,
		"; truncated dump file; tried to read 16 header bytes, only "
		"got 5"},
	    {100 * SMALL_REC, ""},
	    {0, ""},
	};
	char dir[256], path[300], want[PCAP_ERRBUF_SIZE];
	struct seen s, w;
	struct pcapfile *pf;
	struct tally t;
	size_t len, i;
	uint8_t *b;
	int fd;

	(void)state;
	assert_int_equal(tmpdir_make(dir, sizeof(dir), "pcapfile"), 0);
	snprintf(path, sizeof(path), "%s/small.pcap", dir);
	b = small_file(300, 2, &len);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_file(path, b, len);
		assert_int_not_equal(fd = open(path, O_RDONLY), -1);
		pf = pcapfile_open_fd(fd);
		assert_non_null(pf);
		assert_int_equal(truncate(path, (off_t)(24 + cuts[i].cut)), 0);
		memset(&s, 0, sizeof(s));
		s.probe = 445;
		tally_init(&t, 60, NULL, seen_emit, seen_gap, &s);
		assert_int_equal(pcapfile_read(pf,
				     classify_for_linktype(DLT_EN10MB), &t, 0),
		    -1);
		tally_finish(&t);
		tally_free(&t);
		snprintf(want, sizeof(want),
		    "truncated while being read (%zu bytes when opened, %zu "
		    "at the end)%s",
		    len, 24 + cuts[i].cut, cuts[i].tail);
		assert_string_equal(pcapfile_geterr(pf), want);
		small_expect((int)(cuts[i].cut / SMALL_REC), 2, &w);
		seen_equal(&s, &w);
		pcapfile_close(pf);
		assert_int_equal(close(fd), 0);
	}
	free(b);
	assert_int_equal(tmpdir_remove(dir), 0);
}

/* The progress callback of test_shrunk_while_read cuts the file once. */
struct cutter {
	const char *path;
	size_t cut; /* 0 until cut: then bytes into the records */
	uint64_t seen_bytes, seen_records;
};

static void
cutter_progress(void *arg, uint64_t bytes, uint64_t records)
{
	struct cutter *c = arg;

	if (c->cut != 0)
		return;
	c->seen_bytes = bytes;
	c->seen_records = records;
	/*
	 * Past all the reader may have read (pcapfile.h), in the middle of a
	 * record's data.
	 */
	c->cut = ((size_t)bytes - 24 + PCAPFILE_AHEAD) / SMALL_REC * SMALL_REC +
	    SMALL_REC + 40;
	assert_int_equal(truncate(c->path, (off_t)(24 + c->cut)), 0);
}

/*
 * Cut short while it is read, beyond what the reader has read so far:
 * counted up to the cut, as if the file had always ended there, and the
 * error says so.
 */
static void
test_shrunk_while_read(void **state)
{
	char dir[256], path[300], want[PCAP_ERRBUF_SIZE];
	const int n = 160000, per = 1000;
	struct cutter c = {0};
	struct pcapfile *pf;
	struct seen s, w;
	struct tally t;
	uint8_t *b;
	size_t len;
	int fd;

	(void)state;
	assert_int_equal(tmpdir_make(dir, sizeof(dir), "pcapfile"), 0);
	snprintf(path, sizeof(path), "%s/rotated.pcap", dir);
	b = small_file(n, per, &len);
	write_file(path, b, len);
	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	pf = pcapfile_open_fd(fd);
	assert_non_null(pf);
	c.path = path;
	pcapfile_set_progress(pf, cutter_progress, &c);
	memset(&s, 0, sizeof(s));
	s.probe = 445;
	tally_init(&t, 60, NULL, seen_emit, seen_gap, &s);
	assert_int_equal(pcapfile_read(pf, classify_for_linktype(DLT_EN10MB),
			     &t, 0),
	    -1);
	tally_finish(&t);
	tally_free(&t);
	/* The callback ran while most of the file was still to be read. */
	assert_int_not_equal(c.cut, 0);
	assert_true(c.seen_bytes > 24 && c.seen_bytes < len / 2);
	assert_int_equal(c.seen_records, (c.seen_bytes - 24) / SMALL_REC);
	assert_true(24 + c.cut < len);
	snprintf(want, sizeof(want),
	    "truncated while being read (%zu bytes when opened, %zu at the "
	    "end); truncated dump file; tried to read 54 captured bytes, only "
	    "got 24",
	    len, 24 + c.cut);
	assert_string_equal(pcapfile_geterr(pf), want);
	small_expect((int)(c.cut / SMALL_REC), per, &w);
	assert_true(w.n >= 2);
	seen_equal(&s, &w);
	pcapfile_close(pf);
	assert_int_equal(close(fd), 0);
	free(b);
	assert_int_equal(tmpdir_remove(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headers_taken),
	    cmocka_unit_test(test_headers_left),
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_damaged),
	    cmocka_unit_test(test_caplen),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_seconds),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_fd_pieces),
	    cmocka_unit_test(test_shrunk_before_read),
	    cmocka_unit_test(test_shrunk_while_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

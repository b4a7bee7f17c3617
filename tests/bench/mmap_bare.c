/*
 * The floor of bench_sensor.py: walk a classic pcap file (little-endian,
 * Ethernet, as teiten-gencap writes it) through mmap with the simplest
 * parse that finds a key (Ethernet, one VLAN tag, IPv4 or IPv6 without
 * extension headers, the transport header) and count per key, as the
 * sensor does, with nothing else: no intervals, no bounds beyond the
 * record's.  Prints the packets walked and the packets counted under a
 * key on stdout.  With -p, the file is read with pread() in 256 KiB
 * pieces instead, as the sensor's direct reader reads it: the floor of
 * that way of reading.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIECE (256u << 10)
#define REC_MAX (16u + 262144u)

static uint64_t keys[4][65536];

static inline uint32_t
le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The key class (0 tcp, 1 udp, 2 icmp, 3 icmp6) and key, or -1. */
static int
bare_key(const uint8_t *p, uint32_t n, unsigned *key)
{
	unsigned type, proto, off;

	if (n < 14)
		return -1;
	type = (unsigned)p[12] << 8 | p[13];
	off = 14;
	if (type == 0x8100 && n >= 18) {
		type = (unsigned)p[16] << 8 | p[17];
		off = 18;
	}
	if (type == 0x0800 && n >= off + 20) {
		proto = p[off + 9];
		off += (p[off] & 0x0f) * 4u;
	} else if (type == 0x86dd && n >= off + 40) {
		proto = p[off + 6];
		off += 40;
	} else
		return -1;
	if (n < off + 4)
		return -1;
	switch (proto) {
	case 6:
	case 17:
		*key = (unsigned)p[off + 2] << 8 | p[off + 3];
		return proto == 6 ? 0 : 1;
	case 1:
	case 58:
		*key = p[off];
		return proto == 1 ? 2 : 3;
	}
	return -1;
}

/*
 * Walk the records in b[0, len): the bytes walked, up to the first record
 * not wholly there.
 */
static size_t
bare_walk(const uint8_t *b, size_t len, uint64_t *n, uint64_t *keyed)
{
	size_t off = 0;
	uint32_t caplen;
	unsigned key;
	int cls;

	while (len - off >= 16) {
		caplen = le32(b + off + 8);
		if (caplen > len - off - 16)
			break;
		if ((cls = bare_key(b + off + 16, caplen, &key)) >= 0) {
			keys[cls][key]++;
			(*keyed)++;
		}
		(*n)++;
		off += 16 + caplen;
	}
	return off;
}

static void
bare_mmap(int fd, const char *path, size_t size, uint64_t *n, uint64_t *keyed)
{
	const uint8_t *base;

	base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED)
		err(1, "%s: mmap", path);
	(void)madvise((void *)base, size, MADV_SEQUENTIAL);
	if (le32(base) != 0xa1b2c3d4)
		errx(1, "%s: not a little-endian microsecond pcap file", path);
	if (bare_walk(base + 24, size - 24, n, keyed) != size - 24)
		errx(1, "%s: record cut short", path);
	munmap((void *)base, size);
}

static void
bare_pread(int fd, const char *path, uint64_t *n, uint64_t *keyed)
{
	size_t have = 0, used;
	off_t off = 24;
	uint8_t *buf;
	ssize_t r;

	if ((buf = malloc(PIECE + REC_MAX)) == NULL)
		err(1, NULL);
	if (pread(fd, buf, 4, 0) != 4 || le32(buf) != 0xa1b2c3d4)
		errx(1, "%s: not a little-endian microsecond pcap file", path);
	while ((r = pread(fd, buf + have, PIECE, off)) > 0) {
		off += r;
		have += (size_t)r;
		used = bare_walk(buf, have, n, keyed);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	if (r == -1)
		err(1, "%s", path);
	if (have != 0)
		errx(1, "%s: record cut short", path);
	free(buf);
}

int
main(int argc, char **argv)
{
	uint64_t n = 0, keyed = 0;
	struct stat st;
	int fd, piece;

	piece = argc == 3 && strcmp(argv[1], "-p") == 0;
	if (argc != 2 + piece) {
		fprintf(stderr, "usage: mmap_bare [-p] file\n");
		return 1;
	}
	argv += piece;
	if ((fd = open(argv[1], O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", argv[1]);
	if (st.st_size < 24)
		errx(1, "%s: too short", argv[1]);
	if (piece)
		bare_pread(fd, argv[1], &n, &keyed);
	else
		bare_mmap(fd, argv[1], (size_t)st.st_size, &n, &keyed);
	close(fd);
	printf("%" PRIu64 " %" PRIu64 "\n", n, keyed);
	return 0;
}

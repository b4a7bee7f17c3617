/*
 * The floor of bench_sensor.py: walk a classic pcap file (little-endian,
 * Ethernet, as teiten-gencap writes it) through mmap with the simplest
 * parse that finds a key (Ethernet, one VLAN tag, IPv4 or IPv6 without
 * extension headers, the transport header) and count per key, as the
 * sensor does, with nothing else: no intervals, no bounds beyond the
 * record's.  Prints the packets walked and the packets counted under a
 * key on stdout.
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

int
main(int argc, char **argv)
{
	uint64_t n = 0, keyed = 0;
	const uint8_t *base;
	struct stat st;
	size_t off = 24;
	uint32_t caplen;
	unsigned key;
	int fd, cls;

	if (argc != 2) {
		fprintf(stderr, "usage: mmap_bare file\n");
		return 1;
	}
	if ((fd = open(argv[1], O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", argv[1]);
	if (st.st_size < 24)
		errx(1, "%s: too short", argv[1]);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED)
		err(1, "%s: mmap", argv[1]);
	(void)madvise((void *)base, (size_t)st.st_size, MADV_SEQUENTIAL);
	if (le32(base) != 0xa1b2c3d4)
		errx(1, "%s: not a little-endian microsecond pcap file",
		    argv[1]);
	while ((size_t)st.st_size - off >= 16) {
		caplen = le32(base + off + 8);
		if (caplen > (size_t)st.st_size - off - 16)
			errx(1, "%s: record cut short", argv[1]);
		if ((cls = bare_key(base + off + 16, caplen, &key)) >= 0) {
			keys[cls][key]++;
			keyed++;
		}
		n++;
		off += 16 + caplen;
	}
	munmap((void *)base, (size_t)st.st_size);
	close(fd);
	printf("%" PRIu64 " %" PRIu64 "\n", n, keyed);
	return 0;
}

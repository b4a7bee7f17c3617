/*
 * The baseline of bench_sensor.py: read a capture through libpcap and do
 * nothing with the packets, so that what the sensor adds can be told from
 * what reading the file costs.  Prints the packet count on stdout.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>

#include <pcap/pcap.h>

static void
bare_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	(void)h;
	(void)bytes;
	(*(uint64_t *)user)++;
}

int
main(int argc, char **argv)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	uint64_t n = 0;
	pcap_t *p;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_bare file\n");
		return 1;
	}
	if ((p = pcap_open_offline(argv[1], ebuf)) == NULL)
		errx(1, "%s", ebuf);
	if (pcap_loop(p, -1, bare_packet, (u_char *)&n) == PCAP_ERROR)
		errx(1, "%s: %s", argv[1], pcap_geterr(p));
	pcap_close(p);
	printf("%" PRIu64 "\n", n);
	return 0;
}

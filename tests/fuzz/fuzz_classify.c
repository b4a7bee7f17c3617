/*
 * libFuzzer target for the classifier: the first byte picks the link type,
 * the rest is the frame.  The frame is copied to a buffer of exactly its
 * length so that AddressSanitizer sees any read past caplen.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>
#include <sodium.h>

#include "classify.h"
#include "counts.h"
#include "sketch.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int fuzz_dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
    DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP};

static struct counts *fuzz_counts;
/* Sketches on, with a small budget: their path and its folding too. */
static struct sketch fuzz_sketch;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	classify_fn fn;
	struct pkt pk;
	uint8_t *frame;
	size_t len;

	if (size < 1 || size > 65536)
		return 0;
	if (fuzz_counts == NULL) {
		if (sodium_init() < 0)
			abort();
		sketch_init(&fuzz_sketch, NULL, 1u << 20);
		fuzz_counts = counts_new();
		counts_sketches(fuzz_counts, &fuzz_sketch);
		counts_reset(fuzz_counts, 0, 60);
	}
	fn = classify_for_linktype(
	    fuzz_dlts[data[0] % (sizeof(fuzz_dlts) / sizeof(fuzz_dlts[0]))]);
	len = size - 1;
	frame = malloc(len ? len : 1);
	assert(frame != NULL);
	memcpy(frame, data + 1, len);
	fn(frame, (uint32_t)len, &pk);
	assert(pk.cls < CLASS_UNMONITORED);
	assert(pk.cls == CLASS_TCP || pk.tcpk == TCPK_OTHER);
	assert(pk.cls <= CLASS_ICMP6 || pk.key == 0);
	assert(pk.cls > CLASS_ICMP6 || pk.key < proto_nkeys(pk.cls));
	assert((pk.src == NULL) == (pk.dst == NULL));
	if (pk.dst != NULL) {
		assert(pk.family == 4 || pk.family == 6);
		assert(pk.dst >= frame &&
		    pk.dst + (pk.family == 4 ? 4 : 16) <= frame + len);
		assert(pk.src >= frame &&
		    pk.src + (pk.family == 4 ? 4 : 16) <= frame + len);
	}
	counts_add(fuzz_counts, &pk);
	free(frame);
	return 0;
}

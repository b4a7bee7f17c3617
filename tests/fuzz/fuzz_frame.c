/*
 * libFuzzer target for frames.  The input is read as a whole frame: its
 * header is parsed and, when the length fits, its MAC checked under a
 * fixed key (the result does not matter; reading must be safe).  Then the
 * input is used as a payload: sealed under the same key it must verify,
 * and with one bit changed it must not.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define FUZZ_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* 00 01 02 ... 1f, as make_corpus.py seals its seeds. */
static const uint8_t fuzz_key[FRAME_KEY] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
    0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
    0x1e, 0x1f};

static void
fuzz_read(const uint8_t *data, size_t size)
{
	struct frame_hdr h;
	const char *why = NULL;

	if (size < FRAME_HDR)
		return;
	if (frame_parse_hdr(data, FRAME_MAX_PAYLOAD, &h, &why) != 0) {
		assert(why != NULL);
		return;
	}
	assert(h.type >= FRAME_HELLO && h.type <= FRAME_PROOF);
	assert(h.len <= FRAME_MAX_PAYLOAD);
	if (size == (size_t)FRAME_HDR + h.len + FRAME_MAC)
		(void)frame_verify(data, h.len, fuzz_key);
}

static void
fuzz_seal(const uint8_t *data, size_t size)
{
	struct frame_hdr h;
	const char *why;
	enum frame_type type;
	uint64_t seq;
	uint8_t *f;
	size_t total, at;

	type = FRAME_HELLO + (size ? data[0] % 5 : 0);
	seq = (uint64_t)size * 0x9e3779b97f4a7c15ULL;
	f = malloc(FRAME_HDR + size + FRAME_MAC);
	assert(f != NULL);
	if (size)
		memcpy(f + FRAME_HDR, data, size);
	total = frame_seal(f, type, seq, size, fuzz_key);
	assert(total == FRAME_HDR + size + FRAME_MAC);
	assert(frame_parse_hdr(f, FRAME_MAX_PAYLOAD, &h, &why) == 0);
	assert(h.type == type && h.len == size && h.seq == seq);
	assert(frame_verify(f, size, fuzz_key) == 0);
	at = size ? data[size - 1] * 257u % total : 0;
	f[at] ^= 1 << (seq >> 61);
	assert(frame_verify(f, size, fuzz_key) == -1);
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX)
		return 0;
	fuzz_read(data, size);
	fuzz_seal(data, size);
	return 0;
}

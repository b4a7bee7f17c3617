/*
 * libFuzzer target for the HELLO payload, the first bytes an aggregator
 * reads from anyone and decodes before it knows which key checks them.
 * Whatever the input, decoding must read only within it; what it accepts
 * must be a valid sensor id (1 to 64 of [A-Za-z0-9._-], as long as the
 * length byte says) and encode back to exactly the input.  Then the input
 * is used as an id: encoded, it must decode to itself if it is a valid
 * id, and be refused if it is not.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "record.h"
#include "wire.h"

#define FUZZ_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_decode(const uint8_t *data, size_t size)
{
	uint8_t nonce[FRAME_NONCE], again[WIRE_HELLO_MAX];
	char id[RECORD_ID_MAX + 1];

	if (wire_hello_decode(data, size, id, nonce) == -1)
		return;
	assert(size <= WIRE_HELLO_MAX);
	assert(strlen(id) == data[0]);
	assert(record_valid_id(id));
	assert(wire_hello_encode(again, id, nonce) == size);
	assert(memcmp(again, data, size) == 0);
}

static void
fuzz_encode(const uint8_t *data, size_t size)
{
	uint8_t buf[WIRE_HELLO_MAX], nonce[FRAME_NONCE], got[FRAME_NONCE];
	char in[RECORD_ID_MAX + 1], id[RECORD_ID_MAX + 1];
	size_t n, i;

	if (size == 0 || size > RECORD_ID_MAX)
		return;
	memcpy(in, data, size);
	in[size] = '\0';
	if (strlen(in) != size)
		return; /* an id cannot hold a NUL: encode takes a string */
	for (i = 0; i < FRAME_NONCE; i++)
		nonce[i] = (uint8_t)(data[i % size] + i);
	n = wire_hello_encode(buf, in, nonce);
	assert(n == 1 + size + FRAME_NONCE);
	if (!record_valid_id(in)) {
		assert(wire_hello_decode(buf, n, id, got) == -1);
		return;
	}
	assert(wire_hello_decode(buf, n, id, got) == 0);
	assert(strcmp(id, in) == 0);
	assert(memcmp(got, nonce, FRAME_NONCE) == 0);
	/* One byte fewer or more is never a HELLO. */
	assert(wire_hello_decode(buf, n - 1, id, got) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size > FUZZ_MAX)
		return 0;
	/* In a buffer of exactly size bytes, so overreads are caught. */
	if ((copy = calloc(1, size ? size : 1)) == NULL)
		abort();
	if (size)
		memcpy(copy, data, size);
	fuzz_decode(copy, size);
	fuzz_encode(copy, size);
	free(copy);
	return 0;
}

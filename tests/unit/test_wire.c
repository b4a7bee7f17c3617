/*
 * Unit tests for wire (common/wire.h, man/teiten-protocol.7): HELLO and ACK
 * payloads against bytes written out by hand, both ways, and every
 * malformed form refused; frames through evbuffers: whole, partial,
 * altered, and out of sequence.  HELLO is decoded before anything is
 * authenticated, so its input sits in heap buffers of exactly its length
 * for AddressSanitizer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "frame.h"
#include "wire.h"

static const uint8_t nonce[FRAME_NONCE] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

static int
hello_exact(const uint8_t *b, size_t n, char *id, uint8_t *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	assert_non_null(copy);
	if (n)
		memcpy(copy, b, n);
	rc = wire_hello_decode(copy, n, id, out);
	free(copy);
	return rc;
}

static void
test_hello_bytes(void **state)
{
	/* 0x03 "s-1" then the 16 nonce bytes: 20 in all. */
	uint8_t want[1 + 3 + FRAME_NONCE] = {0x03, 's', '-', '1'};
	uint8_t buf[WIRE_HELLO_MAX], got[FRAME_NONCE];
	char id[64 + 1];

	(void)state;
	memcpy(want + 4, nonce, FRAME_NONCE);
	assert_int_equal(wire_hello_encode(buf, "s-1", nonce), 20);
	assert_memory_equal(buf, want, 20);
	memset(got, 0, sizeof(got));
	assert_int_equal(hello_exact(want, 20, id, got), 0);
	assert_string_equal(id, "s-1");
	assert_memory_equal(got, nonce, FRAME_NONCE);
}

/* The longest id, 64 characters: WIRE_HELLO_MAX = 81 bytes. */
static void
test_hello_longest(void **state)
{
	uint8_t buf[WIRE_HELLO_MAX], got[FRAME_NONCE];
	char id64[65], id[65];

	(void)state;
	memset(id64, 'x', 64);
	id64[64] = '\0';
	assert_int_equal(WIRE_HELLO_MAX, 81);
	assert_int_equal(wire_hello_encode(buf, id64, nonce), 81);
	assert_int_equal(buf[0], 64);
	assert_int_equal(hello_exact(buf, 81, id, got), 0);
	assert_string_equal(id, id64);
	assert_memory_equal(got, nonce, FRAME_NONCE);
}

static void
test_hello_malformed(void **state)
{
	uint8_t buf[WIRE_HELLO_MAX + 2], got[FRAME_NONCE];
	char id[65];
	size_t n;

	(void)state;
	/* Empty, and a lone length byte. */
	assert_int_equal(hello_exact(buf, 0, id, got), -1);
	buf[0] = 0x01;
	assert_int_equal(hello_exact(buf, 1, id, got), -1);
	/* Id length 0, with only a nonce after it. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(hello_exact(buf, 1 + FRAME_NONCE, id, got), -1);
	/* One byte short of the nonce, one byte too many. */
	n = wire_hello_encode(buf, "ab", nonce);
	assert_int_equal(n, 19);
	assert_int_equal(hello_exact(buf, n - 1, id, got), -1);
	buf[n] = 0;
	assert_int_equal(hello_exact(buf, n + 1, id, got), -1);
	/* Id length 65 with 65 + 16 bytes after it. */
	memset(buf, 'x', sizeof(buf));
	buf[0] = 65;
	assert_int_equal(hello_exact(buf, 1 + 65 + FRAME_NONCE, id, got), -1);
	/* Id length 255 claims more than is there. */
	buf[0] = 255;
	assert_int_equal(hello_exact(buf, sizeof(buf), id, got), -1);
	/* Characters outside [A-Za-z0-9._-]: '/', ' ', NUL, 0xff. */
	n = wire_hello_encode(buf, "a/b", nonce);
	assert_int_equal(hello_exact(buf, n, id, got), -1);
	n = wire_hello_encode(buf, "a b", nonce);
	assert_int_equal(hello_exact(buf, n, id, got), -1);
	n = wire_hello_encode(buf, "abc", nonce);
	buf[2] = '\0';
	assert_int_equal(hello_exact(buf, n, id, got), -1);
	buf[2] = 0xff;
	assert_int_equal(hello_exact(buf, n, id, got), -1);
}

struct ack_case {
	enum frame_ack status;
	int64_t start;
	int reason;
	uint8_t bytes[WIRE_ACK_MAX];
	size_t n;
};

/* start zigzag-encoded: 0 -> 0, -1 -> 1, 64 -> 128, 1700000040 -> 3400000080. */
static const struct ack_case acks[] = {
    {ACK_STORED, 0, 0, {0x00, 0x00}, 2},
    {ACK_DUPLICATE, -1, 0, {0x01, 0x01}, 2},
    {ACK_REJECTED, 64, 0, {0x02, 0x80, 0x01}, 3},
    {ACK_STORED, 1700000040, 0, {0x00, 0xd0, 0xc4, 0x9f, 0xd5, 0x0c}, 6},
    {ACK_REFUSED, 1700000040, REFUSE_PAST,
	{0x03, 0xd0, 0xc4, 0x9f, 0xd5, 0x0c, 0x02}, 7},
    {ACK_REFUSED, -64, REFUSE_OPEN, {0x03, 0x7f, 0x03}, 3},
    /* A reason this version does not know is still a refusal. */
    {ACK_REFUSED, 0, 200, {0x03, 0x00, 200}, 3},
    /* INT64_MIN: zigzag 2^64 - 1, ten bytes. */
    {ACK_STORED, INT64_MIN, 0,
	{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 11},
};

static void
test_ack_bytes(void **state)
{
	uint8_t buf[WIRE_ACK_MAX];
	enum frame_ack st;
	int64_t start;
	int reason;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		const struct ack_case *c = &acks[i];

		assert_int_equal(wire_ack_encode(buf, c->status, c->start,
				     c->reason),
		    c->n);
		assert_memory_equal(buf, c->bytes, c->n);
		reason = -1;
		assert_int_equal(wire_ack_decode(c->bytes, c->n, &st, &start,
				     &reason),
		    0);
		assert_int_equal(st, c->status);
		assert_true(start == c->start);
		assert_int_equal(reason, c->reason);
	}
	/* A reason given with another status is not sent, and reads as 0. */
	assert_int_equal(wire_ack_encode(buf, ACK_STORED, 0, 2), 2);
}

static void
test_ack_malformed(void **state)
{
	static const struct {
		uint8_t b[12];
		size_t n;
	} bad[] = {
	    {{0}, 0},
	    {{0x00}, 1}, /* no start */
	    {{0x04, 0x00}, 2}, /* unknown status */
	    {{0xff, 0x00}, 2},
	    {{0x00, 0x80}, 2}, /* varint cut short */
	    {{0x00, 0x00, 0x00}, 3}, /* trailing byte */
	    {{0x03, 0x00}, 2}, /* refused without a reason */
	    {{0x03, 0x00, 0x00}, 3}, /* reason 0 */
	    {{0x03, 0x00, 0x01, 0x01}, 4}, /* trailing after the reason */
	    /* Eleven varint bytes: beyond 64 bits. */
	    {{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0x01},
		12},
	};
	enum frame_ack st;
	int64_t start;
	int reason;
	uint8_t *copy;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		copy = malloc(bad[i].n ? bad[i].n : 1);
		assert_non_null(copy);
		memcpy(copy, bad[i].b, bad[i].n);
		if (wire_ack_decode(copy, bad[i].n, &st, &start, &reason) != -1)
			fail_msg("malformed ack %zu accepted", i);
		free(copy);
	}
}

static void
key_fill(uint8_t key[FRAME_KEY], uint8_t base)
{
	int i;

	for (i = 0; i < FRAME_KEY; i++)
		key[i] = (uint8_t)(base + i);
}

/* Two frames through one buffer, read one byte at a time. */
static void
test_frames(void **state)
{
	struct evbuffer *wire, *in;
	struct wire_session tx, rx;
	struct frame_hdr h;
	const char *why;
	uint8_t *frame, p1[3] = {1, 2, 3}, all[2 * (16 + 3 + 32)];
	size_t total = 16 + 3 + 32, i;
	int rc;

	(void)state;
	memset(&tx, 0, sizeof(tx));
	key_fill(tx.key, 7);
	rx = tx;
	wire = evbuffer_new();
	in = evbuffer_new();
	assert_non_null(wire);
	assert_non_null(in);
	assert_int_equal(wire_send(&tx, wire, FRAME_RECORD, p1, 3), 0);
	assert_int_equal(wire_send(&tx, wire, FRAME_ACK, p1, 0), 0);
	assert_true(tx.send_seq == 2);
	assert_int_equal(evbuffer_get_length(wire), total + 16 + 32);
	assert_int_equal(evbuffer_remove(wire, all, total + 48),
	    (int)(total + 48));

	/* Nothing whole until the last byte of the first frame. */
	for (i = 0; i < total - 1; i++) {
		assert_int_equal(evbuffer_add(in, all + i, 1), 0);
		assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame,
				     &why),
		    0);
	}
	assert_int_equal(evbuffer_add(in, all + i, 1), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why), 1);
	assert_int_equal(h.type, FRAME_RECORD);
	assert_int_equal(h.len, 3);
	assert_true(h.seq == 0);
	assert_memory_equal(frame + FRAME_HDR, p1, 3);
	assert_int_equal(wire_check(&rx, frame, &h, &why), 0);
	assert_true(rx.recv_seq == 1);
	assert_int_equal(evbuffer_drain(in, total), 0);

	/* The second frame, but first a replay of the first. */
	assert_int_equal(evbuffer_add(in, all, total), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why), 1);
	why = NULL;
	assert_int_equal(wire_check(&rx, frame, &h, &why), -1);
	assert_non_null(why);
	assert_true(rx.recv_seq == 1);
	assert_int_equal(evbuffer_drain(in, total), 0);
	assert_int_equal(evbuffer_add(in, all + total, 48), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why), 1);
	assert_int_equal(h.type, FRAME_ACK);
	assert_int_equal(h.len, 0);
	assert_int_equal(wire_check(&rx, frame, &h, &why), 0);
	assert_true(rx.recv_seq == 2);
	assert_int_equal(evbuffer_drain(in, 48), 0);

	/* One payload bit flipped: bad MAC, sequence unchanged. */
	all[FRAME_HDR + 1] ^= 0x10;
	rx.recv_seq = 0;
	assert_int_equal(evbuffer_add(in, all, total), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why), 1);
	why = NULL;
	assert_int_equal(wire_check(&rx, frame, &h, &why), -1);
	assert_non_null(why);
	assert_true(rx.recv_seq == 0);
	assert_int_equal(evbuffer_drain(in, total), 0);
	all[FRAME_HDR + 1] ^= 0x10;

	/* Another key: bad MAC. */
	key_fill(rx.key, 8);
	assert_int_equal(evbuffer_add(in, all, total), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why), 1);
	assert_int_equal(wire_check(&rx, frame, &h, &why), -1);
	assert_int_equal(evbuffer_drain(in, total), 0);

	/* A bad header is an error as soon as its 16 bytes are in. */
	all[0] = 'X';
	assert_int_equal(evbuffer_add(in, all, FRAME_HDR - 1), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why), 0);
	assert_int_equal(evbuffer_add(in, all + FRAME_HDR - 1, 1), 0);
	why = NULL;
	rc = wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why);
	assert_int_equal(rc, -1);
	assert_non_null(why);
	evbuffer_free(wire);
	evbuffer_free(in);
}

/*
 * A header claiming more than the receiver's limit is refused at once:
 * FRAME_MAX_PREAUTH (2 MiB) before the session is authenticated,
 * FRAME_MAX_PAYLOAD (32 MiB) after.
 */
static void
test_frame_too_long(void **state)
{
	/* 'T' 'T' | 1 | RECORD | length 2 MiB + 1 | seq 0 */
	uint8_t hdr[FRAME_HDR] = {'T', 'T', 1, 3, 0x00, 0x20, 0x00, 0x01};
	struct evbuffer *in = evbuffer_new();
	struct frame_hdr h;
	const char *why = NULL;
	uint8_t *frame;

	(void)state;
	assert_non_null(in);
	assert_int_equal(evbuffer_add(in, hdr, sizeof(hdr)), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why),
	    -1);
	assert_non_null(why);
	/* After authentication it waits for its payload. */
	assert_int_equal(wire_read(in, FRAME_MAX_PAYLOAD, &h, &frame, &why), 0);
	/* Exactly 2 MiB is a valid header waiting for its payload. */
	hdr[7] = 0x00;
	assert_int_equal(evbuffer_drain(in, FRAME_HDR), 0);
	assert_int_equal(evbuffer_add(in, hdr, sizeof(hdr)), 0);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why), 0);
	/* 32 MiB + 1: too long even then. */
	hdr[4] = 0x02;
	hdr[5] = 0x00;
	hdr[7] = 0x01;
	assert_int_equal(evbuffer_drain(in, FRAME_HDR), 0);
	assert_int_equal(evbuffer_add(in, hdr, sizeof(hdr)), 0);
	why = NULL;
	assert_int_equal(wire_read(in, FRAME_MAX_PAYLOAD, &h, &frame, &why),
	    -1);
	assert_non_null(why);
	evbuffer_free(in);
}

/* A frame of 3 MiB, whole, is read after authentication only. */
static void
test_frame_large(void **state)
{
	struct wire_session tx, rx;
	struct evbuffer *in = evbuffer_new();
	struct frame_hdr h;
	const char *why = NULL;
	uint8_t *frame, *payload;
	size_t len = 3u << 20;

	(void)state;
	assert_non_null(in);
	memset(&tx, 0, sizeof(tx));
	key_fill(tx.key, 9);
	rx = tx;
	assert_non_null(payload = calloc(1, len));
	payload[len - 1] = 0x5a;
	assert_int_equal(wire_send(&tx, in, FRAME_RECORD, payload, len), 0);
	assert_int_equal(evbuffer_get_length(in), FRAME_HDR + len + FRAME_MAC);
	assert_int_equal(wire_read(in, FRAME_MAX_PREAUTH, &h, &frame, &why),
	    -1);
	assert_int_equal(wire_read(in, FRAME_MAX_PAYLOAD, &h, &frame, &why), 1);
	assert_int_equal(h.len, len);
	assert_int_equal(frame[FRAME_HDR + len - 1], 0x5a);
	assert_int_equal(wire_check(&rx, frame, &h, &why), 0);
	free(payload);
	evbuffer_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_bytes),
	    cmocka_unit_test(test_hello_longest),
	    cmocka_unit_test(test_hello_malformed),
	    cmocka_unit_test(test_ack_bytes),
	    cmocka_unit_test(test_ack_malformed),
	    cmocka_unit_test(test_frames),
	    cmocka_unit_test(test_frame_too_long),
	    cmocka_unit_test(test_frame_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

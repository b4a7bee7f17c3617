/*
 * Unit tests for frame: exact header bytes, MACs and session keys against
 * HMAC-SHA-256 values computed independently with Python's hmac module,
 * a failed MAC for every single-bit change or wrong key, the refusals of
 * frame_parse_hdr, and the parsing of hex keys (man/teiten-protocol.7).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "wire.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The key 00 01 02 ... 1f. */
static void
counting_key(uint8_t key[FRAME_KEY], uint8_t first)
{
	int i;

	for (i = 0; i < FRAME_KEY; i++)
		key[i] = (uint8_t)(first + i);
}

static uint32_t
get_len(const uint8_t *f)
{
	return (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 |
	    (uint32_t)f[6] << 8 | f[7];
}

/* Set a header's payload length field. */
static void
put_len(uint8_t *f, uint32_t len)
{
	f[4] = (uint8_t)(len >> 24);
	f[5] = (uint8_t)(len >> 16);
	f[6] = (uint8_t)(len >> 8);
	f[7] = (uint8_t)len;
}

/* A frame of payload length len in a buffer of exactly its size. */
static uint8_t *
new_frame(size_t len, const void *payload)
{
	uint8_t *f;

	assert_non_null(f = malloc(FRAME_HDR + len + FRAME_MAC));
	if (len)
		memcpy(f + FRAME_HDR, payload, len);
	return f;
}

static void
test_seal_known(void **state)
{
	static const uint8_t hdr[FRAME_HDR] = {'T', 'T', 0x01, 0x03, 0x00, 0x00,
	    0x00, 0x06, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	/*
	 * python3 -c 'import hmac,hashlib; k=bytes(range(32));
	 * h=b"TT\x01\x03"+(6).to_bytes(4,"big")+
	 * (0x0102030405060708).to_bytes(8,"big");
	 * print(hmac.new(k,h+b"teiten",hashlib.sha256).hexdigest())'
	 */
	static const uint8_t mac[FRAME_MAC] = {0x85, 0x93, 0x58, 0x42, 0xd3,
	    0x66, 0xef, 0x98, 0x3b, 0xc5, 0xb8, 0x35, 0x9a, 0x0f, 0x3f, 0x47,
	    0xb4, 0x01, 0x49, 0x72, 0x23, 0xee, 0x6d, 0xb1, 0x11, 0xa0, 0xc3,
	    0xa5, 0x21, 0xed, 0xf5, 0xcf};
	uint8_t key[FRAME_KEY], *f;
	struct frame_hdr h;
	const char *why;

	(void)state;
	counting_key(key, 0);
	f = new_frame(6, "teiten");
	assert_int_equal(frame_seal(f, FRAME_RECORD, 0x0102030405060708ULL, 6,
			     key),
	    FRAME_HDR + 6 + FRAME_MAC);
	assert_memory_equal(f, hdr, FRAME_HDR);
	assert_memory_equal(f + FRAME_HDR, "teiten", 6);
	assert_memory_equal(f + FRAME_HDR + 6, mac, FRAME_MAC);
	why = NULL;
	assert_int_equal(frame_parse_hdr(f, FRAME_MAX_PREAUTH, &h, &why), 0);
	assert_int_equal(h.type, FRAME_RECORD);
	assert_int_equal(h.len, 6);
	assert_true(h.seq == 0x0102030405060708ULL);
	assert_int_equal(frame_verify(f, 6, key), 0);
	free(f);
}

static void
test_seal_empty(void **state)
{
	static const uint8_t hdr[FRAME_HDR] = {'T', 'T', 0x01, 0x01};
	/*
	 * python3 -c 'import hmac,hashlib; k=bytes(range(32));
	 * h=b"TT\x01\x01"+bytes(12);
	 * print(hmac.new(k,h,hashlib.sha256).hexdigest())'
	 */
	static const uint8_t mac[FRAME_MAC] = {0x67, 0x75, 0x35, 0x28, 0x31,
	    0xfd, 0xfa, 0xff, 0x3f, 0x0a, 0x5c, 0xdb, 0x05, 0x7b, 0x7f, 0x65,
	    0xa3, 0xa0, 0x0b, 0xc9, 0x55, 0xbf, 0x2c, 0x39, 0x01, 0xa3, 0x87,
	    0x9b, 0x00, 0xb1, 0x18, 0xa1};
	uint8_t key[FRAME_KEY], *f;

	(void)state;
	counting_key(key, 0);
	f = new_frame(0, NULL);
	assert_int_equal(frame_seal(f, FRAME_HELLO, 0, 0, key),
	    FRAME_HDR + FRAME_MAC);
	assert_memory_equal(f, hdr, FRAME_HDR);
	assert_memory_equal(f + FRAME_HDR, mac, FRAME_MAC);
	assert_int_equal(frame_verify(f, 0, key), 0);
	free(f);
}

/*
 * The largest payload, a high sequence number, every type.  The largest
 * frame of a session is refused by a receiver still before its first
 * verified frame, whose limit is 2 MiB.
 */
static void
test_seal_header_fields(void **state)
{
	static const uint8_t hdr[FRAME_HDR] = {'T', 'T', 0x01, 0x04, 0x02, 0x00,
	    0x00, 0x00, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
	uint8_t key[FRAME_KEY], *f;
	struct frame_hdr h;
	const char *why;
	int type;

	(void)state;
	counting_key(key, 0x40);
	assert_int_equal(FRAME_MAX_PAYLOAD, 0x2000000);
	assert_int_equal(FRAME_MAX_PREAUTH, 0x200000);
	assert_non_null(
	    f = calloc(1, FRAME_HDR + FRAME_MAX_PAYLOAD + FRAME_MAC));
	assert_int_equal(frame_seal(f, FRAME_ACK, 0xfedcba9876543210ULL,
			     FRAME_MAX_PAYLOAD, key),
	    FRAME_HDR + FRAME_MAX_PAYLOAD + FRAME_MAC);
	assert_memory_equal(f, hdr, FRAME_HDR);
	assert_int_equal(frame_parse_hdr(f, FRAME_MAX_PAYLOAD, &h, &why), 0);
	assert_int_equal(h.type, FRAME_ACK);
	assert_int_equal(h.len, FRAME_MAX_PAYLOAD);
	assert_true(h.seq == 0xfedcba9876543210ULL);
	assert_int_equal(frame_verify(f, FRAME_MAX_PAYLOAD, key), 0);
	why = NULL;
	assert_int_equal(frame_parse_hdr(f, FRAME_MAX_PREAUTH, &h, &why), -1);
	assert_string_equal(why, "frame too large");
	/* A limit past FRAME_MAX_PAYLOAD is FRAME_MAX_PAYLOAD. */
	put_len(f, FRAME_MAX_PAYLOAD + 1);
	assert_int_equal(frame_parse_hdr(f, SIZE_MAX, &h, &why), -1);
	free(f);

	for (type = FRAME_HELLO; type <= FRAME_PROOF; type++) {
		f = new_frame(3, "abc");
		frame_seal(f, type, UINT64_MAX, 3, key);
		assert_int_equal(f[3], type);
		assert_int_equal(frame_parse_hdr(f, FRAME_MAX_PREAUTH, &h,
				     &why),
		    0);
		assert_int_equal(h.type, type);
		assert_true(h.seq == UINT64_MAX);
		assert_int_equal(frame_verify(f, 3, key), 0);
		free(f);
	}
}

static void
test_session_key(void **state)
{
	/*
	 * python3 -c 'import hmac,hashlib; k=bytes(range(32));
	 * m=b"teiten-session-v1"+bytes(range(0xa0,0xb0))+
	 * bytes(range(0xc0,0xd0));
	 * print(hmac.new(k,m,hashlib.sha256).hexdigest())'
	 */
	static const uint8_t want[FRAME_KEY] = {0x25, 0x87, 0x59, 0x1f, 0xf0,
	    0x76, 0x89, 0xcf, 0x7a, 0xb5, 0xac, 0x04, 0x08, 0xd7, 0xab, 0x15,
	    0x5c, 0xbe, 0x0c, 0x0c, 0xee, 0x89, 0x6e, 0xdc, 0x9a, 0xf7, 0x18,
	    0x8a, 0x09, 0x97, 0xe6, 0x8d};
	uint8_t psk[FRAME_KEY], client[FRAME_NONCE], server[FRAME_NONCE];
	uint8_t out[FRAME_KEY], other[FRAME_KEY];
	int i;

	(void)state;
	counting_key(psk, 0);
	for (i = 0; i < FRAME_NONCE; i++) {
		client[i] = (uint8_t)(0xa0 + i);
		server[i] = (uint8_t)(0xc0 + i);
	}
	frame_session_key(psk, client, server, out);
	assert_memory_equal(out, want, FRAME_KEY);
	/* The nonces are not interchangeable. */
	frame_session_key(psk, server, client, other);
	assert_memory_not_equal(out, other, FRAME_KEY);
}

/* Any single bit changed anywhere in the frame fails the MAC. */
static void
test_bit_flips(void **state)
{
	static const char payload[] = "one encoded record, more or less";
	size_t len = sizeof(payload) - 1, total, i;
	uint8_t key[FRAME_KEY], *f;
	int bit;

	(void)state;
	counting_key(key, 0);
	f = new_frame(len, payload);
	total = frame_seal(f, FRAME_RECORD, 7, len, key);
	assert_int_equal(frame_verify(f, len, key), 0);
	for (i = 0; i < total; i++)
		for (bit = 0; bit < 8; bit++) {
			f[i] ^= (uint8_t)(1 << bit);
			if (frame_verify(f, len, key) != -1)
				fail_msg("byte %zu bit %d flipped: verified", i,
				    bit);
			f[i] ^= (uint8_t)(1 << bit);
		}
	assert_int_equal(frame_verify(f, len, key), 0);
	/* Every bit of the key matters too. */
	for (i = 0; i < FRAME_KEY; i++)
		for (bit = 0; bit < 8; bit++) {
			key[i] ^= (uint8_t)(1 << bit);
			assert_int_equal(frame_verify(f, len, key), -1);
			key[i] ^= (uint8_t)(1 << bit);
		}
	/* A shorter payload puts the MAC elsewhere. */
	assert_int_equal(frame_verify(f, len - 1, key), -1);
	free(f);
}

static void
test_wrong_key(void **state)
{
	uint8_t k1[FRAME_KEY], k2[FRAME_KEY], *f;

	(void)state;
	counting_key(k1, 0);
	counting_key(k2, 1);
	f = new_frame(5, "hello");
	frame_seal(f, FRAME_HELLO, 0, 5, k1);
	assert_int_equal(frame_verify(f, 5, k1), 0);
	assert_int_equal(frame_verify(f, 5, k2), -1);
	memset(k2, 0, sizeof(k2));
	assert_int_equal(frame_verify(f, 5, k2), -1);
	free(f);
}

static void
test_parse_refused(void **state)
{
	static const struct {
		const char *what;
		uint8_t h[FRAME_HDR];
	} bad[] = {
	    {"magic TX", {'T', 'X', 1, 3, 0, 0, 0, 1}},
	    {"magic tt", {'t', 't', 1, 3, 0, 0, 0, 1}},
	    {"no magic", {0, 0, 1, 3, 0, 0, 0, 1}},
	    {"version 0", {'T', 'T', 0, 3, 0, 0, 0, 1}},
	    {"version 2", {'T', 'T', 2, 3, 0, 0, 0, 1}},
	    {"version 255", {'T', 'T', 255, 3, 0, 0, 0, 1}},
	    {"type 0", {'T', 'T', 1, 0, 0, 0, 0, 1}},
	    {"type 6", {'T', 'T', 1, 6, 0, 0, 0, 1}},
	    {"type 255", {'T', 'T', 1, 255, 0, 0, 0, 1}},
	    {"length FRAME_MAX_PAYLOAD + 1", {'T', 'T', 1, 3, 0x02, 0, 0, 1}},
	    {"a frame claiming 4 GB", {'T', 'T', 1, 3, 0xff, 0xff, 0xff, 0xff}},
	    {"length 2^31", {'T', 'T', 1, 3, 0x80, 0, 0, 0}},
	    {"length 2^26", {'T', 'T', 1, 3, 0x04, 0, 0, 0}},
	};
	/* Refused before authentication only. */
	static const struct {
		const char *what;
		uint8_t h[FRAME_HDR];
	} preauth[] = {
	    {"length FRAME_MAX_PREAUTH + 1", {'T', 'T', 1, 3, 0, 0x20, 0, 1}},
	    {"length 3 MiB", {'T', 'T', 1, 3, 0, 0x30, 0, 0}},
	    {"length 2^24", {'T', 'T', 1, 3, 0x01, 0, 0, 0}},
	    {"length FRAME_MAX_PAYLOAD", {'T', 'T', 1, 3, 0x02, 0, 0, 0}},
	};
	static const struct {
		const char *what;
		uint8_t h[FRAME_HDR];
		uint8_t type;
		uint32_t len;
	} good[] = {
	    {"hello, empty", {'T', 'T', 1, 1}, FRAME_HELLO, 0},
	    {"challenge", {'T', 'T', 1, 2, 0, 0, 0, 16}, FRAME_CHALLENGE, 16},
	    {"largest before authentication", {'T', 'T', 1, 3, 0, 0x20, 0, 0},
		FRAME_RECORD, FRAME_MAX_PREAUTH},
	    {"ack", {'T', 'T', 1, 4, 0, 0, 0x01, 0x02}, FRAME_ACK, 258},
	    {"proof", {'T', 'T', 1, 5}, FRAME_PROOF, 0},
	};
	struct frame_hdr h;
	const char *why;
	size_t i, m;
	static const size_t max[] = {FRAME_MAX_PREAUTH, FRAME_MAX_PAYLOAD};

	(void)state;
	for (m = 0; m < NITEMS(max); m++) {
		for (i = 0; i < NITEMS(bad); i++) {
			why = NULL;
			if (frame_parse_hdr(bad[i].h, max[m], &h, &why) != -1)
				fail_msg("%s: accepted", bad[i].what);
			if (why == NULL || *why == '\0')
				fail_msg("%s: no reason", bad[i].what);
		}
		for (i = 0; i < NITEMS(good); i++) {
			if (frame_parse_hdr(good[i].h, max[m], &h, &why) != 0)
				fail_msg("%s: refused: %s", good[i].what, why);
			assert_int_equal(h.type, good[i].type);
			assert_int_equal(h.len, good[i].len);
			assert_true(h.seq == 0);
		}
	}
	for (i = 0; i < NITEMS(preauth); i++) {
		why = NULL;
		if (frame_parse_hdr(preauth[i].h, FRAME_MAX_PREAUTH, &h,
			&why) != -1)
			fail_msg("%s: accepted before authentication",
			    preauth[i].what);
		assert_string_equal(why, "frame too large");
		if (frame_parse_hdr(preauth[i].h, FRAME_MAX_PAYLOAD, &h,
			&why) != 0)
			fail_msg("%s: refused after authentication: %s",
			    preauth[i].what, why);
		assert_int_equal(h.len, get_len(preauth[i].h));
	}
}

static void
test_key_from_hex(void **state)
{
	static const char *bad[] = {
	    "",
	    /* 63 */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",
	    /* 65 */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "0",
	    /* 66: one byte too many */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "00",
	    "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
	    "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "00 102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "000102030405060708090a0b0c0d0e0f 01112131415161718191a1b1c1d1e1f",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1 ",
	    " 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "00:102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
	};
	uint8_t key[FRAME_KEY], want[FRAME_KEY];
	size_t i;

	(void)state;
	counting_key(want, 0);
	memset(key, 0xee, sizeof(key));
	assert_int_equal(frame_key_from_hex("000102030405060708090a0b0c0d0e0f"
					    "101112131415161718191a1b1c1d1e1f",
			     key),
	    0);
	assert_memory_equal(key, want, FRAME_KEY);
	memset(key, 0xee, sizeof(key));
	assert_int_equal(frame_key_from_hex("000102030405060708090A0B0C0D0E0F"
					    "101112131415161718191A1B1C1D1E1F",
			     key),
	    0);
	assert_memory_equal(key, want, FRAME_KEY);
	memset(want, 0xab, sizeof(want));
	assert_int_equal(frame_key_from_hex("aBAbabABabababababababababababab"
					    "ABABABABABABABABABABABABABABabAB",
			     key),
	    0);
	assert_memory_equal(key, want, FRAME_KEY);
	assert_int_equal(strlen(bad[1]), 63);
	assert_int_equal(strlen(bad[2]), 65);
	for (i = 0; i < NITEMS(bad); i++)
		if (frame_key_from_hex(bad[i], key) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
}

/* ACK payloads as bytes: status | zigzag varint start | reason (3 only). */
static void
test_ack_codec(void **state)
{
	static const uint8_t stored[] = {0x00, 0x7f}; /* start -64 */
	static const uint8_t refused[] = {0x03, 0x80, 0x01, 0x02}; /* 64 */
	static const uint8_t bad[][4] = {
	    {0x04, 0x00}, /* unknown status */
	    {0x03, 0x00}, /* refused without a reason */
	    {0x03, 0x00, 0x00}, /* reason 0 */
	    {0x00, 0x00, 0x01}, /* a reason after another status */
	    {0x00, 0x80}, /* cut varint */
	};
	static const size_t badlen[] = {2, 2, 3, 3, 2};
	uint8_t buf[WIRE_ACK_MAX];
	enum frame_ack st;
	int64_t start;
	int reason;
	size_t i;

	(void)state;
	assert_int_equal(wire_ack_encode(buf, ACK_STORED, -64, 9), 2);
	assert_memory_equal(buf, stored, sizeof(stored));
	assert_int_equal(wire_ack_encode(buf, ACK_REFUSED, 64, REFUSE_PAST),
	    sizeof(refused));
	assert_memory_equal(buf, refused, sizeof(refused));
	assert_int_equal(wire_ack_decode(refused, sizeof(refused), &st, &start,
			     &reason),
	    0);
	assert_int_equal(st, ACK_REFUSED);
	assert_int_equal(start, 64);
	assert_int_equal(reason, REFUSE_PAST);
	assert_int_equal(wire_ack_decode(stored, sizeof(stored), &st, &start,
			     &reason),
	    0);
	assert_int_equal(st, ACK_STORED);
	assert_int_equal(start, -64);
	assert_int_equal(reason, 0);
	for (i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++)
		assert_int_equal(wire_ack_decode(bad[i], badlen[i], &st, &start,
				     &reason),
		    -1);
	assert_string_equal(frame_refusal_str(REFUSE_OPEN),
	    "too many open intervals for this sensor");
	assert_string_equal(frame_refusal_str(0), "unknown reason");
	assert_string_equal(frame_refusal_str(99), "unknown reason");
}

static void
test_random(void **state)
{
	uint8_t a[FRAME_NONCE], b[FRAME_NONCE];

	(void)state;
	frame_random(a, sizeof(a));
	frame_random(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seal_known),
	    cmocka_unit_test(test_seal_empty),
	    cmocka_unit_test(test_seal_header_fields),
	    cmocka_unit_test(test_session_key),
	    cmocka_unit_test(test_bit_flips),
	    cmocka_unit_test(test_wrong_key),
	    cmocka_unit_test(test_parse_refused),
	    cmocka_unit_test(test_key_from_hex),
	    cmocka_unit_test(test_ack_codec),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Framing and authentication between sensor and aggregator
 * (man/teiten-protocol.7).  A frame is a 16-byte header, a payload of at
 * most FRAME_MAX_PAYLOAD bytes (FRAME_MAX_PREAUTH before the session is
 * authenticated) and an HMAC-SHA-256 over both:
 *
 *   'T' 'T' | version | type | u32 payload length | u64 sequence | payload
 *   | 32-byte MAC                             (integers big-endian)
 *
 * The HELLO frame is keyed with the sensor's pre-shared key; every later
 * frame with a session key derived from it and both sides' nonces, and
 * each direction numbers its frames 0, 1, 2...  A frame from another
 * session, altered, reordered or replayed fails the MAC or the sequence.
 */
#ifndef TEITEN_FRAME_H
#define TEITEN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION 1
#define FRAME_HDR 16
#define FRAME_MAC 32
/*
 * The most a peer that has not authenticated can make the aggregator
 * buffer, and so the limit on every frame before the session's first
 * verified one; it holds any version-1 record (every key) with room to
 * spare, and so every frame an old aggregator accepts.
 */
#define FRAME_MAX_PREAUTH (2u << 20)
/*
 * Frames of an authenticated session: a version-2 record with sketches
 * (sensor/fit.h folds the sketches of a larger one until it fits).
 */
#define FRAME_MAX_PAYLOAD (32u << 20)
#define FRAME_KEY 32
#define FRAME_NONCE 16

enum frame_type {
	FRAME_HELLO = 1, /* sensor: id, client nonce; pre-shared key */
	FRAME_CHALLENGE = 2, /* aggregator: server nonce */
	FRAME_RECORD = 3, /* sensor: one encoded record */
	FRAME_ACK = 4, /* aggregator: status, interval start */
	/*
	 * sensor: empty, sealed with the session key as the first frame
	 * after the CHALLENGE, to authenticate the session before a record
	 * larger than FRAME_MAX_PREAUTH; not answered.
	 */
	FRAME_PROOF = 5,
};

/* Status of a record in an ACK. */
enum frame_ack {
	ACK_STORED = 0, /* durably archived */
	ACK_DUPLICATE = 1, /* already held for this sensor and interval */
	ACK_REJECTED = 2, /* valid frame, invalid record: do not resend */
	ACK_REFUSED = 3, /* valid record not accepted; a reason follows */
};

/*
 * Why a valid record was refused (the byte after an ACK_REFUSED's start).
 * Like a rejected one, a refused record is not sent again.
 */
enum frame_refusal {
	REFUSE_FUTURE = 1, /* starts too far ahead of the aggregator's clock */
	REFUSE_PAST = 2, /* starts at or before 0, or before 2000-01-01 */
	REFUSE_OPEN = 3, /* the sensor has too many intervals open */
	REFUSE_REASONS = 4 /* one past the last reason */
};

/* A short text for a refusal reason, "unknown reason" if out of range. */
const char *frame_refusal_str(int reason);

struct frame_hdr {
	uint8_t type;
	uint32_t len;
	uint64_t seq;
};

/*
 * Check a received header: magic, version, known type, and a payload of
 * at most max bytes (the receiver's limit: FRAME_MAX_PREAUTH or
 * FRAME_MAX_PAYLOAD; a larger max is taken as FRAME_MAX_PAYLOAD).
 */
int frame_parse_hdr(const uint8_t *, size_t max, struct frame_hdr *,
    const char **why);
/*
 * The payload is already at frame + FRAME_HDR; write the header in front
 * and the MAC behind it.  Returns the whole frame's length.  A payload
 * over FRAME_MAX_PAYLOAD is a bug of the caller (fatalx).
 */
size_t frame_seal(uint8_t *frame, enum frame_type, uint64_t seq, size_t len,
    const uint8_t key[FRAME_KEY]);
/* Constant-time check of the MAC of a whole frame of payload length len. */
int
frame_verify(const uint8_t *frame, size_t len, const uint8_t key[FRAME_KEY]);
/* Session key = HMAC(psk, "teiten-session-v1" | client | server nonce). */
void frame_session_key(const uint8_t psk[FRAME_KEY],
    const uint8_t client[FRAME_NONCE], const uint8_t server[FRAME_NONCE],
    uint8_t out[FRAME_KEY]);
/* Parse 64 hex digits into a key; returns 0 or -1. */
int frame_key_from_hex(const char *, uint8_t out[FRAME_KEY]);
/* Fill with random bytes from the system's CSPRNG. */
void frame_random(uint8_t *, size_t);

#endif

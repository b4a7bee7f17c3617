/*
 * Frames on libevent buffers, shared by sensor and aggregator: reading a
 * whole frame, sealing one onto an output buffer, checking one against a
 * session's key and sequence, and the small payloads of the handshake and
 * of acknowledgements (man/teiten-protocol.7).
 */
#ifndef TEITEN_WIRE_H
#define TEITEN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "frame.h"

struct wire_session {
	uint8_t key[FRAME_KEY];
	uint64_t send_seq, recv_seq;
};

/*
 * 1 and a pointer to the contiguous frame when a whole one is buffered,
 * 0 when more bytes are needed, -1 (with why) when the header is invalid
 * or announces a payload over max bytes (frame_parse_hdr), which is known
 * as soon as the header is in.  The caller drains FRAME_HDR + h->len +
 * FRAME_MAC bytes when done.
 */
int wire_read(struct evbuffer *in, size_t max, struct frame_hdr *h,
    uint8_t **frame, const char **why);
/* Seal payload with key and sequence, and append the frame to out. */
int wire_write(struct evbuffer *out, enum frame_type, uint64_t seq,
    const uint8_t *payload, size_t len, const uint8_t key[FRAME_KEY]);
/* Verify MAC and sequence of a frame in session s; advances recv_seq. */
int wire_check(struct wire_session *s, const uint8_t *frame,
    const struct frame_hdr *h, const char **why);
/* Seal with the session key and the next sequence number. */
int wire_send(struct wire_session *s, struct evbuffer *out, enum frame_type,
    const uint8_t *payload, size_t len);

/* HELLO: u8 id length | id | client nonce. */
size_t wire_hello_encode(uint8_t *buf, const char *id,
    const uint8_t nonce[FRAME_NONCE]);
int wire_hello_decode(const uint8_t *p, size_t len, char *id,
    uint8_t nonce[FRAME_NONCE]);
/*
 * The client's side of the handshake.  wire_hello_send: a fresh nonce in
 * nonce and the HELLO (frame 0, sealed with the pre-shared key) on out.
 * wire_challenge: the server's answer keys session s (the next frame sent
 * is 1); -1 with why if it is not a valid CHALLENGE for that nonce.
 */
int wire_hello_send(struct evbuffer *out, const char *id,
    const uint8_t psk[FRAME_KEY], uint8_t nonce[FRAME_NONCE]);
int wire_challenge(struct wire_session *s, const uint8_t psk[FRAME_KEY],
    const uint8_t nonce[FRAME_NONCE], const uint8_t *frame,
    const struct frame_hdr *h, const char **why);

/*
 * ACK: u8 status | zigzag varint interval start | u8 reason, the last only
 * with ACK_REFUSED.  reason is ignored (encode) or set to 0 (decode) for
 * the other statuses.
 */
size_t wire_ack_encode(uint8_t *buf, enum frame_ack, int64_t start, int reason);
int wire_ack_decode(const uint8_t *p, size_t len, enum frame_ack *,
    int64_t *start, int *reason);

#define WIRE_HELLO_MAX (1 + 64 + FRAME_NONCE)
#define WIRE_ACK_MAX (1 + 10 + 1)

#endif

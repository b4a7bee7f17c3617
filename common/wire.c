/* Frame I/O on evbuffers; see wire.h. */
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "varint.h"
#include "wire.h"
#include "xmalloc.h"

int
wire_read(struct evbuffer *in, size_t max, struct frame_hdr *h, uint8_t **frame,
    const char **why)
{
	uint8_t hdr[FRAME_HDR];
	size_t total;

	if (evbuffer_get_length(in) < FRAME_HDR)
		return 0;
	if (evbuffer_copyout(in, hdr, FRAME_HDR) != FRAME_HDR)
		return 0;
	if (frame_parse_hdr(hdr, max, h, why) == -1)
		return -1;
	total = FRAME_HDR + (size_t)h->len + FRAME_MAC;
	if (evbuffer_get_length(in) < total)
		return 0;
	if ((*frame = evbuffer_pullup(in, (ev_ssize_t)total)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	return 1;
}

int
wire_write(struct evbuffer *out, enum frame_type type, uint64_t seq,
    const uint8_t *payload, size_t len, const uint8_t key[FRAME_KEY])
{
	uint8_t *buf;
	size_t total;
	int rc;

	buf = xmalloc(FRAME_HDR + len + FRAME_MAC);
	memcpy(buf + FRAME_HDR, payload, len);
	total = frame_seal(buf, type, seq, len, key);
	rc = evbuffer_add(out, buf, total);
	free(buf);
	return rc;
}

int
wire_check(struct wire_session *s, const uint8_t *frame,
    const struct frame_hdr *h, const char **why)
{
	if (frame_verify(frame, h->len, s->key) == -1) {
		*why = "bad MAC";
		return -1;
	}
	/* After the MAC: only a genuine frame can be called a replay. */
	if (h->seq != s->recv_seq) {
		*why = "unexpected sequence number (replayed or reordered)";
		return -1;
	}
	s->recv_seq++;
	return 0;
}

int
wire_send(struct wire_session *s, struct evbuffer *out, enum frame_type type,
    const uint8_t *payload, size_t len)
{
	return wire_write(out, type, s->send_seq++, payload, len, s->key);
}

size_t
wire_hello_encode(uint8_t *buf, const char *id,
    const uint8_t nonce[FRAME_NONCE])
{
	size_t n = strlen(id);

	buf[0] = (uint8_t)n;
	memcpy(buf + 1, id, n);
	memcpy(buf + 1 + n, nonce, FRAME_NONCE);
	return 1 + n + FRAME_NONCE;
}

int
wire_hello_decode(const uint8_t *p, size_t len, char *id,
    uint8_t nonce[FRAME_NONCE])
{
	size_t n;

	if (len < 1)
		return -1;
	n = p[0];
	if (n == 0 || n > RECORD_ID_MAX || len != 1 + n + FRAME_NONCE)
		return -1;
	/* A NUL inside would hide bytes from the id check below. */
	if (memchr(p + 1, '\0', n) != NULL)
		return -1;
	memcpy(id, p + 1, n);
	id[n] = '\0';
	if (!record_valid_id(id))
		return -1;
	memcpy(nonce, p + 1 + n, FRAME_NONCE);
	return 0;
}

size_t
wire_ack_encode(uint8_t *buf, enum frame_ack status, int64_t start, int reason)
{
	size_t n;

	buf[0] = (uint8_t)status;
	n = 1 + varint_put(buf + 1, zigzag_encode(start));
	if (status == ACK_REFUSED)
		buf[n++] = (uint8_t)reason;
	return n;
}

int
wire_ack_decode(const uint8_t *p, size_t len, enum frame_ack *status,
    int64_t *start, int *reason)
{
	const uint8_t *q = p + 1, *end = p + len;
	uint64_t v;

	if (len < 2 || p[0] > ACK_REFUSED)
		return -1;
	if (varint_get(&q, end, &v) == -1)
		return -1;
	*reason = 0;
	if (p[0] == ACK_REFUSED) {
		/* An unknown reason is still a refusal: newer aggregators. */
		if (q == end || *q == 0)
			return -1;
		*reason = *q++;
	}
	if (q != end)
		return -1;
	*status = (enum frame_ack)p[0];
	*start = zigzag_decode(v);
	return 0;
}

int
wire_hello_send(struct evbuffer *out, const char *id,
    const uint8_t psk[FRAME_KEY], uint8_t nonce[FRAME_NONCE])
{
	uint8_t hello[WIRE_HELLO_MAX];
	size_t len;

	frame_random(nonce, FRAME_NONCE);
	len = wire_hello_encode(hello, id, nonce);
	return wire_write(out, FRAME_HELLO, 0, hello, len, psk);
}

int
wire_challenge(struct wire_session *s, const uint8_t psk[FRAME_KEY],
    const uint8_t nonce[FRAME_NONCE], const uint8_t *frame,
    const struct frame_hdr *h, const char **why)
{
	if (h->type != FRAME_CHALLENGE || h->len != FRAME_NONCE) {
		*why = "expected a challenge";
		return -1;
	}
	frame_session_key(psk, nonce, frame + FRAME_HDR, s->key);
	s->recv_seq = 0;
	s->send_seq = 1; /* the HELLO was frame 0 */
	return wire_check(s, frame, h, why);
}

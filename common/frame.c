/* Frame headers and HMAC-SHA-256 through libsodium; see frame.h. */
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "frame.h"
#include "log.h"

static const char frame_label[] = "teiten-session-v1";

int
frame_parse_hdr(const uint8_t *h, size_t max, struct frame_hdr *out,
    const char **why)
{
	if (h[0] != 'T' || h[1] != 'T') {
		*why = "not a teiten frame";
		return -1;
	}
	if (h[2] != FRAME_VERSION) {
		*why = "unsupported frame version";
		return -1;
	}
	if (h[3] < FRAME_HELLO || h[3] > FRAME_PROOF) {
		*why = "unknown frame type";
		return -1;
	}
	out->type = h[3];
	out->len = get_be32(h + 4);
	if (max > FRAME_MAX_PAYLOAD)
		max = FRAME_MAX_PAYLOAD;
	if (out->len > max) {
		*why = "frame too large";
		return -1;
	}
	out->seq = (uint64_t)get_be32(h + 8) << 32 | get_be32(h + 12);
	return 0;
}

static void
frame_mac(const uint8_t *frame, size_t len, const uint8_t key[FRAME_KEY],
    uint8_t out[FRAME_MAC])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, FRAME_KEY);
	crypto_auth_hmacsha256_update(&st, frame, FRAME_HDR + len);
	crypto_auth_hmacsha256_final(&st, out);
}

size_t
frame_seal(uint8_t *frame, enum frame_type type, uint64_t seq, size_t len,
    const uint8_t key[FRAME_KEY])
{
	if (len > FRAME_MAX_PAYLOAD)
		fatalx("frame_seal: payload of %zu bytes", len);
	frame[0] = 'T';
	frame[1] = 'T';
	frame[2] = FRAME_VERSION;
	frame[3] = (uint8_t)type;
	put_be32(frame + 4, (uint32_t)len);
	put_be32(frame + 8, (uint32_t)(seq >> 32));
	put_be32(frame + 12, (uint32_t)seq);
	frame_mac(frame, len, key, frame + FRAME_HDR + len);
	return FRAME_HDR + len + FRAME_MAC;
}

int
frame_verify(const uint8_t *frame, size_t len, const uint8_t key[FRAME_KEY])
{
	uint8_t mac[FRAME_MAC];

	frame_mac(frame, len, key, mac);
	return sodium_memcmp(mac, frame + FRAME_HDR + len, FRAME_MAC) == 0 ? 0
									   : -1;
}

void
frame_session_key(const uint8_t psk[FRAME_KEY],
    const uint8_t client[FRAME_NONCE], const uint8_t server[FRAME_NONCE],
    uint8_t out[FRAME_KEY])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, psk, FRAME_KEY);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)frame_label,
	    sizeof(frame_label) - 1);
	crypto_auth_hmacsha256_update(&st, client, FRAME_NONCE);
	crypto_auth_hmacsha256_update(&st, server, FRAME_NONCE);
	crypto_auth_hmacsha256_final(&st, out);
}

int
frame_key_from_hex(const char *hex, uint8_t out[FRAME_KEY])
{
	size_t n;
	const char *end;

	if (strlen(hex) != FRAME_KEY * 2)
		return -1;
	if (sodium_hex2bin(out, FRAME_KEY, hex, FRAME_KEY * 2, NULL, &n,
		&end) != 0 ||
	    n != FRAME_KEY || *end != '\0')
		return -1;
	return 0;
}

void
frame_random(uint8_t *p, size_t n)
{
	if (sodium_init() < 0)
		fatalx("libsodium cannot initialise");
	randombytes_buf(p, n);
}

const char *
frame_refusal_str(int reason)
{
	static const char *const why[REFUSE_REASONS] = {
	    [REFUSE_FUTURE] = "interval starts too far ahead of the "
			      "aggregator's clock",
	    [REFUSE_PAST] = "interval starts before 2000-01-01",
	    [REFUSE_OPEN] = "too many open intervals for this sensor",
	};

	if (reason <= 0 || reason >= REFUSE_REASONS)
		return "unknown reason";
	return why[reason];
}

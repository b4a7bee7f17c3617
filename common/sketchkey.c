/* The fleet's sketch key and its hash; see sketchkey.h. */
#include <string.h>

#include "keyfile.h"
#include "log.h"
#include "sketchkey.h"

#define SKETCHKEY_HASH_LABEL "teiten sketch hash"
#define SKETCHKEY_ID_LABEL "teiten sketch id"

_Static_assert(crypto_shorthash_KEYBYTES == 16, "SipHash-2-4 takes 16 bytes");
_Static_assert(crypto_shorthash_BYTES == 8, "SipHash-2-4 gives 8 bytes");
_Static_assert(RECORD_KEYID <= crypto_generichash_BYTES_MIN,
    "the key id is a prefix of the shortest generichash output");

/*
 * BLAKE2b-128 of label || filekey.  A label per use makes the hash key
 * and the id independent: the id, which every record shows, says nothing
 * about the hash key.
 */
static void
sketchkey_label_hash(uint8_t out[crypto_generichash_BYTES_MIN],
    const char *label, const uint8_t filekey[FRAME_KEY])
{
	crypto_generichash_state st;

	if (crypto_generichash_init(&st, NULL, 0,
		crypto_generichash_BYTES_MIN) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)label,
		strlen(label)) != 0 ||
	    crypto_generichash_update(&st, filekey, FRAME_KEY) != 0 ||
	    crypto_generichash_final(&st, out, crypto_generichash_BYTES_MIN) !=
		0)
		fatalx("crypto_generichash failed");
	sodium_memzero(&st, sizeof(st));
}

void
sketchkey_derive(struct sketchkey *k, const uint8_t filekey[FRAME_KEY])
{
	uint8_t h[crypto_generichash_BYTES_MIN];

	sketchkey_label_hash(h, SKETCHKEY_HASH_LABEL, filekey);
	memcpy(k->hash, h, sizeof(k->hash));
	sketchkey_label_hash(h, SKETCHKEY_ID_LABEL, filekey);
	memcpy(k->id, h, sizeof(k->id));
	sodium_memzero(h, sizeof(h));
}

int
sketchkey_read(struct sketchkey *k, const char *path, char *err, size_t errlen)
{
	uint8_t filekey[FRAME_KEY];

	if (keyfile_read(path, filekey, err, errlen) == -1)
		return -1;
	sketchkey_derive(k, filekey);
	sodium_memzero(filekey, sizeof(filekey));
	return 0;
}

void
sketchkey_builtin(struct sketchkey *k)
{
	static const uint8_t zero[FRAME_KEY];

	sketchkey_derive(k, zero);
}

uint64_t
sketchkey_hash(const struct sketchkey *k, const uint8_t *addr, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];

	(void)crypto_shorthash(h, addr, len, k->hash); /* cannot fail */
	return (uint64_t)h[0] | (uint64_t)h[1] << 8 | (uint64_t)h[2] << 16 |
	    (uint64_t)h[3] << 24 | (uint64_t)h[4] << 32 | (uint64_t)h[5] << 40 |
	    (uint64_t)h[6] << 48 | (uint64_t)h[7] << 56;
}

void
sketchkey_clear(struct sketchkey *k)
{
	sodium_memzero(k, sizeof(*k));
}

/* The fleet's sketch key, its id and its hash; see sketchkey.h. */
#include <string.h>

#include <sodium.h>

#include "frame.h"
#include "keyfile.h"
#include "sketchkey.h"

_Static_assert(crypto_shorthash_KEYBYTES == 16, "SipHash-2-4 takes 16 bytes");
_Static_assert(crypto_shorthash_BYTES == 8, "SipHash-2-4 gives 8 bytes");

/*
 * out (up to 16 bytes) from BLAKE2b-128(label || filekey).  A label per
 * use makes the hash key and the id independent: the id, which every
 * record shows, says nothing of the hash key.
 */
static void
derive(const char *label, const uint8_t filekey[32], uint8_t *out,
    size_t outlen)
{
	crypto_generichash_state st;
	uint8_t h[16];

	(void)crypto_generichash_init(&st, NULL, 0, sizeof(h));
	(void)crypto_generichash_update(&st, (const uint8_t *)label,
	    strlen(label));
	(void)crypto_generichash_update(&st, filekey, 32);
	(void)crypto_generichash_final(&st, h, sizeof(h));
	memcpy(out, h, outlen);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(h, sizeof(h));
}

void
sketchkey_derive(const uint8_t filekey[32], struct sketchkey *k)
{
	derive("teiten sketch hash", filekey, k->hash, sizeof(k->hash));
	derive("teiten sketch id", filekey, k->id, sizeof(k->id));
}

int
sketchkey_load(const char *path, struct sketchkey *k, char *err, size_t errlen)
{
	uint8_t key[FRAME_KEY];

	_Static_assert(FRAME_KEY == 32, "a sketch key file holds 32 bytes");
	if (keyfile_read(path, key, err, errlen) == -1)
		return -1;
	sketchkey_derive(key, k);
	sodium_memzero(key, sizeof(key));
	return 0;
}

void
sketchkey_builtin(struct sketchkey *k)
{
	static const uint8_t zero[32];

	sketchkey_derive(zero, k);
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

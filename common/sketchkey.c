/* The fleet's sketch key and its id; see sketchkey.h. */
#include <string.h>

#include <sodium.h>

#include "frame.h"
#include "keyfile.h"
#include "sketchkey.h"

/* out (up to 16 bytes) from BLAKE2b-128(label || filekey). */
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

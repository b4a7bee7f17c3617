/*
 * The fleet's sketch key (issue 10): one key file in the keyfile.h format,
 * the same on every sensor and the aggregator.  Sensors hash addresses
 * with SipHash-2-4 (crypto_shorthash) under hash, the first 16 bytes of
 * BLAKE2b-128("teiten sketch hash" || file key), read as a little-endian
 * 64-bit item on every host; records name id, the first 8 bytes of
 * BLAKE2b-128("teiten sketch id" || file key), so that only sketches of
 * one key are merged.  libsodium's generic hash gives at least 16 bytes,
 * hence the 8 taken from 16.  The file key itself is wiped after use.
 * Callers have called sodium_init().
 */
#ifndef TEITEN_SKETCHKEY_H
#define TEITEN_SKETCHKEY_H

#include <stddef.h>
#include <stdint.h>

struct sketchkey {
	uint8_t hash[16]; /* crypto_shorthash key */
	uint8_t id[8]; /* what records carry (RECORD_KEYID) */
};

/* Returns 0, or -1 with one line in err naming the file. */
int
sketchkey_load(const char *path, struct sketchkey *, char *err, size_t errlen);
/* The derivation alone, from the file's 32-byte key. */
void sketchkey_derive(const uint8_t filekey[32], struct sketchkey *);
/*
 * A fixed key built in (derived from a file key of 32 zero bytes), for
 * output that stays on the host: --print --sources gives the same
 * estimates on every run and host.  Anyone can compute its hashes, so
 * sketches made with it are never sent.
 */
void sketchkey_builtin(struct sketchkey *);
/* The item of an address of len bytes (4 or 16). */
uint64_t
sketchkey_hash(const struct sketchkey *, const uint8_t *addr, size_t len);
/* Wipe the key from memory. */
void sketchkey_clear(struct sketchkey *);

#endif

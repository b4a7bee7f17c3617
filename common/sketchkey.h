/*
 * The fleet's sketch key: the keyed hash that turns an address into the
 * 64-bit item a distinct-count sketch takes (common/hll.h), and the id a
 * record carries so that only sketches of one key are merged.  Derived
 * from a key file (common/keyfile.h) shared by every sensor of a fleet:
 *   hash key = BLAKE2b-128("teiten sketch hash" || file key)
 *   key id   = first 8 bytes of BLAKE2b-128("teiten sketch id" || file key)
 * (libsodium's crypto_generichash, unkeyed; it has no 8-byte output).  The
 * hash is SipHash-2-4 (crypto_shorthash) of the raw address bytes, read as
 * a little-endian 64-bit number on every host.  Callers have called
 * sodium_init().
 */
#ifndef TEITEN_SKETCHKEY_H
#define TEITEN_SKETCHKEY_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "frame.h"
#include "record.h"

struct sketchkey {
	uint8_t hash[crypto_shorthash_KEYBYTES];
	uint8_t id[RECORD_KEYID];
};

/* Derive from the 32 bytes of a key file. */
void sketchkey_derive(struct sketchkey *, const uint8_t filekey[FRAME_KEY]);
/* Read the key file at path and derive; -1 with one line in err. */
int
sketchkey_read(struct sketchkey *, const char *path, char *err, size_t errlen);
/*
 * A fixed key built in (derived from a file key of 32 zero bytes), for
 * output that stays on the host: --print gives the same estimates on
 * every run and host.  Anyone can compute its hashes, so sketches made
 * with it must never be sent.
 */
void sketchkey_builtin(struct sketchkey *);
/* The item of an address of len bytes (4 or 16). */
uint64_t
sketchkey_hash(const struct sketchkey *, const uint8_t *addr, size_t len);
/* Wipe the key from memory. */
void sketchkey_clear(struct sketchkey *);

#endif

/*
 * The sensor's side of the distinct-count sketches (common/hll.h): the
 * fleet's key (common/sketchkey.h), the precision and memory budget each
 * interval starts with, and the last address hashed per role.  A scan
 * repeats its source packet after packet, and backscatter its target, so
 * most packets hash nothing.  One per sensor, shared by the intervals the
 * tally keeps open (counts.h); the caller owns it.
 */
#ifndef TEITEN_SKETCH_H
#define TEITEN_SKETCH_H

#include <stdint.h>
#include <string.h>

#include "sketchkey.h"

struct sketch_cache {
	uint8_t addr[16];
	uint8_t family; /* 0: nothing cached */
	uint64_t hash;
};

struct sketch {
	struct sketchkey key;
	/*
	 * The key came from the fleet's key file: records carry the
	 * sketches.  The built-in key's serve --print only.
	 */
	int send;
	unsigned p; /* precision an interval starts at */
	uint64_t budget; /* sketch bytes of one interval before folding */
	struct sketch_cache src, dst;
};

/* With key NULL, the built-in key and nothing sent. */
void sketch_init(struct sketch *, const struct sketchkey *key, uint64_t budget);
void sketch_clear(struct sketch *);

/* The item of an address of family 4 or 6, from the cache if it is there. */
static inline uint64_t
sketch_hash(const struct sketch *s, struct sketch_cache *c, const uint8_t *addr,
    unsigned family)
{
	size_t len = family == 4 ? 4 : 16;

	if (c->family != family || memcmp(c->addr, addr, len) != 0) {
		memcpy(c->addr, addr, len);
		c->family = (uint8_t)family;
		c->hash = sketchkey_hash(&s->key, addr, len);
	}
	return c->hash;
}

#endif

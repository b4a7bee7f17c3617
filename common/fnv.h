/*
 * FNV-1a, 32 bits: a quick hash of a few bytes, for hash chains and for
 * signatures that tell whether what a page shows changed.  Not for
 * anything an adversary chooses to collide (it is not keyed).  Start
 * with FNV1A_INIT and chain calls to hash several pieces.
 */
#ifndef TEITEN_FNV_H
#define TEITEN_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 2166136261u

static inline uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

#endif

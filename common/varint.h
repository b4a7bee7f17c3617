/*
 * LEB128 unsigned varints (7 bits a byte, low first) and zigzag for signed
 * values, as the record format uses them.  Decoding refuses overlong and
 * overflowing encodings, so every value has exactly one encoding.
 */
#ifndef TEITEN_VARINT_H
#define TEITEN_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10

/* Writes v at p (room for VARINT_MAX bytes); returns bytes written. */
size_t varint_put(uint8_t *p, uint64_t v);
/* Reads from [*p, end); advances *p.  Returns 0, or -1 if invalid. */
int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);

static inline uint64_t
zigzag_encode(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t
zigzag_decode(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif

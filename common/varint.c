/* LEB128 varints; see varint.h. */
#include "varint.h"

size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

int
varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (p == end || shift > 63)
			return -1;
		b = *p++;
		/* The tenth byte may only carry the top bit of 64. */
		if (shift == 63 && (b & 0xfe) != 0)
			return -1;
		r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	/* A trailing zero byte makes an overlong encoding. */
	if (b == 0 && shift > 7)
		return -1;
	*pp = p;
	*v = r;
	return 0;
}

/* Bitwise-table CRC-32C; see crc32c.h. */
#include "crc32c.h"

static uint32_t crc32c_table[256];

static void
crc32c_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc32c_table[i] = c;
	}
}

uint32_t
crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	if (crc32c_table[1] == 0)
		crc32c_init();
	while (n-- > 0)
		c = crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffff;
}

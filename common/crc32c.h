/* CRC-32C (Castagnoli), used to find torn or damaged archive entries. */
#ifndef TEITEN_CRC32C_H
#define TEITEN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(const uint8_t *, size_t);

#endif

/*
 * Big-endian integers in byte buffers, as frame headers and archive
 * entries store them, and a write() that finishes the job.
 */
#ifndef TEITEN_BYTES_H
#define TEITEN_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Write all len bytes, retrying short writes and EINTR; 0 or -1. */
int write_all(int fd, const void *buf, size_t len);

#endif

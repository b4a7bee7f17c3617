/*
 * Allocation wrappers that never return NULL: they abort through fatal()
 * on failure and refuse a zero size, which is always a caller bug here.
 * The caller owns what they return and releases it with free().
 */
#ifndef TEITEN_XMALLOC_H
#define TEITEN_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);

#endif

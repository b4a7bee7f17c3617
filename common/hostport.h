/*
 * "HOST:PORT" and "[V6ADDR]:PORT" as options give them.  Results are
 * written into caller buffers.
 */
#ifndef TEITEN_HOSTPORT_H
#define TEITEN_HOSTPORT_H

#include <stddef.h>

/* Returns 0, or -1 if s has no port or a part does not fit. */
int hostport_split(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen);

#endif

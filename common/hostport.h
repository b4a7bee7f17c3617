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

struct addrinfo;
/*
 * The address to listen on for "ADDR:PORT" ("*" for every address): the
 * first of getaddrinfo()'s passive TCP answers, which the caller frees
 * with freeaddrinfo().  -1 with one line in err naming addr ("what ADDR:
 * ..." when what is not NULL).
 */
int hostport_passive(const char *what, const char *addr, struct addrinfo **res,
    char *err, size_t errlen);

#endif

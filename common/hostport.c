/* HOST:PORT splitting; see hostport.h. */
#include <sys/socket.h>

#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hostport.h"
#include "parse.h"

int
hostport_split(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon, *h = s;
	size_t hl;
	uint64_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL)
			return -1; /* a bare IPv6 address needs brackets */
	}
	if (hl == 0 || hl >= hostlen || strlen(colon + 1) >= portlen ||
	    parse_u64(colon + 1, 1, 65535, &n) == -1)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

int
hostport_passive(const char *what, const char *addr, struct addrinfo **res,
    char *err, size_t errlen)
{
	struct addrinfo hints;
	char host[256], port[8];
	int rc;

	if (hostport_split(addr, host, sizeof(host), port, sizeof(port)) ==
	    -1) {
		snprintf(err, errlen, "bad %s address %s: use ADDR:PORT",
		    what != NULL ? what : "listen", addr);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port,
		 &hints, res)) != 0) {
		snprintf(err, errlen, "%s%s%s: %s", what != NULL ? what : "",
		    what != NULL ? " " : "", addr, gai_strerror(rc));
		return -1;
	}
	return 0;
}

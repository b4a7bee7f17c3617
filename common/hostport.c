/* HOST:PORT splitting; see hostport.h. */
#include <stdint.h>
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

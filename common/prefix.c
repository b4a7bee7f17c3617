/* CIDR lists and address matching; see prefix.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "prefix.h"
#include "xmalloc.h"

struct prefix {
	int family; /* 4 or 6 */
	unsigned len;
	uint8_t addr[16];
};

struct prefixes {
	struct prefix *v;
	size_t n, cap;
};

struct prefixes *
prefixes_new(void)
{
	return xcalloc(1, sizeof(struct prefixes));
}

void
prefixes_free(struct prefixes *ps)
{
	if (ps == NULL)
		return;
	free(ps->v);
	free(ps);
}

static int
prefix_match(const struct prefix *p, const uint8_t *a)
{
	unsigned whole = p->len / 8, rest = p->len % 8;
	uint8_t mask;

	if (memcmp(p->addr, a, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((p->addr[whole] ^ a[whole]) & mask) == 0;
}

/* Host bits beyond len must be zero, else the operator meant another net. */
static int
prefix_hostbits(const struct prefix *p)
{
	unsigned i, bytes = p->family == 4 ? 4 : 16;

	for (i = 0; i < bytes * 8; i++)
		if (i >= p->len && (p->addr[i / 8] & (0x80 >> (i % 8))))
			return 1;
	return 0;
}

int
prefixes_add(struct prefixes *ps, const char *text, char *err, size_t errlen)
{
	struct prefix p;
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	uint64_t len;
	unsigned max;

	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "prefix too long: %.40s...", text);
		return -1;
	}
	strcpy(buf, text);
	memset(&p, 0, sizeof(p));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, p.addr) == 1)
		p.family = 4;
	else if (inet_pton(AF_INET6, buf, p.addr) == 1)
		p.family = 6;
	else {
		snprintf(err, errlen, "not an IPv4 or IPv6 address: %s", text);
		return -1;
	}
	max = p.family == 4 ? 32 : 128;
	if (slash == NULL)
		len = max;
	else if (parse_u64(slash, 0, max, &len) == -1) {
		snprintf(err, errlen, "bad prefix length: %s", text);
		return -1;
	}
	p.len = (unsigned)len;
	if (prefix_hostbits(&p)) {
		snprintf(err, errlen, "host bits set in prefix: %s", text);
		return -1;
	}
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 4;
		ps->v = xreallocarray(ps->v, ps->cap, sizeof(*ps->v));
	}
	ps->v[ps->n++] = p;
	return 0;
}

int
prefixes_add_list(struct prefixes *ps, const char *list, char *err,
    size_t errlen)
{
	char *copy, *tok, *save = NULL;
	int rc = 0;

	copy = xstrdup(list);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if ((rc = prefixes_add(ps, tok, err, errlen)) == -1)
			break;
	}
	free(copy);
	return rc;
}

size_t
prefixes_count(const struct prefixes *ps)
{
	return ps->n;
}

static int
prefixes_match(const struct prefixes *ps, int family, const uint8_t *a)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].family == family && prefix_match(&ps->v[i], a))
			return 1;
	return 0;
}

int
prefixes_match4(const struct prefixes *ps, const uint8_t *a)
{
	return prefixes_match(ps, 4, a);
}

int
prefixes_match6(const struct prefixes *ps, const uint8_t *a)
{
	return prefixes_match(ps, 6, a);
}

uint64_t
prefixes_naddrs(const struct prefixes *ps)
{
	uint64_t total = 0, n;
	unsigned hostbits;
	size_t i;

	for (i = 0; i < ps->n; i++) {
		hostbits = (ps->v[i].family == 4 ? 32 : 128) - ps->v[i].len;
		if (hostbits >= 64)
			return UINT64_MAX;
		n = (uint64_t)1 << hostbits;
		if (total > UINT64_MAX - n)
			return UINT64_MAX;
		total += n;
	}
	return total;
}

int
prefixes_equal(const struct prefixes *a, const struct prefixes *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->v[i].family != b->v[i].family ||
		    a->v[i].len != b->v[i].len ||
		    memcmp(a->v[i].addr, b->v[i].addr, 16) != 0)
			return 0;
	return 1;
}

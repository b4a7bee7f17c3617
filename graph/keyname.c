/* Key labels, services and colours; see keyname.h. */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyidx.h"
#include "keyname.h"
#include "parse.h"

void
key_label(uint32_t idx, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%u", proto_name(keyidx_proto(idx)),
	    keyidx_key(idx));
}

int
key_parse(const char *s, uint32_t *idx)
{
	const char *slash = strchr(s, '/');
	char name[8];
	uint64_t k;
	int p;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(name))
		return -1;
	memcpy(name, s, (size_t)(slash - s));
	name[slash - s] = '\0';
	if ((p = proto_from_name(name)) == -1 ||
	    parse_u64(slash + 1, 0, proto_nkeys(p) - 1, &k) == -1)
		return -1;
	*idx = keyidx(p, (unsigned)k);
	return 0;
}

static const char *const icmp_types[] = {[0] = "echo reply",
    [3] = "unreachable",
    [4] = "source quench",
    [5] = "redirect",
    [8] = "echo request",
    [9] = "router advert",
    [10] = "router solicit",
    [11] = "time exceeded",
    [12] = "parameter",
    [13] = "timestamp",
    [14] = "timestamp reply",
    [17] = "mask request",
    [18] = "mask reply"};

static const char *const icmp6_types[] = {[1] = "unreachable",
    [2] = "packet too big",
    [3] = "time exceeded",
    [4] = "parameter",
    [128] = "echo request",
    [129] = "echo reply",
    [133] = "router solicit",
    [134] = "router advert",
    [135] = "neighbor solicit",
    [136] = "neighbor advert",
    [137] = "redirect"};

const char *
key_service(uint32_t idx)
{
	enum proto p = keyidx_proto(idx);
	unsigned k = keyidx_key(idx);
	struct servent *se;
	const char *s = NULL;

	switch (p) {
	case PROTO_TCP:
	case PROTO_UDP:
		se = getservbyport((int)htons((uint16_t)k), proto_name(p));
		s = se != NULL ? se->s_name : NULL;
		break;
	case PROTO_ICMP:
		if (k < sizeof(icmp_types) / sizeof(icmp_types[0]))
			s = icmp_types[k];
		break;
	default:
		if (k < sizeof(icmp6_types) / sizeof(icmp6_types[0]))
			s = icmp6_types[k];
		break;
	}
	return s != NULL ? s : "";
}

/*
 * Sixteen colours that stay apart on white and from each other (Tableau's
 * ten, dark gold, black, and four dark tones of d3's category20b): a
 * window draws up to fifteen keys (ten ports, five ICMP types) whose
 * swatches share one table, so each can have its own.  Hashing a port to
 * a hue gave neighbouring lines near-identical reds and teals; a short
 * palette with the usual hot keys placed by hand keeps the graphs
 * analysts read daily distinguishable.
 */
static const char *const palette[KEY_PALETTE] = {"#1F77B4", "#FF7F0E",
    "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
    "#17BECF", "#A6761D", "#000000", "#393B79", "#637939", "#843C39",
    "#7B4173"};

static const struct {
	enum proto proto;
	unsigned key, slot;
} fixed[] = {
    {PROTO_TCP, 23, 0},
    {PROTO_TCP, 445, 3},
    {PROTO_TCP, 22, 2},
    {PROTO_TCP, 80, 1},
    {PROTO_TCP, 3389, 4},
    {PROTO_TCP, 8080, 9},
    {PROTO_TCP, 1433, 5},
    {PROTO_TCP, 443, 6},
    {PROTO_UDP, 53, 8},
    {PROTO_TCP, 5900, 10},
    {PROTO_ICMP, 8, 12},
    {PROTO_ICMP, 0, 13},
    {PROTO_ICMP, 3, 14},
    {PROTO_ICMP, 11, 15},
    {PROTO_ICMP6, 128, 7},
    {PROTO_ICMP6, 1, 11},
};

unsigned
key_colour_slot(uint32_t idx)
{
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (keyidx_proto(idx) == fixed[i].proto &&
		    keyidx_key(idx) == fixed[i].key)
			return fixed[i].slot;
	/* Fibonacci hashing: nearby ports land on different slots. */
	return (unsigned)(((uint64_t)(idx * 2654435761u) * KEY_PALETTE) >> 32);
}

const char *
key_palette(unsigned slot)
{
	return palette[slot % KEY_PALETTE];
}

void
key_title(uint32_t idx, char *buf, size_t len)
{
	char label[32];
	const char *svc = key_service(idx);

	key_label(idx, label, sizeof(label));
	snprintf(buf, len, "%s%s%s", label, *svc ? " " : "", svc);
}

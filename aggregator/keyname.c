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
 * A hue from the key (golden-ratio steps spread neighbours apart), at a
 * saturation and lightness that read on white.
 */
void
key_colour(uint32_t idx, char buf[8])
{
	double h = (double)((idx * 2654435761u) >> 8) / (double)(1u << 24);
	double s = 0.75, l = 0.42, c, x, m, r = 0, g = 0, b = 0;
	int sector;

	h *= 6;
	sector = (int)h;
	c = (1 - (2 * l - 1 < 0 ? 1 - 2 * l : 2 * l - 1)) * s;
	x = c *
	    (1 -
		((h - 2 * (int)(h / 2)) - 1 < 0 ? 1 - (h - 2 * (int)(h / 2))
						: (h - 2 * (int)(h / 2)) - 1));
	m = l - c / 2;
	switch (sector % 6) {
	case 0:
		r = c;
		g = x;
		break;
	case 1:
		r = x;
		g = c;
		break;
	case 2:
		g = c;
		b = x;
		break;
	case 3:
		g = x;
		b = c;
		break;
	case 4:
		r = x;
		b = c;
		break;
	default:
		r = c;
		b = x;
		break;
	}
	snprintf(buf, 8, "#%02X%02X%02X", (unsigned)((r + m) * 255),
	    (unsigned)((g + m) * 255), (unsigned)((b + m) * 255));
}

void
key_rrd_path(const char *datadir, uint32_t idx, char *buf, size_t len)
{
	snprintf(buf, len, "%s/rrd/%s/%u.rrd", datadir,
	    proto_name(keyidx_proto(idx)), keyidx_key(idx));
}

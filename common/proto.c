/* Protocol names; see proto.h. */
#include <string.h>

#include "proto.h"

static const char *const proto_names[PROTO_COUNT] = {
    [PROTO_TCP] = "tcp",
    [PROTO_UDP] = "udp",
    [PROTO_ICMP] = "icmp",
    [PROTO_ICMP6] = "icmp6",
};

const char *
proto_name(enum proto p)
{
	if ((unsigned)p >= PROTO_COUNT)
		return "?";
	return proto_names[p];
}

int
proto_from_name(const char *s)
{
	int p;

	for (p = 0; p < PROTO_COUNT; p++)
		if (strcmp(s, proto_names[p]) == 0)
			return p;
	return -1;
}

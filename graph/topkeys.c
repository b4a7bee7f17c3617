/* The top graphs' keys; see topkeys.h. */
#include <string.h>

#include "keyidx.h"
#include "topkeys.h"

const struct window_graph window_graphs[] = {
    {"top1-5", "top 1-5 TCP/UDP ports", 1, 0},
    {"top6-10", "top 6-10 TCP/UDP ports", 1, GRAPH_KEYS},
    {"icmp", "top ICMP and ICMPv6 types", 0, 0},
};

const struct window_graph *
window_graph_find(const char *name)
{
	size_t i;
	const char *s;

	for (i = 0; i < NWINDOW_GRAPHS; i++) {
		s = window_graphs[i].suffix;
		if (strncmp(s, "top", 3) == 0)
			s += 3;
		if (strcmp(name, s) == 0)
			return &window_graphs[i];
	}
	return NULL;
}

int
is_port(uint32_t idx)
{
	enum proto p = keyidx_proto(idx);

	return p == PROTO_TCP || p == PROTO_UDP;
}

size_t
pick_keys(const struct window *w, int want_port, size_t first, uint32_t *out)
{
	size_t i, seen = 0, n = 0;

	for (i = 0; i < w->n && n < GRAPH_KEYS; i++) {
		if (is_port(w->idx[i]) != want_port)
			continue;
		if (seen++ >= first)
			out[n++] = w->idx[i];
	}
	return n;
}

/*
 * The top graphs drawn over a window or a period: the top 1-5 and 6-10
 * TCP/UDP ports and the top ICMP/ICMPv6 types, each GRAPH_KEYS keys picked
 * from a ranking (window.h).  The site draws all three for every window,
 * `teiten-graph png --top` one of them.
 */
#ifndef TEITEN_TOPKEYS_H
#define TEITEN_TOPKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "window.h"

#define GRAPH_KEYS 5 /* keys per top graph */

struct window_graph { /* <window>-<suffix>.png */
	const char *suffix, *title;
	int port;
	size_t first;
};

#define NWINDOW_GRAPHS 3
extern const struct window_graph window_graphs[NWINDOW_GRAPHS];

/* By the name png --top takes: "1-5", "6-10" or "icmp"; NULL if none. */
const struct window_graph *window_graph_find(const char *name);
/* 1 for a TCP or UDP port, 0 for an ICMP or ICMPv6 type. */
int is_port(uint32_t idx);
/*
 * The keys ranked from first to first + GRAPH_KEYS - 1 (0-based) among
 * those that are ports (want_port) or ICMP types (!want_port), into out
 * (GRAPH_KEYS long); how many.
 */
size_t
pick_keys(const struct window *, int want_port, size_t first, uint32_t *out);

#endif

/*
 * A sensor's or a group's ranking over a window, from the window's
 * per-sensor sums (window_sensors()) beside the fleet's window
 * (summary_window()): its own mean per key, packets per interval it
 * reported (a group's: its sensors' sums over their reported intervals,
 * summed), its top keys, each one's ratio to the fleet's mean (contract
 * 4) and whether no other sensor saw the key in the window.
 */
#ifndef TEITEN_SENSRANK_H
#define TEITEN_SENSRANK_H

#include <stddef.h>
#include <stdint.h>

#include "sensbucket.h"
#include "window.h"

#define SENSRANK_MAX 10

struct sensrank {
	uint64_t reported; /* intervals reported (a group: summed) */
	size_t n; /* keys ranked, at most SENSRANK_MAX */
	uint32_t idx[SENSRANK_MAX];
	double mean[SENSRANK_MAX]; /* its own, > 0 */
	double fleet[SENSRANK_MAX]; /* the fleet's window mean, 0 if none */
	double ratio[SENSRANK_MAX]; /* mean / fleet, NAN when fleet is 0 */
	int only[SENSRANK_MAX]; /* no other sensor saw the key */
};

/*
 * Rank the sensors ids[0..nids) of b taken together (one sensor: nids 1;
 * ids not in b count nothing), at most max (<= SENSRANK_MAX) keys by
 * mean, most first, ties by key index; fleet means from w.  "only" is set
 * when ids name one sensor of b and no other sensor of b counted the key.
 */
void sensrank(const struct sensbucket *b, const char *const *ids, size_t nids,
    const struct window *w, size_t max, struct sensrank *out);

/*
 * One sensor's keys that stand out: by how far its mean exceeds the
 * fleet's (mean - fleet mean), most first, only keys above the fleet's.
 * A key no other sensor saw stands out by all but its share of the
 * fleet's mean, so a port only it sees ranks by its own packets.
 */
void sensrank_excess(const struct sensbucket *b, const char *id,
    const struct window *w, size_t max, struct sensrank *out);

#endif

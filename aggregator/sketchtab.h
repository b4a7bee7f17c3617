/*
 * The fleet's sketches of one interval per key: an open-addressing hash
 * table from key index (keyidx.h) to the union of the sensors' sketches
 * of distinct sources and targets (hll.h), sized to the keys seen, as
 * sumtab.h is for packet sums.  The table owns its sketches.
 */
#ifndef TEITEN_SKETCHTAB_H
#define TEITEN_SKETCHTAB_H

#include <stddef.h>
#include <stdint.h>

#include "hll.h"

struct sketchtab_entry {
	uint32_t key; /* key index + 1; 0 = empty slot */
	struct hll *src, *dst;
};

struct sketchtab {
	struct sketchtab_entry *v;
	size_t cap, n;
	size_t bytes; /* what the sketches hold, structs included */
};

void sketchtab_init(struct sketchtab *);
void sketchtab_free(struct sketchtab *);
/* Merge one sensor's sketches of the key into the fleet's (NULL: none). */
void sketchtab_merge(struct sketchtab *, uint32_t idx, const struct hll *src,
    const struct hll *dst);
/* The key's entry, or NULL if no sketch of it was merged. */
const struct sketchtab_entry *
sketchtab_get(const struct sketchtab *, uint32_t idx);
/* Move the key's sketches out to the caller (NULL if none), as owner. */
void sketchtab_take(struct sketchtab *, uint32_t idx, struct hll **src,
    struct hll **dst);
/* The memory it holds beside the struct itself. */
size_t sketchtab_bytes(const struct sketchtab *);
/*
 * dst becomes the union of dst and src, *dst made on first use; returns
 * how many bytes the sketch holds now less before, as *acct counts them.
 */
void sketch_union(struct hll **dst, const struct hll *src, size_t *acct);

#endif

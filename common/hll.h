/*
 * Distinct-count sketches: HyperLogLog with a sparse representation for
 * small sets, as HLL++ (Heule, Nunkesser, Hall 2013) lays it out, and
 * Ertl's improved estimator (2017), which needs no bias tables.
 *
 * A sketch takes 64-bit keyed hashes of its items (the caller hashes:
 * sensor/sketch.c).  While small it keeps, per index of HLL_SP bits, the
 * largest rank seen, as sorted unique 32-bit words: estimates there are
 * linear counting over 2^26 buckets, exact in practice up to a few
 * thousand items.  Past HLL_SPARSE_MAX(p) words it turns dense: 2^p
 * one-byte registers (p = 14: 16 KiB in memory, 12 KiB encoded, standard
 * error 1.04 / sqrt(2^p) = 0.81%).  Sketches of the same precision merge
 * losslessly (the union's sketch is the sketch of the union); merging
 * one of lower precision folds the other down to it first, and a sketch
 * can be folded to any lower precision exactly as if built there.
 *
 * The encoding is strict and canonical (man/teiten-protocol.7): a sparse
 * sketch as its word count and sorted word gaps, a dense one as 0 and its
 * registers, six bits each.  hll_decode() checks every word, register
 * and length.  A sketch owns its memory; hll_free() accepts NULL.
 */
#ifndef TEITEN_HLL_H
#define TEITEN_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P_MIN 4
#define HLL_P_MAX 18
#define HLL_P_DEFAULT 14
#define HLL_SP 26 /* index bits of a sparse word */
/* Sparse words a sketch of precision p keeps before it turns dense. */
#define HLL_SPARSE_MAX(p) (((size_t)1 << (p)) / 8)

struct hll;

struct hll *hll_new(unsigned p);
void hll_free(struct hll *);
/* Empty it again, at precision p. */
void hll_reset(struct hll *, unsigned p);
unsigned hll_precision(const struct hll *);
int hll_is_dense(const struct hll *);
int hll_is_empty(const struct hll *);

/* Add one item by its 64-bit hash.  Inline-cheap when already present. */
void hll_add(struct hll *, uint64_t hash);
/*
 * Prefetch where hll_add(h, hash) will write, so that a caller with many
 * sketches can overlap the cache misses of several adds.  Changes nothing.
 */
void hll_prefetch(const struct hll *, uint64_t hash);
/* dst becomes the union of dst and src, at the lower of their precisions. */
void hll_merge(struct hll *dst, const struct hll *src);
/* Lower the precision to p (no-op if already at or below it). */
void hll_fold(struct hll *, unsigned p);
/* Estimated number of distinct items. */
double hll_estimate(const struct hll *);
/* Heap bytes held, beside the struct itself (for memory budgets). */
size_t hll_bytes(const struct hll *);

/* Bytes hll_encode() needs at most. */
size_t hll_encoded_max(const struct hll *);
/* Returns bytes written, or 0 if cap is too small. */
size_t hll_encode(const struct hll *, uint8_t *buf, size_t cap);
/*
 * Decode one sketch of precision p from *pp (advanced past it) into h,
 * which is reset to p first.  Returns 0, or -1 with a static reason.
 */
int hll_decode(struct hll *, unsigned p, const uint8_t **pp, const uint8_t *end,
    const char **why);

#endif

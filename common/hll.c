/*
 * HyperLogLog sketches (common/hll.h).
 *
 * A hash h gives two views.  Dense, of precision p: register h >> (64 - p)
 * takes rank(h << p), where rank(x) is one more than the leading zeros of
 * x, and 65 - p when x is 0.  Sparse: the word (h >> 38) << 6 | rank(h <<
 * 26), an index of HLL_SP = 26 bits and a rank of 1 to 39.  A word holds
 * everything any precision up to 26 needs, so sparse words turn into
 * registers of any p exactly as the hash would have (word_register()),
 * and a sparse sketch needs no precision until it turns dense.
 *
 * In memory the sparse words live in an open-addressing table keyed by
 * index (0 is never a word, so it marks a free slot), at most half full;
 * at HLL_SPARSE_MAX(p) words the table is as big as the 2^p one-byte
 * registers, and the sketch turns dense.  Encoding sorts the words.
 *
 * Encoding: varint t; t = 0: dense, 2^p registers of 6 bits packed
 * little-endian (register i in bits 6i..6i+5 of the byte string); t >= 1:
 * sparse with t - 1 words, the first as a varint, each next as the gap to
 * the one before less one.  Words ascend by index, one per index.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"
#include "varint.h"
#include "xmalloc.h"

#define SP_RANK_MAX (64 - HLL_SP + 1)

struct hll {
	uint8_t p;
	uint8_t dense;
	uint32_t nwords; /* sparse words held */
	uint32_t cap; /* sparse table slots, a power of two, or 0 */
	uint32_t *slot;
	uint8_t *reg; /* dense: 2^p registers */
};

static inline unsigned
rank64(uint64_t x, unsigned none)
{
	return x != 0 ? (unsigned)__builtin_clzll(x) + 1 : none;
}

static inline uint32_t
word_of(uint64_t h)
{
	return (uint32_t)(h >> (64 - HLL_SP)) << 6 |
	    rank64(h << HLL_SP, SP_RANK_MAX);
}

/* The register and rank a word gives at precision p. */
static inline void
word_register(uint32_t w, unsigned p, uint32_t *i, unsigned *r)
{
	uint32_t idx = w >> 6, extra, bits = HLL_SP - p;

	*i = idx >> bits;
	extra = idx & (((uint32_t)1 << bits) - 1);
	if (extra != 0)
		*r = bits - (32 - (unsigned)__builtin_clz(extra)) + 1;
	else
		*r = bits + (w & 63);
}

struct hll *
hll_new(unsigned p)
{
	struct hll *h = xcalloc(1, sizeof(*h));

	h->p = (uint8_t)p;
	return h;
}

void
hll_free(struct hll *h)
{
	if (h == NULL)
		return;
	free(h->slot);
	free(h->reg);
	free(h);
}

void
hll_reset(struct hll *h, unsigned p)
{
	/* The sparse table is kept: a set that was large is likely again. */
	free(h->reg);
	h->reg = NULL;
	h->dense = 0;
	if (h->cap != 0)
		memset(h->slot, 0, h->cap * sizeof(*h->slot));
	h->nwords = 0;
	h->p = (uint8_t)p;
}

unsigned
hll_precision(const struct hll *h)
{
	return h->p;
}

int
hll_is_dense(const struct hll *h)
{
	return h->dense;
}

int
hll_is_empty(const struct hll *h)
{
	size_t i, m;

	if (!h->dense)
		return h->nwords == 0;
	for (i = 0, m = (size_t)1 << h->p; i < m; i++)
		if (h->reg[i] != 0)
			return 0;
	return 1;
}

static inline void
reg_max(uint8_t *reg, uint32_t i, unsigned r)
{
	if (reg[i] < r)
		reg[i] = (uint8_t)r;
}

/* Turn sparse words into registers and drop the table. */
static void
to_dense(struct hll *h)
{
	uint32_t i, j;
	unsigned r;

	h->reg = xcalloc((size_t)1 << h->p, 1);
	for (j = 0; j < h->cap; j++) {
		if (h->slot[j] == 0)
			continue;
		word_register(h->slot[j], h->p, &i, &r);
		reg_max(h->reg, i, r);
	}
	free(h->slot);
	h->slot = NULL;
	h->cap = h->nwords = 0;
	h->dense = 1;
}

/* The slot of the word's index: free, or holding that index. */
static inline uint32_t *
find_slot(const struct hll *h, uint32_t w)
{
	uint32_t mask = h->cap - 1, j = (w >> 6) & mask;

	while (h->slot[j] != 0 && (h->slot[j] >> 6) != (w >> 6))
		j = (j + 1) & mask;
	return &h->slot[j];
}

static void
grow(struct hll *h)
{
	uint32_t *old = h->slot, oldcap = h->cap, j;

	h->cap = oldcap ? oldcap * 2 : 4; /* most sets in a record are tiny */
	h->slot = xcalloc(h->cap, sizeof(*h->slot));
	for (j = 0; j < oldcap; j++)
		if (old[j] != 0)
			*find_slot(h, old[j]) = old[j];
	free(old);
}

/* Room for n words in an empty sparse table, in one allocation. */
static void
reserve(struct hll *h, uint64_t n)
{
	uint32_t cap = 4;

	while (2 * n > cap)
		cap *= 2;
	if (cap <= h->cap)
		return;
	free(h->slot);
	h->slot = xcalloc(cap, sizeof(*h->slot));
	h->cap = cap;
}

static void
add_word(struct hll *h, uint32_t w)
{
	uint32_t *s, i;
	unsigned r;

	if (!h->dense) {
		if (h->cap != 0) {
			s = find_slot(h, w);
			if (*s != 0) {
				if ((*s & 63) < (w & 63))
					*s = w;
				return;
			}
		}
		if (h->nwords < HLL_SPARSE_MAX(h->p)) {
			if (2 * (h->nwords + 1) > h->cap)
				grow(h);
			*find_slot(h, w) = w;
			h->nwords++;
			return;
		}
		to_dense(h);
	}
	word_register(w, h->p, &i, &r);
	reg_max(h->reg, i, r);
}

void
hll_add(struct hll *h, uint64_t hash)
{
	if (h->dense)
		reg_max(h->reg, (uint32_t)(hash >> (64 - h->p)),
		    rank64(hash << h->p, 65 - h->p));
	else
		add_word(h, word_of(hash));
}

void
hll_prefetch(const struct hll *h, uint64_t hash)
{
	if (h->dense)
		__builtin_prefetch(&h->reg[hash >> (64 - h->p)], 1);
	else if (h->cap != 0)
		__builtin_prefetch(&h->slot[(word_of(hash) >> 6) &
				       (h->cap - 1)],
		    1);
}

/* Register i of precision p, value r, as a register of precision q < p. */
static inline void
fold_register(uint32_t i, unsigned r, unsigned p, unsigned q, uint32_t *ni,
    unsigned *nr)
{
	unsigned bits = p - q;
	uint32_t low = i & (((uint32_t)1 << bits) - 1);

	*ni = i >> bits;
	*nr = low != 0 ? bits - (32 - (unsigned)__builtin_clz(low)) + 1
		       : bits + r;
}

void
hll_fold(struct hll *h, unsigned q)
{
	uint8_t *reg;
	uint32_t i, ni, m;
	unsigned nr;

	if (q >= h->p)
		return;
	if (!h->dense) {
		h->p = (uint8_t)q;
		if (h->nwords > HLL_SPARSE_MAX(q))
			to_dense(h);
		return;
	}
	reg = xcalloc((size_t)1 << q, 1);
	for (i = 0, m = (uint32_t)1 << h->p; i < m; i++) {
		if (h->reg[i] == 0)
			continue;
		fold_register(i, h->reg[i], h->p, q, &ni, &nr);
		reg_max(reg, ni, nr);
	}
	free(h->reg);
	h->reg = reg;
	h->p = (uint8_t)q;
}

void
hll_merge(struct hll *dst, const struct hll *src)
{
	uint32_t i, ni, m, j;
	unsigned nr;

	if (src->p < dst->p)
		hll_fold(dst, src->p);
	if (!src->dense) {
		for (j = 0; j < src->cap; j++)
			if (src->slot[j] != 0)
				add_word(dst, src->slot[j]);
		return;
	}
	if (!dst->dense)
		to_dense(dst);
	for (i = 0, m = (uint32_t)1 << src->p; i < m; i++) {
		if (src->reg[i] == 0)
			continue;
		if (src->p == dst->p)
			reg_max(dst->reg, i, src->reg[i]);
		else {
			fold_register(i, src->reg[i], src->p, dst->p, &ni, &nr);
			reg_max(dst->reg, ni, nr);
		}
	}
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches". */
static double
ertl_sigma(double x)
{
	double y = 1, z = x, zp;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return z;
}

static double
ertl_tau(double x)
{
	double y = 1, z = 1 - x, zp;

	if (x == 0 || x == 1)
		return 0;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != zp);
	return z / 3;
}

double
hll_estimate(const struct hll *h)
{
	uint32_t c[66] = {0}, i, m;
	unsigned q = 64 - h->p, k;
	double z, sm;

	if (!h->dense) {
		/* Linear counting over the 2^26 sparse indices. */
		sm = (double)((uint32_t)1 << HLL_SP);
		return sm * log(sm / (sm - h->nwords));
	}
	for (i = 0, m = (uint32_t)1 << h->p; i < m; i++)
		c[h->reg[i]]++;
	z = m * ertl_tau(1 - (double)c[q + 1] / m);
	for (k = q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * ertl_sigma((double)c[0] / m);
	return m * (m / (2 * M_LN2)) / z;
}

size_t
hll_bytes(const struct hll *h)
{
	return h->dense ? (size_t)1 << h->p : h->cap * sizeof(*h->slot);
}

size_t
hll_encoded_max(const struct hll *h)
{
	if (h->dense)
		return 1 + ((size_t)3 << h->p) / 4;
	return VARINT_MAX + (size_t)h->nwords * 5;
}

static int
cmp_word(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t
hll_encode(const struct hll *h, uint8_t *buf, size_t cap)
{
	uint32_t *w, j, n, prev;
	size_t o = 0, i, m, bit;

	if (cap < hll_encoded_max(h))
		return 0;
	if (h->dense) {
		buf[o++] = 0;
		m = (size_t)1 << h->p;
		memset(buf + o, 0, (3 * m) / 4);
		for (i = 0; i < m; i++) {
			bit = 6 * i;
			buf[o + bit / 8] |= (uint8_t)(h->reg[i] << (bit % 8));
			if (bit % 8 > 2)
				buf[o + bit / 8 + 1] |=
				    (uint8_t)(h->reg[i] >> (8 - bit % 8));
		}
		return o + (3 * m) / 4;
	}
	o += varint_put(buf, (uint64_t)h->nwords + 1);
	if (h->nwords == 0)
		return o;
	w = xreallocarray(NULL, h->nwords, sizeof(*w));
	for (j = 0, n = 0; j < h->cap; j++)
		if (h->slot[j] != 0)
			w[n++] = h->slot[j];
	qsort(w, n, sizeof(*w), cmp_word);
	for (j = 0, prev = 0; j < n; j++) {
		o += varint_put(buf + o, j == 0 ? w[0] : w[j] - prev - 1);
		prev = w[j];
	}
	free(w);
	return o;
}

static const char *
decode_dense(struct hll *h, const uint8_t **pp, const uint8_t *end)
{
	size_t m = (size_t)1 << h->p, i, bit;
	const uint8_t *b = *pp;
	unsigned r;

	if ((size_t)(end - b) < (3 * m) / 4)
		return "sketch registers cut short";
	free(h->slot); /* hll_reset kept it for a sparse sketch */
	h->slot = NULL;
	h->cap = 0;
	h->reg = xcalloc(m, 1);
	h->dense = 1;
	for (i = 0; i < m; i++) {
		bit = 6 * i;
		r = b[bit / 8] >> (bit % 8);
		if (bit % 8 > 2)
			r |= (unsigned)b[bit / 8 + 1] << (8 - bit % 8);
		r &= 63;
		if (r > 65u - h->p)
			return "sketch register out of range";
		h->reg[i] = (uint8_t)r;
	}
	*pp = b + (3 * m) / 4;
	return NULL;
}

static const char *
decode_sparse(struct hll *h, uint64_t n, const uint8_t **pp, const uint8_t *end)
{
	uint64_t v, w = 0;
	uint64_t i;

	if (n > HLL_SPARSE_MAX(h->p))
		return "sparse sketch too large for its precision";
	/* Each word takes a byte at least: bound n before allocating. */
	if (n > (uint64_t)(end - *pp))
		return "sparse sketch beyond the record";
	if (n > 0)
		reserve(h, n);
	for (i = 0; i < n; i++) {
		if (varint_get(pp, end, &v) == -1)
			return "bad sparse sketch word";
		if (i > 0) {
			if (v > UINT32_MAX - w - 1)
				return "bad sparse sketch word";
			v += w + 1;
		}
		if (v > UINT32_MAX || (v & 63) == 0 || (v & 63) > SP_RANK_MAX)
			return "bad sparse sketch word";
		if (i > 0 && (v >> 6) <= (w >> 6))
			return "sparse sketch words out of order";
		w = v;
		add_word(h, (uint32_t)w);
	}
	return NULL;
}

int
hll_decode(struct hll *h, unsigned p, const uint8_t **pp, const uint8_t *end,
    const char **why)
{
	uint64_t t;

	*why = NULL;
	if (p < HLL_P_MIN || p > HLL_P_MAX) {
		*why = "bad sketch precision";
		return -1;
	}
	hll_reset(h, p);
	if (varint_get(pp, end, &t) == -1)
		*why = "bad sketch";
	else if (t == 0)
		*why = decode_dense(h, pp, end);
	else
		*why = decode_sparse(h, t - 1, pp, end);
	return *why == NULL ? 0 : -1;
}

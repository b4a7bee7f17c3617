/* Folding a record's sketches until it fits in a frame; see fit.h. */
#include <stdlib.h>

#include "fit.h"
#include "hll.h"
#include "xmalloc.h"

/* The sketch of slot i: 0 and 1 are all_src and all_dst, then entries'. */
static struct hll **
fit_slot(struct record *r, size_t i)
{
	if (i < 2)
		return i == 0 ? &r->all_src : &r->all_dst;
	i -= 2;
	return i % 2 == 0 ? &r->entries[i / 2].src : &r->entries[i / 2].dst;
}

static const struct hll *
fit_get(const struct record *r, size_t i)
{
	if (i < 2)
		return i == 0 ? r->all_src : r->all_dst;
	i -= 2;
	return i % 2 == 0 ? r->entries[i / 2].src : r->entries[i / 2].dst;
}

size_t
fit_size(const struct record *r)
{
	size_t n, i, nslots, cap = 0, m;
	uint8_t *scratch;

	n = record_encoded_max(r);
	if (r->sketch_p == 0)
		return n;
	nslots = 2 + 2 * r->nentries;
	for (i = 0; i < nslots; i++)
		if ((m = hll_encoded_max(fit_get(r, i))) > cap)
			cap = m;
	/* hll_encoded_max() bounds a sparse sketch's gaps at 5 bytes each. */
	scratch = xmalloc(cap);
	for (i = 0; i < nslots; i++) {
		const struct hll *h = fit_get(r, i);

		n -= hll_encoded_max(h);
		n += hll_encode(h, scratch, cap);
	}
	free(scratch);
	return n;
}

enum fit_result
fit_record(struct record *r, size_t max)
{
	enum fit_result res = FIT_AS_IS;
	size_t i, nslots;

	/* The cheap bound first: most records are far below the limit. */
	while (r->sketch_p != 0 && record_encoded_max(r) > max &&
	    fit_size(r) > max) {
		nslots = 2 + 2 * r->nentries;
		if (r->sketch_p == HLL_P_MIN) {
			for (i = 0; i < nslots; i++) {
				hll_free(*fit_slot(r, i));
				*fit_slot(r, i) = NULL;
			}
			r->sketch_p = 0;
			return FIT_UNSKETCHED;
		}
		r->sketch_p--;
		for (i = 0; i < nslots; i++)
			hll_fold(*fit_slot(r, i), r->sketch_p);
		res = FIT_FOLDED;
	}
	return res;
}

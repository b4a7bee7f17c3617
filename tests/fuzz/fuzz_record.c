/*
 * libFuzzer target for record_decode, versions 1 and 2: whatever it
 * accepts must be consistent (sketches included), and must be the one
 * canonical encoding of its fields, so that re-encoding gives back the
 * input byte for byte and decoding that gives the same record.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interval.h"
#include "record.h"

#define FUZZ_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A sketch of a version-2 record: there, and of the record's precision. */
static void
fuzz_check_sketch(const struct record *r, const struct hll *h, int nonempty)
{
	assert(h != NULL);
	assert(hll_precision(h) == r->sketch_p);
	assert(!nonempty || !hll_is_empty(h));
	assert(hll_estimate(h) >= 0);
}

/* What record.h promises of a record that decoded. */
static void
fuzz_check(const struct record *r)
{
	uint64_t sum[PROTO_COUNT] = {0};
	const struct record_entry *e, *prev = NULL;
	size_t i;

	if (r->sketch_p != 0) {
		assert(r->sketch_p >= HLL_P_MIN && r->sketch_p <= HLL_P_MAX);
		fuzz_check_sketch(r, r->all_src, r->nentries > 0);
		fuzz_check_sketch(r, r->all_dst, r->nentries > 0);
		for (i = 0; i < r->nentries; i++) {
			fuzz_check_sketch(r, r->entries[i].src, 1);
			fuzz_check_sketch(r, r->entries[i].dst, 1);
		}
	} else {
		assert(r->all_src == NULL && r->all_dst == NULL);
		for (i = 0; i < r->nentries; i++)
			assert(r->entries[i].src == NULL &&
			    r->entries[i].dst == NULL);
	}
	assert(record_valid_id(r->sensor));
	assert(r->len >= 1 && r->len <= INTERVAL_MAX);
	assert(r->start % (int64_t)r->len == 0);
	for (i = 0; i < r->nentries; i++) {
		e = &r->entries[i];
		assert(e->proto < PROTO_COUNT);
		assert(e->key < proto_nkeys(e->proto));
		assert(e->packets > 0);
		assert(prev == NULL || prev->proto < e->proto ||
		    (prev->proto == e->proto && prev->key < e->key));
		sum[e->proto] += e->packets;
		prev = e;
	}
	for (i = 0; i < PROTO_COUNT; i++)
		assert(sum[i] == r->totals[i]);
}

/* The same sketch: both absent, or the same encoding and estimate. */
static void
fuzz_same_sketch(const struct hll *a, const struct hll *b)
{
	uint8_t *ea, *eb;
	size_t na, nb;

	assert((a == NULL) == (b == NULL));
	if (a == NULL)
		return;
	assert(hll_precision(a) == hll_precision(b));
	assert(hll_estimate(a) == hll_estimate(b));
	ea = malloc(hll_encoded_max(a));
	eb = malloc(hll_encoded_max(b));
	assert(ea != NULL && eb != NULL);
	na = hll_encode(a, ea, hll_encoded_max(a));
	nb = hll_encode(b, eb, hll_encoded_max(b));
	assert(na > 0 && na == nb && memcmp(ea, eb, na) == 0);
	free(ea);
	free(eb);
}

static void
fuzz_same(const struct record *a, const struct record *b)
{
	size_t i;

	assert(a->sketch_p == b->sketch_p);
	assert(memcmp(a->sketch_keyid, b->sketch_keyid, RECORD_KEYID) == 0);
	fuzz_same_sketch(a->all_src, b->all_src);
	fuzz_same_sketch(a->all_dst, b->all_dst);

	assert(strcmp(a->sensor, b->sensor) == 0);
	assert(a->start == b->start && a->len == b->len);
	assert(a->naddrs == b->naddrs);
	assert(memcmp(a->totals, b->totals, sizeof(a->totals)) == 0);
	assert(a->nentries == b->nentries);
	for (i = 0; i < a->nentries; i++) {
		assert(a->entries[i].proto == b->entries[i].proto);
		assert(a->entries[i].key == b->entries[i].key);
		assert(a->entries[i].packets == b->entries[i].packets);
		fuzz_same_sketch(a->entries[i].src, b->entries[i].src);
		fuzz_same_sketch(a->entries[i].dst, b->entries[i].dst);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record r, back;
	const char *why = NULL;
	uint8_t *out;
	size_t max, n;

	if (size > FUZZ_MAX)
		return 0;
	record_init(&r);
	if (record_decode(&r, data, size, &why) != 0) {
		assert(why != NULL);
		record_clear(&r);
		return 0;
	}
	fuzz_check(&r);
	max = record_encoded_max(&r);
	out = malloc(max);
	assert(out != NULL);
	n = record_encode(&r, out, max);
	assert(n == size);
	assert(memcmp(out, data, size) == 0);
	record_init(&back);
	assert(record_decode(&back, out, n, &why) == 0);
	fuzz_same(&r, &back);
	record_clear(&back);
	record_clear(&r);
	free(out);
	return 0;
}

/*
 * libFuzzer target for record_decode: whatever it accepts must be
 * consistent, and must be the one canonical encoding of its fields, so
 * that re-encoding gives back the input byte for byte.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interval.h"
#include "record.h"

#define FUZZ_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What record.h promises of a record that decoded. */
static void
fuzz_check(const struct record *r)
{
	uint64_t sum[PROTO_COUNT] = {0};
	const struct record_entry *e, *prev = NULL;
	size_t i;

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

static void
fuzz_same(const struct record *a, const struct record *b)
{
	size_t i;

	assert(strcmp(a->sensor, b->sensor) == 0);
	assert(a->start == b->start && a->len == b->len);
	assert(a->naddrs == b->naddrs);
	assert(memcmp(a->totals, b->totals, sizeof(a->totals)) == 0);
	assert(a->nentries == b->nentries);
	for (i = 0; i < a->nentries; i++) {
		assert(a->entries[i].proto == b->entries[i].proto);
		assert(a->entries[i].key == b->entries[i].key);
		assert(a->entries[i].packets == b->entries[i].packets);
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

/*
 * Record encoding.  Layout (all integers LEB128 varints unless noted):
 *
 *   u8 version (1 or 2) | u8 id length | id bytes | zigzag start |
 *   length | monitored addresses | RT_COUNT totals |
 *   version 2 only: u8 sketch precision | 8 bytes sketch key id |
 *                   sketch all_src | sketch all_dst |
 *   for tcp, udp, icmp, icmp6: entry count, then per entry
 *   (key - previous key - 1, packets)   with "previous key" = -1 at first
 *   and, in version 2, the entry's sketch src, then sketch dst.
 *
 * A sketch is hll_encode()'s bytes, self-delimiting, at the record's
 * precision.  Version 1 is written when a record has no sketches, so that
 * a sensor without a sketch key still talks to an old aggregator.
 *
 * Keys are sorted, so the gaps are small and a typical 2,000-key record
 * takes a few KB without sketches.  The keyed totals must equal the sum
 * of their entries, and all totals together must fit in 64 bits.  Every
 * entry of a version-2 record saw at least one packet, hence one source
 * and one target: its sketches must not be empty, nor, when there are
 * entries, the interval's.
 */
#include <stdlib.h>
#include <string.h>

#include "interval.h"
#include "log.h"
#include "record.h"
#include "varint.h"
#include "xmalloc.h"

static const char *const record_total_names[RT_COUNT] = {"tcp", "udp", "icmp",
    "icmp6", "fragment", "other", "nonip", "malformed", "unmonitored", "syn",
    "synack", "rst", "tcpother", "late", "drops", "spooldrops"};

void
record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
}

void
record_clear(struct record *r)
{
	size_t i;

	for (i = 0; i < r->nentries; i++) {
		hll_free(r->entries[i].src);
		hll_free(r->entries[i].dst);
	}
	hll_free(r->all_src);
	hll_free(r->all_dst);
	free(r->entries);
	record_init(r);
}

struct record_entry *
record_add(struct record *r, enum proto p, uint16_t key, uint64_t n)
{
	struct record_entry *e;

	if (r->nentries == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->entries =
		    xreallocarray(r->entries, r->cap, sizeof(*r->entries));
	}
	e = &r->entries[r->nentries++];
	e->proto = (uint8_t)p;
	e->key = key;
	e->packets = n;
	e->src = e->dst = NULL;
	return e;
}

int
record_valid_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > RECORD_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return 0;
	}
	return 1;
}

const char *
record_total_name(enum record_total t)
{
	return (unsigned)t < RT_COUNT ? record_total_names[t] : "?";
}

/*
 * A version-2 writer must give every entry both sketches, all of the
 * record's precision: anything else could not be decoded, a bug of the
 * writer's rather than bad input.
 */
static const struct hll *
record_sketch(const struct record *r, const struct hll *h)
{
	if (h == NULL)
		fatalx("record: a sketch is missing");
	if (hll_precision(h) != r->sketch_p)
		fatalx("record: sketch precision %u in a record of %u",
		    hll_precision(h), r->sketch_p);
	return h;
}

size_t
record_encoded_max(const struct record *r)
{
	size_t i, n;

	n = 2 + RECORD_ID_MAX + (4 + RT_COUNT) * VARINT_MAX +
	    PROTO_COUNT * VARINT_MAX + r->nentries * (3 + VARINT_MAX);
	if (r->sketch_p == 0)
		return n;
	if (r->sketch_p < HLL_P_MIN || r->sketch_p > HLL_P_MAX)
		fatalx("record: sketch precision %u", r->sketch_p);
	n += 1 + RECORD_KEYID;
	n += hll_encoded_max(record_sketch(r, r->all_src));
	n += hll_encoded_max(record_sketch(r, r->all_dst));
	for (i = 0; i < r->nentries; i++) {
		n += hll_encoded_max(record_sketch(r, r->entries[i].src));
		n += hll_encoded_max(record_sketch(r, r->entries[i].dst));
	}
	return n;
}

/* Appends a sketch at buf + *o; the caller checked the room. */
static void
record_put_sketch(const struct record *r, const struct hll *h, uint8_t *buf,
    size_t *o, size_t cap)
{
	size_t n;

	if ((n = hll_encode(record_sketch(r, h), buf + *o, cap - *o)) == 0)
		fatalx("record: a sketch is larger than hll_encoded_max");
	*o += n;
}

size_t
record_encode(const struct record *r, uint8_t *buf, size_t cap)
{
	size_t idlen = strlen(r->sensor), i, n, o = 0;
	int32_t prev;
	int p, t;

	if (cap < record_encoded_max(r))
		return 0;
	buf[o++] = r->sketch_p ? RECORD_VERSION : 1;
	buf[o++] = (uint8_t)idlen;
	memcpy(buf + o, r->sensor, idlen);
	o += idlen;
	o += varint_put(buf + o, zigzag_encode(r->start));
	o += varint_put(buf + o, r->len);
	o += varint_put(buf + o, r->naddrs);
	for (t = 0; t < RT_COUNT; t++)
		o += varint_put(buf + o, r->totals[t]);
	if (r->sketch_p) {
		buf[o++] = (uint8_t)r->sketch_p;
		memcpy(buf + o, r->sketch_keyid, RECORD_KEYID);
		o += RECORD_KEYID;
		record_put_sketch(r, r->all_src, buf, &o, cap);
		record_put_sketch(r, r->all_dst, buf, &o, cap);
	}
	for (p = 0, i = 0; p < PROTO_COUNT; p++) {
		for (n = 0; i + n < r->nentries && r->entries[i + n].proto == p;
		     n++)
			;
		o += varint_put(buf + o, n);
		for (prev = -1; n > 0; n--, i++) {
			o += varint_put(buf + o,
			    (uint64_t)(r->entries[i].key - prev - 1));
			o += varint_put(buf + o, r->entries[i].packets);
			prev = r->entries[i].key;
			if (r->sketch_p) {
				record_put_sketch(r, r->entries[i].src, buf, &o,
				    cap);
				record_put_sketch(r, r->entries[i].dst, buf, &o,
				    cap);
			}
		}
	}
	return o;
}

/* The header of both versions: everything up to the totals. */
static const char *
record_decode_head(struct record *r, int *version, const uint8_t **pp,
    const uint8_t *end)
{
	const uint8_t *p = *pp;
	uint64_t v, sum;
	size_t idlen;
	int t;

	if (end - p < 2)
		return "record too short";
	if (p[0] != 1 && p[0] != 2)
		return "unknown record version";
	*version = p[0];
	idlen = p[1];
	p += 2;
	if (idlen == 0 || idlen > RECORD_ID_MAX || (size_t)(end - p) < idlen)
		return "bad sensor id length";
	/* A NUL inside would hide bytes from the id check below. */
	if (memchr(p, '\0', idlen) != NULL)
		return "bad sensor id";
	memcpy(r->sensor, p, idlen);
	r->sensor[idlen] = '\0';
	p += idlen;
	if (!record_valid_id(r->sensor))
		return "bad sensor id";
	if (varint_get(&p, end, &v) == -1 || !interval_valid(zigzag_decode(v)))
		return "bad interval start";
	r->start = zigzag_decode(v);
	if (varint_get(&p, end, &v) == -1 || v == 0 || v > INTERVAL_MAX)
		return "bad interval length";
	r->len = (uint32_t)v;
	if (interval_start(r->start, r->len) != r->start)
		return "interval start not a multiple of its length";
	if (varint_get(&p, end, &r->naddrs) == -1)
		return "bad address count";
	/*
	 * Readers add totals together (packets seen, drops); no sum of them
	 * may wrap, so all of them together must fit in 64 bits.
	 */
	for (t = 0, sum = 0; t < RT_COUNT; t++) {
		if (varint_get(&p, end, &r->totals[t]) == -1)
			return "bad totals";
		if (sum + r->totals[t] < sum)
			return "totals overflow 64 bits together";
		sum += r->totals[t];
	}
	*pp = p;
	return NULL;
}

/* One sketch of the record's precision into *hp, which the record owns. */
static const char *
record_decode_sketch(struct record *r, struct hll **hp, const uint8_t **pp,
    const uint8_t *end)
{
	const char *why;

	*hp = hll_new(r->sketch_p);
	if (hll_decode(*hp, r->sketch_p, pp, end, &why) == -1)
		return why;
	return NULL;
}

/* Version 2: precision, key id and the interval's two sketches. */
static const char *
record_decode_sketches(struct record *r, const uint8_t **pp, const uint8_t *end)
{
	const char *why;

	if (end - *pp < 1 + RECORD_KEYID)
		return "record too short for its sketch header";
	if (**pp < HLL_P_MIN || **pp > HLL_P_MAX)
		return "bad sketch precision";
	r->sketch_p = *(*pp)++;
	memcpy(r->sketch_keyid, *pp, RECORD_KEYID);
	*pp += RECORD_KEYID;
	if ((why = record_decode_sketch(r, &r->all_src, pp, end)) != NULL ||
	    (why = record_decode_sketch(r, &r->all_dst, pp, end)) != NULL)
		return why;
	return NULL;
}

/*
 * The least an entry takes: a key gap and a packet count of a byte each,
 * and in version 2 two sketches that are not empty (a word count and a
 * word at the least).
 */
static uint64_t
record_entry_min(const struct record *r)
{
	return r->sketch_p ? 2 + 2 * 2 : 2;
}

static const char *
record_decode_entries(struct record *r, int p, const uint8_t **pp,
    const uint8_t *end)
{
	struct record_entry *e;
	uint64_t n, gap, packets, sum = 0;
	int64_t key = -1;
	const char *why;

	if (varint_get(pp, end, &n) == -1 || n > proto_nkeys(p))
		return "bad entry count";
	/* Bound n before allocating. */
	if (n > (uint64_t)(end - *pp) / record_entry_min(r))
		return "entry count beyond the record";
	while (n-- > 0) {
		if (varint_get(pp, end, &gap) == -1 || gap >= proto_nkeys(p) ||
		    key + 1 + (int64_t)gap >= (int64_t)proto_nkeys(p))
			return "bad key";
		key += 1 + (int64_t)gap;
		if (varint_get(pp, end, &packets) == -1 || packets == 0)
			return "bad packet count";
		if (sum + packets < sum)
			return "packet count overflows";
		sum += packets;
		e = record_add(r, p, (uint16_t)key, packets);
		if (r->sketch_p == 0)
			continue;
		if ((why = record_decode_sketch(r, &e->src, pp, end)) != NULL ||
		    (why = record_decode_sketch(r, &e->dst, pp, end)) != NULL)
			return why;
		if (hll_is_empty(e->src) || hll_is_empty(e->dst))
			return "empty sketch on an entry";
	}
	if (sum != r->totals[p])
		return "entries do not add up to the protocol total";
	return NULL;
}

int
record_decode(struct record *r, const uint8_t *buf, size_t len,
    const char **why)
{
	const uint8_t *p = buf, *end = buf + len;
	int proto, version;

	record_clear(r);
	if ((*why = record_decode_head(r, &version, &p, end)) != NULL)
		return -1;
	if (version == 2 && (*why = record_decode_sketches(r, &p, end)) != NULL)
		return -1;
	for (proto = 0; proto < PROTO_COUNT; proto++)
		if ((*why = record_decode_entries(r, proto, &p, end)) != NULL)
			return -1;
	/* Sources of keyed packets: some, if there are keyed packets. */
	if (r->sketch_p && r->nentries > 0 &&
	    (hll_is_empty(r->all_src) || hll_is_empty(r->all_dst))) {
		*why = "empty interval sketch in a record with entries";
		return -1;
	}
	if (p != end) {
		*why = "trailing bytes after the record";
		return -1;
	}
	return 0;
}

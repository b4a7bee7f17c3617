/*
 * Record encoding.  Layout (all integers LEB128 varints unless noted):
 *
 *   u8 version (1) | u8 id length | id bytes | zigzag start | length |
 *   monitored addresses | RT_COUNT totals |
 *   for tcp, udp, icmp, icmp6: entry count, then per entry
 *   (key - previous key - 1, packets)   with "previous key" = -1 at first
 *
 * Keys are sorted, so the gaps are small and a typical 2,000-key record
 * takes a few KB.  The keyed totals must equal the sum of their entries,
 * and all totals together must fit in 64 bits.
 */
#include <stdlib.h>
#include <string.h>

#include "interval.h"
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

size_t
record_encoded_max(const struct record *r)
{
	return 2 + RECORD_ID_MAX + (4 + RT_COUNT) * VARINT_MAX +
	    PROTO_COUNT * VARINT_MAX + r->nentries * (3 + VARINT_MAX);
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
		}
	}
	return o;
}

/* The header: everything before the entries. */
static const char *
record_decode_head(struct record *r, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	uint64_t v, sum;
	size_t idlen;
	int t;

	if (end - p < 2)
		return "record too short";
	if (p[0] != 1)
		return "unknown record version";
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

static const char *
record_decode_entries(struct record *r, int p, const uint8_t **pp,
    const uint8_t *end)
{
	uint64_t n, gap, packets, sum = 0;
	int64_t key = -1;

	if (varint_get(pp, end, &n) == -1 || n > proto_nkeys(p))
		return "bad entry count";
	/* Each entry takes at least two bytes: bound n before allocating. */
	if (n > (uint64_t)(end - *pp) / 2)
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
		record_add(r, p, (uint16_t)key, packets);
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
	int proto;

	record_clear(r);
	if ((*why = record_decode_head(r, &p, end)) != NULL)
		return -1;
	for (proto = 0; proto < PROTO_COUNT; proto++)
		if ((*why = record_decode_entries(r, proto, &p, end)) != NULL)
			return -1;
	if (p != end) {
		*why = "trailing bytes after the record";
		return -1;
	}
	return 0;
}

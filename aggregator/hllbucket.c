/* Summary bucket sketches; see hllbucket.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hllbucket.h"
#include "keyidx.h"
#include "xmalloc.h"

struct hllb_head {
	char magic[4];
	uint32_t version;
	int64_t start, last;
	uint64_t nintervals;
	uint32_t n;
	uint32_t pad;
};

/* The most a bucket file can hold: every key, both sketches dense. */
#define HLLB_FILE_MAX \
	(sizeof(struct hllb_head) + \
	    (size_t)(KEYIDX_COUNT + 1) * 2 * \
		(5 + 1 + ((size_t)3 << HLL_P_MAX) / 4))

void
hllbucket_init(struct hllbucket *b)
{
	memset(b, 0, sizeof(*b));
	b->src = xcalloc(KEYIDX_COUNT, sizeof(*b->src));
	b->dst = xcalloc(KEYIDX_COUNT, sizeof(*b->dst));
	b->start = INT64_MIN;
	b->last = INT64_MIN;
}

void
hllbucket_clear(struct hllbucket *b)
{
	uint32_t i;

	for (i = 0; i < KEYIDX_COUNT; i++) {
		hll_free(b->src[i]);
		hll_free(b->dst[i]);
		b->src[i] = b->dst[i] = NULL;
	}
	hll_free(b->all_src);
	hll_free(b->all_dst);
	b->all_src = b->all_dst = NULL;
	b->nintervals = 0;
	b->start = b->last = INT64_MIN;
}

void
hllbucket_free(struct hllbucket *b)
{
	if (b->src == NULL)
		return;
	hllbucket_clear(b);
	free(b->src);
	free(b->dst);
	memset(b, 0, sizeof(*b));
}

void
hllbucket_merge(struct hll **slot, const struct hll *h)
{
	if (*slot == NULL)
		*slot = hll_new(hll_precision(h));
	hll_merge(*slot, h);
}

/*
 * One "u8 precision, sketch" into a scratch sketch, then into *slot.  A
 * key's sketches are never empty; the whole bucket's may be, when its
 * intervals had no packet with a port or type.
 */
static const char *
read_sketch(struct hll *tmp, struct hll **slot, const uint8_t **p,
    const uint8_t *end, int may_be_empty)
{
	const char *why;
	unsigned prec;

	if (*p >= end)
		return "truncated";
	prec = *(*p)++;
	if (hll_decode(tmp, prec, p, end, &why) == -1)
		return why;
	if (!may_be_empty && hll_is_empty(tmp))
		return "empty sketch";
	hllbucket_merge(slot, tmp);
	return NULL;
}

static const char *
parse(const uint8_t *buf, size_t len, int64_t start, int64_t end,
    struct hllbucket *b)
{
	const uint8_t *p = buf + sizeof(struct hllb_head), *e = buf + len;
	struct hllb_head h;
	struct hll *tmp;
	const char *bad = NULL;
	uint32_t i, idx, prev = 0;

	if (len < sizeof(h))
		return "truncated";
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, HLLB_MAGIC, 4) != 0 || h.version != HLLB_VERSION)
		return "not a sketch bucket (bad magic or version)";
	if (h.start != start)
		return "start differs from the file name";
	if (h.last < start || h.last >= end || h.nintervals == 0 ||
	    h.nintervals > (uint64_t)(end - start))
		return "impossible interval count or last interval";
	if (h.n > KEYIDX_COUNT)
		return "impossible key count";
	tmp = hll_new(HLL_P_DEFAULT);
	if ((bad = read_sketch(tmp, &b->all_src, &p, e, 1)) != NULL ||
	    (bad = read_sketch(tmp, &b->all_dst, &p, e, 1)) != NULL)
		goto out;
	for (i = 0; i < h.n; i++) {
		if ((size_t)(e - p) < sizeof(idx)) {
			bad = "truncated";
			goto out;
		}
		memcpy(&idx, p, sizeof(idx));
		p += sizeof(idx);
		if (idx >= KEYIDX_COUNT || (i > 0 && idx <= prev)) {
			bad = "key indices out of range or order";
			goto out;
		}
		prev = idx;
		if ((bad = read_sketch(tmp, &b->src[idx], &p, e, 0)) != NULL ||
		    (bad = read_sketch(tmp, &b->dst[idx], &p, e, 0)) != NULL)
			goto out;
	}
	if (p != e)
		bad = "bytes after the last entry";
out:
	hll_free(tmp);
	if (bad == NULL) {
		b->start = h.start;
		b->last = h.last;
		b->nintervals += h.nintervals;
	}
	return bad;
}

int
hllbucket_read(const char *path, int64_t start, int64_t end,
    struct hllbucket *b, char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	const char *bad;
	size_t len = 0, cap = 0, n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= HLLB_FILE_MAX) {
				fclose(f);
				free(buf);
				snprintf(why, whylen, "larger than any bucket");
				return -1;
			}
			cap = cap ? cap * 2 : 1 << 16;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(why, whylen, "%s", strerror(errno));
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	bad = parse(buf, len, start, end, b);
	free(buf);
	if (bad != NULL) {
		snprintf(why, whylen, "%s", bad);
		return -1;
	}
	return 0;
}

static size_t
put_sketch(uint8_t *out, size_t cap, const struct hll *h)
{
	size_t n;

	out[0] = (uint8_t)hll_precision(h);
	n = hll_encode(h, out + 1, cap - 1);
	return n ? n + 1 : 0;
}

uint8_t *
hllbucket_encode(const struct hllbucket *b, size_t *len)
{
	struct hllb_head h;
	uint8_t *buf;
	size_t cap, o;
	uint32_t i;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, HLLB_MAGIC, 4);
	h.version = HLLB_VERSION;
	h.start = b->start;
	h.last = b->last;
	h.nintervals = b->nintervals;
	cap = sizeof(h) + 2 + hll_encoded_max(b->all_src) +
	    hll_encoded_max(b->all_dst);
	for (i = 0; i < KEYIDX_COUNT; i++) {
		if (b->src[i] == NULL)
			continue;
		h.n++;
		cap += sizeof(i) + 2 + hll_encoded_max(b->src[i]) +
		    hll_encoded_max(b->dst[i]);
	}
	buf = xmalloc(cap);
	memcpy(buf, &h, sizeof(h));
	o = sizeof(h);
	o += put_sketch(buf + o, cap - o, b->all_src);
	o += put_sketch(buf + o, cap - o, b->all_dst);
	for (i = 0; i < KEYIDX_COUNT; i++) {
		if (b->src[i] == NULL)
			continue;
		memcpy(buf + o, &i, sizeof(i));
		o += sizeof(i);
		o += put_sketch(buf + o, cap - o, b->src[i]);
		o += put_sketch(buf + o, cap - o, b->dst[i]);
	}
	*len = o;
	return buf;
}

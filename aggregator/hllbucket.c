/* Summary bucket sketches; see hllbucket.h. */
#include <sys/stat.h>

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
	uint32_t alllen; /* bytes of the two sketches over all keys */
};

/* A key's entry: its index and the bytes of its two sketches. */
struct hllb_index {
	uint32_t idx, len;
};

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

/* One entry's bytes: sketches that must use exactly len bytes. */
static const char *
read_entry(struct hll *tmp, struct hll **s1, struct hll **s2, const uint8_t *p,
    size_t len, int may_be_empty)
{
	const uint8_t *e = p + len;
	const char *bad;

	if ((bad = read_sketch(tmp, s1, &p, e, may_be_empty)) != NULL ||
	    (bad = read_sketch(tmp, s2, &p, e, may_be_empty)) != NULL)
		return bad;
	return p == e ? NULL : "bytes after a key's sketches";
}

/* The header and index, checked against each other and the file size. */
static const char *
read_index(FILE *f, int64_t start, int64_t end, struct hllb_head *h,
    struct hllb_index **ix, uint64_t *datalen)
{
	struct stat sb;
	uint32_t i;

	*ix = NULL;
	if (fread(h, sizeof(*h), 1, f) != 1)
		return "truncated";
	if (memcmp(h->magic, HLLB_MAGIC, 4) != 0 || h->version != HLLB_VERSION)
		return "not a sketch bucket (bad magic or version)";
	if (h->start != start)
		return "start differs from the file name";
	if (h->last < start || h->last >= end || h->nintervals == 0 ||
	    h->nintervals > (uint64_t)(end - start))
		return "impossible interval count or last interval";
	if (h->n > KEYIDX_COUNT)
		return "impossible key count";
	*ix = xreallocarray(NULL, h->n ? h->n : 1, sizeof(**ix));
	if (fread(*ix, sizeof(**ix), h->n, f) != h->n)
		return "truncated";
	*datalen = h->alllen;
	for (i = 0; i < h->n; i++) {
		if ((*ix)[i].idx >= KEYIDX_COUNT ||
		    (i > 0 && (*ix)[i].idx <= (*ix)[i - 1].idx))
			return "key indices out of range or order";
		*datalen += (*ix)[i].len;
	}
	if (fstat(fileno(f), &sb) == -1)
		return strerror(errno);
	if ((uint64_t)sb.st_size !=
	    sizeof(*h) + (uint64_t)h->n * sizeof(**ix) + *datalen)
		return "size differs from what its index says";
	return NULL;
}

/*
 * want NULL: every key's sketches, read in one pass; else only the keys
 * whose bit is set, each read at its offset, so that a ranking's top
 * keys cost what they hold and not what the whole bucket holds.
 */
static const char *
parse(FILE *f, int64_t start, int64_t end, const uint8_t *want,
    struct hllbucket *b)
{
	struct hllb_head h;
	struct hllb_index *ix;
	struct hll *tmp = NULL;
	const char *bad;
	uint8_t *buf = NULL;
	uint64_t datalen, off;
	size_t o;
	uint32_t i;

	if ((bad = read_index(f, start, end, &h, &ix, &datalen)) != NULL)
		goto out;
	tmp = hll_new(HLL_P_DEFAULT);
	off = sizeof(h) + (uint64_t)h.n * sizeof(*ix);
	buf = xreallocarray(NULL, want ? h.alllen : datalen, 1);
	bad = "truncated";
	if (fread(buf, 1, want ? h.alllen : datalen, f) !=
	    (want ? h.alllen : datalen))
		goto out;
	if ((bad = read_entry(tmp, &b->all_src, &b->all_dst, buf, h.alllen,
		 1)) != NULL)
		goto out;
	for (i = 0, o = h.alllen, off += h.alllen; i < h.n;
	     o += ix[i].len, off += ix[i].len, i++) {
		uint32_t k = ix[i].idx, len = ix[i].len;

		if (want != NULL) {
			if (!(want[k / 8] & (1u << (k % 8))))
				continue;
			buf = xreallocarray(buf, len ? len : 1, 1);
			bad = "truncated";
			if (fseeko(f, (off_t)off, SEEK_SET) == -1 ||
			    fread(buf, 1, len, f) != len)
				goto out;
		}
		if ((bad = read_entry(tmp, &b->src[k], &b->dst[k],
			 want ? buf : buf + o, len, 0)) != NULL)
			goto out;
	}
	bad = NULL;
out:
	hll_free(tmp);
	free(buf);
	free(ix);
	if (bad == NULL) {
		b->start = h.start;
		b->last = h.last;
		b->nintervals += h.nintervals;
	}
	return bad;
}

int
hllbucket_read(const char *path, int64_t start, int64_t end,
    const uint8_t *want, struct hllbucket *b, char *why, size_t whylen)
{
	const char *bad;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	bad = parse(f, start, end, want, b);
	if (bad != NULL)
		snprintf(why, whylen, "%s", ferror(f) ? strerror(errno) : bad);
	fclose(f);
	return bad != NULL ? -1 : 0;
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
	struct hllb_index x;
	uint8_t *buf;
	size_t cap, o, at, n;
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
		cap += sizeof(x) + 2 + hll_encoded_max(b->src[i]) +
		    hll_encoded_max(b->dst[i]);
	}
	buf = xmalloc(cap);
	at = sizeof(h); /* the next index entry */
	o = sizeof(h) + (size_t)h.n * sizeof(x);
	n = put_sketch(buf + o, cap - o, b->all_src);
	n += put_sketch(buf + o + n, cap - o - n, b->all_dst);
	h.alllen = (uint32_t)n;
	o += n;
	for (i = 0; i < KEYIDX_COUNT; i++) {
		if (b->src[i] == NULL)
			continue;
		n = put_sketch(buf + o, cap - o, b->src[i]);
		n += put_sketch(buf + o + n, cap - o - n, b->dst[i]);
		x.idx = i;
		x.len = (uint32_t)n; /* two sketches: at most 2 x 197 KiB */
		memcpy(buf + at, &x, sizeof(x));
		at += sizeof(x);
		o += n;
	}
	memcpy(buf, &h, sizeof(h));
	*len = o;
	return buf;
}

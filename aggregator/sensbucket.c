/* Summary bucket per-sensor sums; see sensbucket.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyidx.h"
#include "sensbucket.h"
#include "xmalloc.h"

struct sensb_head {
	char magic[4];
	uint32_t version;
	int64_t start, last;
	uint64_t nintervals;
	uint32_t n;
	uint32_t pad;
};

/* Per sensor beside its id and keys: reported, packets, drops, n. */
#define SENSB_SENSOR_BYTES (1 + 3 * 8 + 4)
#define SENSB_KEY_BYTES (4 + 8)

void
sensbucket_init(struct sensbucket *b)
{
	memset(b, 0, sizeof(*b));
	b->start = b->last = INT64_MIN;
}

void
sensbucket_clear(struct sensbucket *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->s[i].idx);
		free(b->s[i].sum);
	}
	b->n = 0;
	b->nintervals = 0;
	b->start = b->last = INT64_MIN;
}

void
sensbucket_free(struct sensbucket *b)
{
	sensbucket_clear(b);
	free(b->s);
	sensbucket_init(b);
}

/* The position of id in b, or where it would go (*found 0). */
static size_t
sensor_pos(const struct sensbucket *b, const char *id, int *found)
{
	size_t lo = 0, hi = b->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(b->s[mid].id, id);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

struct sens_sensor *
sensbucket_sensor(struct sensbucket *b, const char *id)
{
	size_t i;
	int found;

	i = sensor_pos(b, id, &found);
	if (found)
		return &b->s[i];
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->s = xreallocarray(b->s, b->cap, sizeof(*b->s));
	}
	memmove(&b->s[i + 1], &b->s[i], (b->n - i) * sizeof(*b->s));
	b->n++;
	memset(&b->s[i], 0, sizeof(b->s[i]));
	snprintf(b->s[i].id, sizeof(b->s[i].id), "%s", id);
	return &b->s[i];
}

const struct sens_sensor *
sensbucket_find(const struct sensbucket *b, const char *id)
{
	size_t i;
	int found;

	i = sensor_pos(b, id, &found);
	return found ? &b->s[i] : NULL;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
sens_add_keys(struct sens_sensor *s, size_t n, const uint32_t *idx,
    const uint64_t *packets)
{
	uint32_t *ni;
	uint64_t *ns;
	size_t i = 0, k = 0, o = 0, cap;

	if (n == 0)
		return;
	/* A merge of two ascending lists into new arrays. */
	cap = s->n + n;
	ni = xcalloc(cap, sizeof(*ni));
	ns = xcalloc(cap, sizeof(*ns));
	while (i < s->n || k < n) {
		if (k == n || (i < s->n && s->idx[i] < idx[k])) {
			ni[o] = s->idx[i];
			ns[o++] = s->sum[i++];
		} else if (i == s->n || idx[k] < s->idx[i]) {
			ni[o] = idx[k];
			ns[o++] = packets[k++];
		} else {
			ni[o] = idx[k];
			ns[o++] = sat_add(s->sum[i++], packets[k++]);
		}
	}
	free(s->idx);
	free(s->sum);
	s->idx = ni;
	s->sum = ns;
	s->n = o;
	s->cap = cap;
}

uint64_t
sens_sum(const struct sens_sensor *s, uint32_t idx)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->idx[mid] == idx)
			return s->sum[mid];
		if (s->idx[mid] < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void
sensor_merge(struct sens_sensor *d, const struct sens_sensor *s)
{
	d->reported = sat_add(d->reported, s->reported);
	d->packets = sat_add(d->packets, s->packets);
	d->drops = sat_add(d->drops, s->drops);
	sens_add_keys(d, s->n, s->idx, s->sum);
}

void
sensbucket_merge(struct sensbucket *d, const struct sensbucket *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		sensor_merge(sensbucket_sensor(d, s->s[i].id), &s->s[i]);
}

static int
take(void *dst, size_t n, const uint8_t **p, const uint8_t *e)
{
	if ((size_t)(e - *p) < n)
		return -1;
	memcpy(dst, *p, n);
	*p += n;
	return 0;
}

/* One sensor's entry into s (zeroed); NULL or the reason. */
static const char *
read_sensor(struct sens_sensor *s, const char *prev, uint64_t nintervals,
    const uint8_t **p, const uint8_t *e)
{
	uint8_t idlen;
	uint32_t n, i, idx = 0;
	uint64_t v = 0;

	if (take(&idlen, 1, p, e) == -1)
		return "truncated";
	if (idlen == 0 || idlen > RECORD_ID_MAX)
		return "impossible sensor id length";
	if (take(s->id, idlen, p, e) == -1)
		return "truncated";
	s->id[idlen] = '\0';
	if (!record_valid_id(s->id))
		return "not a sensor id";
	if (prev != NULL && strcmp(prev, s->id) >= 0)
		return "sensors out of order";
	if (take(&s->reported, 8, p, e) == -1 ||
	    take(&s->packets, 8, p, e) == -1 ||
	    take(&s->drops, 8, p, e) == -1 || take(&n, 4, p, e) == -1)
		return "truncated";
	if (s->reported == 0 || s->reported > nintervals)
		return "impossible count of intervals reported";
	if (n > KEYIDX_COUNT)
		return "impossible key count";
	if ((size_t)(e - *p) < (size_t)n * SENSB_KEY_BYTES)
		return "truncated";
	s->idx = xcalloc(n ? n : 1, sizeof(*s->idx));
	s->sum = xcalloc(n ? n : 1, sizeof(*s->sum));
	s->cap = n;
	for (i = 0; i < n; i++) {
		(void)take(&idx, 4, p, e);
		(void)take(&v, 8, p, e);
		if (idx >= KEYIDX_COUNT || (i > 0 && idx <= s->idx[i - 1]))
			return "key indices out of range or order";
		if (v == 0)
			return "a key sum of 0";
		s->idx[i] = idx;
		s->sum[i] = v;
		s->n = i + 1;
	}
	return NULL;
}

static const char *
parse(const uint8_t *buf, size_t len, int64_t start, int64_t end,
    struct sensbucket *b)
{
	const uint8_t *p = buf + sizeof(struct sensb_head), *e = buf + len;
	struct sensb_head h;
	struct sensbucket f;
	const char *bad = NULL;
	uint32_t i;

	if (len < sizeof(h))
		return "truncated";
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, SENSB_MAGIC, 4) != 0 || h.version != SENSB_VERSION)
		return "not a sensor bucket (bad magic or version)";
	if (h.start != start)
		return "start differs from the file name";
	if (h.last < start || h.last >= end || h.nintervals == 0 ||
	    h.nintervals > (uint64_t)(end - start) || h.pad != 0)
		return "impossible interval count or last interval";
	/* Each sensor takes at least this much: the count is bounded. */
	if (h.n > (len - sizeof(h)) / (SENSB_SENSOR_BYTES + 1))
		return "impossible sensor count";
	sensbucket_init(&f);
	f.cap = h.n ? h.n : 1;
	f.s = xcalloc(f.cap, sizeof(*f.s));
	for (i = 0; i < h.n && bad == NULL; i++) {
		bad = read_sensor(&f.s[i], i > 0 ? f.s[i - 1].id : NULL,
		    h.nintervals, &p, e);
		f.n = i + 1;
	}
	if (bad == NULL && p != e)
		bad = "bytes after the last sensor";
	if (bad == NULL) {
		sensbucket_merge(b, &f);
		b->start = h.start;
		b->last = h.last;
		b->nintervals += h.nintervals;
	}
	sensbucket_free(&f);
	return bad;
}

int
sensbucket_read(const char *path, int64_t start, int64_t end,
    struct sensbucket *b, char *why, size_t whylen)
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

uint8_t *
sensbucket_encode(const struct sensbucket *b, size_t *len)
{
	struct sensb_head h;
	const struct sens_sensor *s;
	uint8_t *buf, idlen;
	size_t cap, o, i, k;
	uint32_t n;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SENSB_MAGIC, 4);
	h.version = SENSB_VERSION;
	h.start = b->start;
	h.last = b->last;
	h.nintervals = b->nintervals;
	h.n = (uint32_t)b->n;
	cap = sizeof(h);
	for (i = 0; i < b->n; i++)
		cap += SENSB_SENSOR_BYTES + strlen(b->s[i].id) +
		    b->s[i].n * SENSB_KEY_BYTES;
	buf = xmalloc(cap);
	memcpy(buf, &h, sizeof(h));
	o = sizeof(h);
#define PUT(v, sz) \
	do { \
		memcpy(buf + o, (v), (sz)); \
		o += (sz); \
	} while (0)
	for (i = 0; i < b->n; i++) {
		s = &b->s[i];
		idlen = (uint8_t)strlen(s->id);
		n = (uint32_t)s->n;
		PUT(&idlen, 1);
		PUT(s->id, idlen);
		PUT(&s->reported, 8);
		PUT(&s->packets, 8);
		PUT(&s->drops, 8);
		PUT(&n, 4);
		for (k = 0; k < s->n; k++) {
			PUT(&s->idx[k], 4);
			PUT(&s->sum[k], 8);
		}
	}
#undef PUT
	*len = o;
	return buf;
}

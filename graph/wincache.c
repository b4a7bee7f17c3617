/* Cached window rankings; see wincache.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyidx.h"
#include "log.h"
#include "wincache.h"
#include "xmalloc.h"

#define WC_MAGIC "TWC1"

/* Native byte order: the cache never leaves the host that wrote it. */
struct wc_head {
	char magic[4];
	uint32_t n;
	int64_t start, end, generation, asof;
	uint64_t nintervals;
	double sensors, total;
};

void
wincache_name(int64_t start, int64_t end, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 "-%" PRId64 ".win", start, end);
}

/* The newest final interval that can be in [start, end). */
static int64_t
as_of(int64_t last_final, int64_t end)
{
	return last_final < end ? last_final : end;
}

/*
 * A cache written by another run for other data (an older generation or
 * final interval) is stale, which is normal and silent.  One that cannot
 * have been written by cache_write() is damaged: the reason goes to why.
 * Returns 0 with w filled, -1 when stale or absent, -2 when damaged.
 */
static int
cache_read(const char *path, const struct wc_head *want, struct window *w,
    const char **why)
{
	struct wc_head h;
	FILE *f;
	int rc = -2;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	memset(w, 0, sizeof(*w));
	*why = "truncated";
	if (fread(&h, sizeof(h), 1, f) != 1)
		goto out;
	*why = "not a window cache (bad magic, window or key count)";
	if (memcmp(h.magic, WC_MAGIC, 4) != 0 || h.start != want->start ||
	    h.end != want->end || h.n > KEYIDX_COUNT)
		goto out;
	if (h.generation != want->generation || h.asof != want->asof) {
		rc = -1;
		goto out;
	}
	w->idx = xreallocarray(NULL, h.n ? h.n : 1, sizeof(*w->idx));
	w->mean = xreallocarray(NULL, h.n ? h.n : 1, sizeof(*w->mean));
	w->start = h.start;
	w->end = h.end;
	w->nintervals = h.nintervals;
	w->sensors = h.sensors;
	w->total = h.total;
	w->n = h.n;
	*why = "truncated, or bytes after the last entry";
	if (fread(w->idx, sizeof(*w->idx), h.n, f) != h.n ||
	    fread(w->mean, sizeof(*w->mean), h.n, f) != h.n || fgetc(f) != EOF)
		goto out;
	if ((*why = window_check(w)) == NULL)
		rc = 0;
out:
	if (ferror(f))
		*why = strerror(errno);
	fclose(f);
	if (rc != 0)
		window_free(w);
	return rc;
}

/* Written under a temporary name and renamed: readers see all or none. */
static void
cache_write(const char *path, struct wc_head *h, const struct window *w)
{
	char tmp[4300];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if ((f = fopen(tmp, "wb")) == NULL)
		return;
	h->n = (uint32_t)w->n;
	h->nintervals = w->nintervals;
	h->sensors = w->sensors;
	h->total = w->total;
	ok = fwrite(h, sizeof(*h), 1, f) == 1 &&
	    fwrite(w->idx, sizeof(*w->idx), w->n, f) == w->n &&
	    fwrite(w->mean, sizeof(*w->mean), w->n, f) == w->n;
	if (fclose(f) == EOF || !ok || rename(tmp, path) == -1)
		unlink(tmp);
}

int
wincache_window(const char *datadir, const char *cachedir, int64_t generation,
    int64_t last_final, int64_t start, int64_t end, struct window *w, char *err,
    size_t errlen)
{
	struct wc_head h;
	char path[4200], name[64];
	const char *why;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, WC_MAGIC, 4);
	h.start = start;
	h.end = end;
	h.generation = generation;
	h.asof = as_of(last_final, end);
	wincache_name(start, end, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", cachedir, name);
	switch (cache_read(path, &h, w, &why)) {
	case 0:
		return 0;
	case -2:
		/* Only a cache: the summary gives the window again. */
		log_warnx("window cache %s: %s; computing it again", path, why);
		break;
	}
	if (summary_window(datadir, start, end, w, err, errlen) == -1)
		return -1;
	cache_write(path, &h, w);
	return 0;
}

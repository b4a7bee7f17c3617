/*
 * Pruning: files of DIR that this run no longer links or uses.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "site_int.h"
#include "wincache.h"

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Cached windows this run did not use will not be asked for again. */
void
prune_cache(struct site *st)
{
	char dir[4200], name[64];
	struct dirent *de;
	int k, used;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/" CACHE_DIR, st->outdir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".win") &&
		    !has_suffix(de->d_name, ".tmp"))
			continue;
		for (k = 0, used = 0; k < SPAN_COUNT && !used; k++) {
			wincache_name(st->span[k].start, st->span[k].end, name,
			    sizeof(name));
			used = strcmp(name, de->d_name) == 0;
			wincache_name(st->prev[k].start, st->prev[k].end, name,
			    sizeof(name));
			used = used || strcmp(name, de->d_name) == 0;
		}
		if (!used && !report_window_used(st, de->d_name))
			(void)unlinkat(dirfd(d), de->d_name, 0); /* harmless */
	}
	closedir(d);
}

/*
 * Pages and graphs of keys no longer in any table would show stale
 * numbers; they go once the new index no longer links them.
 */
/*
 * The pages and PNGs of sub (key, sensor) this run did not make: a page
 * is current if its day graph is (key/tcp-445.html: key/tcp-445-day.png).
 */
static void
prune_pages(struct site *st, const char *sub)
{
	char name[NAME_MAX_ + 80], dir[4200];
	struct dirent *de;
	size_t len, o;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", st->outdir, sub);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len >= NAME_MAX_ + 40 ||
		    strcmp(de->d_name, "index.html") == 0)
			continue; /* not a name this file makes, or kept */
		o = (size_t)snprintf(name, sizeof(name), "%s/%.*s", sub,
		    (int)len, de->d_name);
		if (has_suffix(name, ".html"))
			snprintf(name + o - 5, sizeof(name) - (o - 5),
			    "-%s.png", span_name(SPAN_DAY));
		else if (!has_suffix(name, ".png"))
			continue;
		if (state_find(&st->cur, name) == NULL)
			(void)unlinkat(dirfd(d), de->d_name, 0); /* harmless */
	}
	closedir(d);
}

void
prune_keys(struct site *st)
{
	prune_pages(st, "key");
}

void
prune_sensors(struct site *st)
{
	prune_pages(st, "sensor");
}

/*
 * Report files of periods no longer listed (older than the oldest
 * summary bucket, or after --end) go; the index no longer links them.
 */
void
prune_reports(struct site *st)
{
	char dir[4200];
	struct dirent *de;
	size_t i, n;
	DIR *d;

	if (st->nrep == 0)
		return; /* no listing to go by */
	snprintf(dir, sizeof(dir), "%s/report", st->outdir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".html") &&
		    !has_suffix(de->d_name, ".json") &&
		    !has_suffix(de->d_name, ".csv") &&
		    !has_suffix(de->d_name, ".png"))
			continue;
		if (strcmp(de->d_name, "index.html") == 0)
			continue;
		for (i = 0; i < st->nrep; i++) {
			n = strlen(st->rep[i].name);
			if (strncmp(de->d_name, st->rep[i].name, n) == 0 &&
			    (de->d_name[n] == '.' || de->d_name[n] == '-'))
				break;
		}
		if (i == st->nrep)
			(void)unlinkat(dirfd(d), de->d_name, 0); /* harmless */
	}
	closedir(d);
}

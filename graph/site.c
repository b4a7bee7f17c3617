/*
 * The static site; see site.h.  This file runs the steps in order; each
 * part is in its own file (site_int.h).  Files in DIR:
 *
 *   index.html, style.css            the page, one section per window
 *   <window>-{top1-5,top6-10,icmp,sensors}.png
 *   top-<window>.json, .csv          each window's top SITE_TOP table
 *   key/<proto>-<key>.html           one page per key listed in a table
 *   key/<proto>-<key>-<window>.png
 *   sensor/index.html                every sensor with data in a window
 *   sensor/<id>.html, <id>-<window>.png  its top 10 and health per window
 *   groups.html                      the groups' top 10s (when configured)
 *   report/index.html                every period with data
 *   report/<period>.html, .json, .csv  one per month, quarter, fiscal year
 *   report/<period>-{top1-5,top6-10,icmp,<proto>-<key>}.png
 *   .state                           what each PNG was made from
 *   .cache/<start>-<end>.win         window rankings (wincache.h)
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datadir.h"
#include "interval.h"
#include "site.h"
#include "site_int.h"

static int
make_dirs(struct site *st)
{
	char path[4200];

	/* The caller names outdir in front of the reason. */
	if (mkdir(st->outdir, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "mkdir: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/key", st->outdir);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/" CACHE_DIR, st->outdir);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/sensor", st->outdir);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return site_fail(st, "%s: %s", path, strerror(errno));
	return 0;
}

/* Draw what changed. */
static int
render_all(struct site *st)
{
	if (plan_graphs(st) == -1 || plan_reports(st) == -1 ||
	    render_jobs(st) == -1)
		return -1;
	state_sort(&st->cur);
	return 0;
}

static int
write_pages(struct site *st)
{
	size_t i;
	int k;

	if (write_css(st) == -1)
		return -1;
	for (k = 0; k < SPAN_COUNT; k++)
		if (write_exports(st, k) == -1)
			return -1;
	for (i = 0; i < st->nkeys; i++)
		if (write_key(st, st->keys[i]) == -1)
			return -1;
	if (st->nrep > 0 && write_reports(st) == -1)
		return -1;
	if (write_sensors(st) == -1)
		return -1;
	/* Last, so that everything it links to is in place. */
	return write_index(st);
}

static void
site_free(struct site *st)
{
	int k;

	for (k = 0; k < SPAN_COUNT; k++) {
		window_free(&st->win[k]);
		window_free(&st->pwin[k]);
	}
	reports_free(st);
	sensors_free(st);
	free(st->keys);
	free(st->jobs);
	state_free(&st->old);
	state_free(&st->cur);
}

int
site_generate(const char *datadir, uint32_t step, int64_t end,
    const struct site_opts *opts, const char *outdir, char *err, size_t errlen)
{
	static const struct site_opts none;
	char path[DATADIR_PATH_MAX];
	struct site st;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	st.datadir = datadir;
	st.opts = opts != NULL ? opts : &none;
	st.outdir = outdir;
	st.step = step;
	st.end = end;
	st.err = err;
	st.errlen = errlen;
	st.now = (int64_t)time(NULL);
	st.last_final = datadir_last_final(datadir);
	st.generation = datadir_generation(datadir);
	if (st.last_final != INT64_MIN &&
	    (st.last_final < 0 || st.last_final >= INTERVAL_SEC_LIMIT)) {
		datadir_marker_path(datadir, DATADIR_LAST_FINAL, path,
		    sizeof(path));
		return site_fail(&st, "%s: not a Unix time (damaged?)", path);
	}
	if (make_dirs(&st) == 0 && load_windows(&st) == 0 &&
	    load_sensors(&st) == 0) {
		state_load(&st);
		/*
		 * What every PNG and closed report was made from, once the
		 * pages that show them are in place.
		 */
		if (render_all(&st) == 0 && write_pages(&st) == 0 &&
		    state_save(&st) == 0) {
			prune_keys(&st);
			prune_sensors(&st);
			prune_cache(&st);
			prune_reports(&st);
			rc = 0;
		}
	}
	site_free(&st);
	return rc;
}

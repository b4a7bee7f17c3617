/*
 * The static web page analysts read every morning: DIR/index.html with the
 * graphs of every window and, beside them, the top 20 of each window
 * (rank, key, service, average per sensor, share of all packets, rank
 * change against the previous window of the same length, new entries
 * marked, a link to the key's own page), JSON and CSV exports of each
 * table, and one page per listed or watched key with its graphs over all
 * windows and the notable events of its year.
 * Plain HTML and CSS, no external resources.  Regeneration is incremental:
 * a PNG is rendered again only when the data of its window changed.
 */
#ifndef TEITEN_SITE_H
#define TEITEN_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

#define SITE_TOP 20

/* A group of sensors (teiten.conf [graph] group): the ids need not exist. */
struct site_group {
	const char *name;
	const char *const *ids;
	size_t nids;
};

/* What the analysts add; the caller's, kept alive while generating. */
struct site_opts {
	const uint32_t *watch; /* keys that always get a page */
	size_t nwatch;
	const struct events *events; /* listed on key pages, drawn */
	int fy_month; /* the fiscal year's first month; 0: April */
	const struct site_group *groups; /* compared on groups.html */
	size_t ngroups;
};

/*
 * Generate the site for windows ending at end into outdir (created).
 * step is the RRD step; opts may be NULL.  Returns 0, or -1 with a reason
 * in err.
 */
int site_generate(const char *datadir, uint32_t step, int64_t end,
    const struct site_opts *opts, const char *outdir, char *err, size_t errlen);

#endif

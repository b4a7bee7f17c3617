/*
 * DIR/.state: which PNG is up to date.  Rendering PNGs is what costs; the
 * pages and exports are rewritten every run.  .state holds, per PNG, a
 * signature of everything the image shows (site_plan.c makes it): window
 * bounds, RRD step, keys and colours, the datadir's generation and the
 * newest final interval clamped to the window's end.  Final intervals
 * after a window's end do not change its graph, and the longer windows
 * end on whole days, so a run every five minutes renders them once a
 * day; the day and week graphs run on to the newest final interval
 * (site_plan.c: graph_span), so they are drawn again whenever one is
 * added: that is what shows the last hour's data.  The RRDs change
 * only as final intervals are added (DATADIR/last_final moves) or by
 * `teiten-aggregator rebuild`, which bumps DATADIR/generation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "site_int.h"
#include "xmalloc.h"

#define STATE_NAME ".state"
#define STATE_MAGIC "teiten-site-state 1"

void
state_add(struct state *s, const char *name, const char *sig)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n].name = xstrdup(name);
	s->v[s->n].sig = xstrdup(sig);
	s->v[s->n].w = s->v[s->n].h = 0;
	s->n++;
}

void
state_free(struct state *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].sig);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
png_cmp(const void *a, const void *b)
{
	return strcmp(((const struct png *)a)->name,
	    ((const struct png *)b)->name);
}

void
state_sort(struct state *s)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), png_cmp);
}

struct png *
state_find(const struct state *s, const char *name)
{
	struct png key;

	if (s->n == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, s->v, s->n, sizeof(*s->v), png_cmp);
}

/*
 * A missing state file only means rendering everything again, so it is
 * not an error, nor is a damaged one: its graphs are drawn again, with a
 * warning naming it.  A line whose name or signature was damaged matches
 * no graph of this run, which draws that graph again.
 */
void
state_load(struct site *st)
{
	char path[4200], *line = NULL, *tab;
	size_t cap = 0, bad = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", st->outdir, STATE_NAME);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("site state %s", path);
		return;
	}
	if (getline(&line, &cap, f) <= 0 || strcmp(line, STATE_MAGIC "\n") != 0)
		log_warnx("site state %s: not a state file; drawing every "
			  "graph again",
		    path);
	else
		while ((len = getline(&line, &cap, f)) > 0) {
			line[strcspn(line, "\n")] = '\0';
			if ((tab = strchr(line, '\t')) == NULL || tab == line ||
			    tab[1] == '\0') {
				bad++;
				continue;
			}
			*tab = '\0';
			state_add(&st->old, line, tab + 1);
		}
	if (ferror(f))
		log_warn("site state %s", path);
	else if (bad > 0)
		log_warnx("site state %s: %zu damaged lines ignored; their "
			  "graphs are drawn again",
		    path, bad);
	free(line);
	fclose(f);
	state_sort(&st->old);
}

int
state_save(struct site *st)
{
	struct out o;
	size_t i;

	if (out_open(st, &o, STATE_NAME) == -1)
		return -1;
	fputs(STATE_MAGIC "\n", o.f);
	for (i = 0; i < st->cur.n; i++)
		fprintf(o.f, "%s\t%s\n", st->cur.v[i].name, st->cur.v[i].sig);
	return out_close(st, &o);
}

/*
 * Width and height from the IHDR chunk, which a PNG must start with; 0 x 0
 * unless the file also ends with the IEND chunk, so that a truncated one
 * counts as missing.
 */
void
png_size(const char *path, unsigned *w, unsigned *h)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n'};
	static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D',
	    0xae, 0x42, 0x60, 0x82};
	unsigned char b[24], e[12];
	FILE *f;

	*w = *h = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return;
	if (fread(b, 1, sizeof(b), f) == sizeof(b) && memcmp(b, sig, 8) == 0 &&
	    memcmp(b + 12, "IHDR", 4) == 0 &&
	    fseek(f, -(long)sizeof(e), SEEK_END) == 0 &&
	    fread(e, 1, sizeof(e), f) == sizeof(e) &&
	    memcmp(e, iend, sizeof(e)) == 0) {
		*w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 |
		    (unsigned)b[18] << 8 | b[19];
		*h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 |
		    (unsigned)b[22] << 8 | b[23];
	}
	fclose(f);
}

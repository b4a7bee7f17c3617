/*
 * bench_rebuild_gen: a DATADIR archive of hourly history from a fleet, for
 * bench_rebuild.py to time `teiten-aggregator rebuild` on.
 *
 *   bench_rebuild_gen -d DATADIR [--keys N] [--sensors S] [--reporters R]
 *                     [--hours H] [--step S] [--end T] [--seed X]
 *
 * DATADIR must not have an archive yet.  It gets H intervals of S seconds
 * ending at T (the end of the newest one, a multiple of S), each with one
 * record from every one of the S sensors, as the aggregator archives
 * them (record_encode, archive_append, archive_commit once per interval),
 * and DATADIR/step (datadir_save_step); nothing else, so that a rebuild
 * derives every RRD and summary.
 *
 * The keys are those of the site benchmark (bench_site.c): N keys, ranked
 * Zipf-like (the fleet's packets of rank r are proportional to 1 / r),
 * the top 100 present in every interval, the others in 90 % of them.
 * Every sensor reports the top 100; each other key is reported by R of
 * the sensors (R spread evenly from a sensor drawn from the key), all of
 * them in the intervals where the key is present.  A record then holds
 * 100 + (N - 100) R / S keys when every key is present, 90 % of the tail
 * in a mean interval (about 1,900 of 20,000 keys with the defaults).
 *
 * A sensor's packets for a key are 1 + floor(m (0.5 + u)), m the key's
 * share of the fleet's 3,000 S / r packets an hour at rank r divided among
 * its reporters, u in [0, 1) from a hash of (seed, sensor, key, interval
 * start): the same in every run.  Output: one line "generated INTERVALS
 * intervals RECORDS records ENTRIES entries BYTES bytes WALL s".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROG "bench_rebuild_gen"
#include "archive.h"
#include "benchgen.h"
#include "datadir.h"
#include "keyidx.h"
#include "log.h"
#include "record.h"
#include "xmalloc.h"

#define HOT_ALWAYS 100 /* ranks present in every interval */
#define TAIL_PRESENT 0.9 /* share of intervals with a tail key */
#define TOP_FLEET 3000.0 /* packets an hour per sensor at rank 1 */
#define SENSOR_FMT "rb-s%03u"

struct key {
	uint32_t idx;
	uint32_t rank; /* 1-based */
	uint32_t first; /* the first of its reporters */
	double mean; /* a reporter's packets in a mean interval */
};

struct gen {
	const char *datadir;
	uint64_t seed;
	uint32_t step, nsensors, reporters;
	int64_t end, nint;
	size_t nkeys;
	struct key *keys; /* ascending idx: the records' order */
	size_t **skeys; /* each sensor's keys, ascending */
	size_t *nskeys;
};

static int
key_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct key *)a)->idx;
	uint32_t y = ((const struct key *)b)->idx;

	return x < y ? -1 : x > y;
}

static int
reports(const struct gen *g, const struct key *k, uint32_t s)
{
	uint32_t d;

	if (k->rank <= HOT_ALWAYS || g->reporters >= g->nsensors)
		return 1;
	/* Reporters first, first + S/R, first + 2S/R, ... (mod S). */
	d = (s + g->nsensors - k->first) % g->nsensors;
	return d % (g->nsensors / g->reporters) == 0 &&
	    d / (g->nsensors / g->reporters) < g->reporters;
}

static void
gen_keys(struct gen *g)
{
	uint8_t *used = xcalloc(KEYIDX_COUNT, 1);
	uint64_t state = g->seed;
	uint32_t idx, s, nrep;
	size_t r, k;

	g->keys = xcalloc(g->nkeys, sizeof(*g->keys));
	for (r = 0; r < g->nkeys; r++) {
		while (used[idx = draw_key(&state)])
			;
		used[idx] = 1;
		g->keys[r].idx = idx;
		g->keys[r].rank = (uint32_t)r + 1;
		g->keys[r].first =
		    (uint32_t)(mix64(g->seed ^ mix64(idx)) % g->nsensors);
		nrep =
		    g->keys[r].rank <= HOT_ALWAYS ? g->nsensors : g->reporters;
		g->keys[r].mean =
		    TOP_FLEET * g->nsensors / (double)(r + 1) / nrep;
	}
	free(used);
	qsort(g->keys, g->nkeys, sizeof(*g->keys), key_cmp);
	g->skeys = xcalloc(g->nsensors, sizeof(*g->skeys));
	g->nskeys = xcalloc(g->nsensors, sizeof(*g->nskeys));
	for (s = 0; s < g->nsensors; s++) {
		g->skeys[s] = xcalloc(g->nkeys, sizeof(**g->skeys));
		for (k = 0; k < g->nkeys; k++)
			if (reports(g, &g->keys[k], s))
				g->skeys[s][g->nskeys[s]++] = k;
	}
}

/* Whether key k is present in the interval at start: the fleet's draw. */
static int
present(const struct gen *g, const struct key *k, int64_t start)
{
	return k->rank <= HOT_ALWAYS ||
	    unit(mix64(mix64(g->seed ^ mix64(k->idx)) ^ (uint64_t)start)) <
	    TAIL_PRESENT;
}

static uint64_t
packets(const struct gen *g, uint32_t s, const struct key *k, int64_t start)
{
	uint64_t h =
	    mix64(mix64(mix64(g->seed ^ mix64(s)) ^ k->idx) ^ (uint64_t)start);

	return 1 + (uint64_t)(k->mean * (0.5 + unit(h)));
}

static enum proto
idx_proto(uint32_t idx)
{
	if (idx < KEYIDX_BASE_UDP)
		return PROTO_TCP;
	if (idx < KEYIDX_BASE_ICMP)
		return PROTO_UDP;
	if (idx < KEYIDX_BASE_ICMP6)
		return PROTO_ICMP;
	return PROTO_ICMP6;
}

/* Sensor s's record of the interval at start, its presence map given. */
static void
fill(const struct gen *g, uint32_t s, int64_t start, const uint8_t *on,
    struct record *r)
{
	const struct key *k;
	enum proto p;
	uint64_t n;
	size_t i;

	r->nentries = 0;
	memset(r->totals, 0, sizeof(r->totals));
	snprintf(r->sensor, sizeof(r->sensor), SENSOR_FMT, s);
	r->start = start;
	r->len = g->step;
	r->naddrs = 256;
	for (i = 0; i < g->nskeys[s]; i++) {
		if (!on[g->skeys[s][i]])
			continue;
		k = &g->keys[g->skeys[s][i]];
		p = idx_proto(k->idx);
		n = packets(g, s, k, start);
		record_add(r, p, (uint16_t)(k->idx - keyidx_base(p)), n);
		r->totals[p] += n; /* enum proto and enum record_total agree */
	}
	r->totals[RT_TCP_SYN] = r->totals[RT_TCP];
}

static int
generate(struct gen *g)
{
	struct archive *a;
	struct record r;
	char err[256];
	uint8_t *on = xcalloc(g->nkeys, 1), *buf;
	uint64_t recs = 0, entries = 0, bytes = 0;
	int64_t i, start;
	size_t k, len, cap;
	uint32_t s;
	double t0 = now_mono();

	if ((a = archive_open(g->datadir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_rebuild_gen: %s\n", err);
		return 1;
	}
	record_init(&r);
	/* Every key and a long sensor id: the most a record can take. */
	for (k = 0; k < g->nkeys; k++)
		record_add(&r, idx_proto(g->keys[k].idx),
		    (uint16_t)(g->keys[k].idx -
			keyidx_base(idx_proto(g->keys[k].idx))),
		    UINT64_MAX);
	memset(r.sensor, 'x', RECORD_ID_MAX);
	cap = record_encoded_max(&r) + 16 * 10;
	buf = xmalloc(cap);
	for (i = 0; i < g->nint; i++) {
		start = g->end - (g->nint - i) * g->step;
		for (k = 0; k < g->nkeys; k++)
			on[k] = (uint8_t)present(g, &g->keys[k], start);
		for (s = 0; s < g->nsensors; s++) {
			fill(g, s, start, on, &r);
			if ((len = record_encode(&r, buf, cap)) == 0)
				fatalx("record too large");
			if (archive_append(a, start, buf, len) == -1)
				fatalx("archive: interval %" PRId64, start);
			recs++;
			entries += r.nentries;
			bytes += 8 + len;
		}
		if (archive_commit(a) == -1)
			fatalx("archive: commit");
		if ((i + 1) % (g->nint / 10 + 1) == 0)
			fprintf(stderr,
			    "bench_rebuild_gen: %" PRId64 " of %" PRId64
			    " intervals (%.0f s)\n",
			    i + 1, g->nint, now_mono() - t0);
	}
	archive_free(a);
	record_clear(&r);
	free(buf);
	free(on);
	if (datadir_save_step(g->datadir, g->step) == -1)
		fatalx("%s: cannot write the step", g->datadir);
	printf("generated %" PRId64 " intervals %" PRIu64 " records %" PRIu64
	       " entries %" PRIu64 " bytes %.1f s\n",
	    g->nint, recs, entries, bytes, now_mono() - t0);
	return 0;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
	    "usage: bench_rebuild_gen -d datadir [--keys N] [--sensors S] "
	    "[--reporters R]\n"
	    "                         [--hours H] [--step S] [--end T] "
	    "[--seed X]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"datadir", required_argument, NULL, 'd'},
	    {"keys", required_argument, NULL, 'k'},
	    {"sensors", required_argument, NULL, 'S'},
	    {"reporters", required_argument, NULL, 'R'},
	    {"hours", required_argument, NULL, 'H'},
	    {"step", required_argument, NULL, 's'},
	    {"end", required_argument, NULL, 'e'},
	    {"seed", required_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	struct gen g;
	char path[4096];
	int ch, rc;
	uint32_t s;

	memset(&g, 0, sizeof(g));
	g.nkeys = 20000;
	g.nsensors = 100;
	g.reporters = 10;
	g.nint = 8760;
	g.step = 3600;
	g.end = 1795982400; /* 2026-11-29 20:00 UTC, as bench_site's */
	g.seed = 1;
	while ((ch = getopt_long(argc, argv, "d:", opts, NULL)) != -1)
		switch (ch) {
		case 'd':
			g.datadir = optarg;
			break;
		case 'k':
			g.nkeys =
			    (size_t)num("--keys", optarg, HOT_ALWAYS, 100000);
			break;
		case 'S':
			g.nsensors = (uint32_t)num("--sensors", optarg, 1, 999);
			break;
		case 'R':
			g.reporters =
			    (uint32_t)num("--reporters", optarg, 1, 999);
			break;
		case 'H':
			g.nint = num("--hours", optarg, 1, 24 * 3650);
			break;
		case 's':
			g.step = (uint32_t)num("--step", optarg, 60, 86400);
			break;
		case 'e':
			g.end = num("--end", optarg, 86400LL * 3650,
			    (long long)1 << 40);
			break;
		case 'x':
			g.seed = (uint64_t)num("--seed", optarg, 0, INT64_MAX);
			break;
		default:
			usage();
		}
	if (g.datadir == NULL || optind != argc)
		usage();
	if (g.end % g.step != 0 || g.reporters > g.nsensors) {
		fprintf(stderr,
		    "bench_rebuild_gen: --step must divide --end, "
		    "--reporters at most --sensors\n");
		return 2;
	}
	log_init("bench_rebuild_gen", 1, 0);
	datadir_archive_dir(g.datadir, path, sizeof(path));
	if (rmdir(path) == -1 && errno != ENOENT) {
		fprintf(stderr, "bench_rebuild_gen: %s: %s\n", path,
		    errno == ENOTEMPTY || errno == EEXIST ? "holds an archive"
							  : strerror(errno));
		return 1;
	}
	gen_keys(&g);
	rc = generate(&g);
	for (s = 0; s < g.nsensors; s++)
		free(g.skeys[s]);
	free(g.skeys);
	free(g.nskeys);
	free(g.keys);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "bench_rebuild_gen: standard output: %s\n",
		    strerror(errno));
		return 1;
	}
	return rc;
}

/*
 * bench_site: a year of synthetic data in a DATADIR laid out exactly as
 * the aggregator leaves it, for bench_site.py to time `teiten-graph site`
 * (and `top`) on.
 *
 *   bench_site -d DATADIR [--keys N] [--days D] [--sensors S] [--step S]
 *              [--end T] [--seed X] [--threads T]
 *   bench_site -d DATADIR --append [the same options]
 *
 * Without --append, DATADIR must not hold data yet.  It gets D days of
 * final intervals of S seconds ending at T (the end of the newest one, a
 * multiple of S): N keys that are active the whole time (Zipf-like means,
 * a few hot ports and ICMP types and a long tail; the top 100 present in
 * every interval, the others in 90 % of them; three ports with campaigns
 * in the last weeks), reported by --sensors sensors every interval.
 * Everything is written by the aggregator's own code where the cost
 * allows it:
 *
 *   - the first interval goes through rrdw_write, which creates every RRD
 *     (one per key, sensors.rrd, one per sensor) with its real RRAs;
 *   - every interval goes through summary_add, so the hourly and daily
 *     window summaries are real, old hourly buckets pruned included;
 *   - the later intervals of each RRD are written with librrd's
 *     rrd_update_r, all of a file's rows in one call ("END:VALUE" as
 *     rrdw writes them, "%.17g", 0 for a key absent from an interval),
 *     by --threads threads while the summary is written, because one
 *     rrd_update_r per file and interval (175 million) would take an hour;
 *   - DATADIR/step and, last of all, DATADIR/last_final as the aggregator
 *     writes them, so a DATADIR without last_final is incomplete.
 *
 * With --summary-only, no RRD is written: only DATADIR/summary (every
 * interval through summary_add), step and last_final, for timing
 * `teiten-graph top` and measuring the summary's bytes.
 *
 * With --sketches, every interval's job carries the fleet's sketches of
 * distinct sources and targets (precision --sketch-p) so that the summary
 * writes its .hll files (hllbucket.h).  Sources model, per key and hour
 * (fleet-wide): n = 1 + S x f x daily / rank distinct sources (S is
 * --sketch-src, default 20,000: about 20,000 for the top key, 200 at rank
 * 100, 2 to 3 in the tail; f a campaign's gain), half of them resident
 * (the same every hour all year) and half fresh each hour, all drawn from
 * one pool of SRC_POOL addresses shared by every key; 2n targets drawn
 * with repetition from the fleet's 25,600 monitored addresses (100 /24s).
 * Items are hashed with mix64 (a sensor uses keyed SipHash; the summary
 * sees only the hashes).  To keep the year's generation short, hours
 * before the last SKETCH_HOURLY_DAYS days (whose hourly buckets the
 * aggregator prunes) carry no sketch but the last hour of each UTC day,
 * which carries the union of the day's hours: the day's .hll file is the
 * same as if every hour had carried its own (sketches merge losslessly),
 * only its count of intervals with sketches is 1.
 *
 * With --append, one more interval after DATADIR/last_final is written
 * the aggregator's way, rrdw_write then summary_add then last_final, with
 * the values the same seed gives it.
 *
 * Values come from a hash of (seed, key, interval start), so they are the
 * same in every run and in both passes.  Output, for the driver: "hottest
 * KEY", the wall time of each part ("create", "summary", "rrd", then
 * "generate" in all) and "check" (every RRD's last update is T), or for
 * --append "append START rrdw wall W summary wall W keys N".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rrd.h>

#define BENCH_PROG "bench_site"
#include "benchgen.h"
#include "datadir.h"
#include "hll.h"
#include "keyidx.h"
#include "keyname.h"
#include "log.h"
#include "rrdw.h"
#include "summary.h"
#include "xmalloc.h"

#define HOT_ALWAYS 100 /* ranks present in every interval */
#define TAIL_PRESENT 0.9 /* share of intervals with a tail key */
#define TOP_MEAN 3000.0 /* packets per sensor per hour at rank 1 */
#define SENSOR_FMT "bench-s%03u"
#define SRC_POOL (1u << 22) /* source addresses of the sources model */
#define TARGETS 25600 /* the fleet's monitored addresses */
#define SKETCH_HOURLY_DAYS 17 /* the hourly buckets kept, and one more */

/* Ranks 1, 2, ... in this order; the rest are drawn from the seed. */
static const char *const hot_keys[] = {"tcp/23", "tcp/445", "tcp/22", "icmp/8",
    "tcp/3389", "tcp/80", "tcp/8080", "tcp/443", "udp/5060", "tcp/1433",
    "tcp/5900", "udp/53", "tcp/2323", "tcp/8443", "udp/123", "tcp/3306",
    "tcp/81", "udp/1900", "tcp/6379", "tcp/25", "icmp/3", "tcp/21", "tcp/8888",
    "tcp/5555", "udp/161", "tcp/9200", "tcp/110", "udp/137", "tcp/7547",
    "tcp/8000", "icmp6/128", "tcp/135", "tcp/139", "udp/19", "udp/11211",
    "icmp/11", "icmp6/135", "icmp/0", "icmp/13", "icmp6/133"};
#define NHOT (sizeof(hot_keys) / sizeof(hot_keys[0]))

/*
 * Ports that scanners take up for a while, so that the shorter windows'
 * tables list keys that the year's does not, marked new.  Hours are
 * counted back from --end; a campaign of length 0 lasts past it.
 */
static const struct {
	const char *key;
	uint32_t rank; /* outside the campaign */
	int64_t from, len, ramp; /* hours */
	double gain;
} campaigns[] = {
    {"tcp/37215", 3000, 240, 0, 72, 400}, /* day, week and month */
    {"udp/3702", 4000, 960, 480, 24, 1000}, /* month and quarter */
    {"tcp/60001", 5000, 48, 30, 0, 3000}, /* a burst: day and week */
};
#define NCAMPAIGNS (sizeof(campaigns) / sizeof(campaigns[0]))

struct key {
	uint32_t idx;
	uint32_t rank; /* 1-based */
	int campaign; /* index in campaigns[], or -1 */
	double mean; /* when present, before the daily cycle */
};

struct gen {
	const char *datadir;
	uint64_t seed;
	uint32_t step, nsensors;
	int64_t end; /* end of the newest generated interval */
	int64_t nint;
	size_t nkeys;
	struct key *keys; /* ascending idx, as a job wants them */
	double sensor_packets; /* a sensor's packets in a mean interval */
	int summary_only, sketches;
	unsigned sketch_p;
	double sketch_src; /* S of the sources model */
};

struct worker {
	const struct gen *g;
	unsigned id, nthreads;
	size_t failed;
	double wall;
};

static uint64_t
hash3(uint64_t seed, uint64_t a, int64_t t)
{
	return mix64(mix64(seed ^ mix64(a)) ^ (uint64_t)t);
}

static int
key_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct key *)a)->idx;
	uint32_t y = ((const struct key *)b)->idx;

	return x < y ? -1 : x > y;
}

/* The campaign at rank r (1-based), or -1; gen_keys marked its key 2. */
static int
campaign_at(size_t r, uint8_t *used, uint32_t *idx)
{
	size_t c;

	for (c = 0; c < NCAMPAIGNS; c++)
		if (campaigns[c].rank == r) {
			if (key_parse(campaigns[c].key, idx) == -1 ||
			    used[*idx] == 1)
				fatalx("bad campaign key %s", campaigns[c].key);
			return (int)c;
		}
	return -1;
}

static void
gen_keys(struct gen *g)
{
	uint8_t *used = xcalloc(KEYIDX_COUNT, 1);
	uint64_t state = g->seed;
	uint32_t idx;
	size_t r, c;

	/* Tail draws must not take a campaign's key before its rank. */
	for (c = 0; c < NCAMPAIGNS; c++)
		if (campaigns[c].rank <= g->nkeys &&
		    key_parse(campaigns[c].key, &idx) == 0)
			used[idx] = 2;
	g->keys = xcalloc(g->nkeys, sizeof(*g->keys));
	for (r = 0; r < g->nkeys; r++) {
		g->keys[r].campaign = -1;
		if (r < NHOT) {
			if (key_parse(hot_keys[r], &idx) == -1 || used[idx])
				fatalx("bad hot key %s", hot_keys[r]);
		} else if ((g->keys[r].campaign =
				   campaign_at(r + 1, used, &idx)) == -1)
			while (used[idx = draw_key(&state)])
				;
		used[idx] = 1;
		g->keys[r].idx = idx;
		g->keys[r].rank = (uint32_t)r + 1;
		g->keys[r].mean = TOP_MEAN * g->step / 3600.0 / (double)(r + 1);
		g->sensor_packets += g->keys[r].mean;
	}
	free(used);
	qsort(g->keys, g->nkeys, sizeof(*g->keys), key_cmp);
}

/* Scans follow the day a little: +-25 % over 24 hours of UTC. */
static double
daily(int64_t start)
{
	return 1 + 0.25 * sin(2 * M_PI * (double)(start % 86400) / 86400.0);
}

/* A campaign's factor on its key's mean: rises over its ramp, then holds. */
static double
campaign(const struct gen *g, int c, int64_t start)
{
	double h =
	    (double)(start - (g->end - campaigns[c].from * 3600)) / 3600.0;
	double x = campaigns[c].ramp ? h / (double)campaigns[c].ramp : 1;

	if (h < 0 || (campaigns[c].len && h >= (double)campaigns[c].len))
		return 1;
	return 1 + (campaigns[c].gain - 1) * (x < 1 ? x : 1);
}

/* Key k's average in the interval at start; 0 when absent.  all: present. */
static int
key_value(const struct gen *g, size_t k, int64_t start, int all, double *v)
{
	const struct key *key = &g->keys[k];
	uint64_t h = hash3(g->seed, key->idx, start);
	double f = key->campaign >= 0 ? campaign(g, key->campaign, start) : 1;

	if (!all && key->rank > HOT_ALWAYS && f == 1 &&
	    unit(h) >= TAIL_PRESENT) {
		*v = 0;
		return 0;
	}
	*v = f * key->mean * daily(start) * (0.7 + 0.6 * unit(mix64(h)));
	return 1;
}

static void
sensor_health(const struct gen *g, unsigned s, int64_t start, uint64_t *pk,
    uint64_t *drops)
{
	uint64_t h = hash3(g->seed ^ 0x5E5, s, start);

	*pk = (uint64_t)(g->sensor_packets * daily(start) *
	    (0.6 + 0.8 * unit(h)));
	*drops = unit(mix64(h)) < 0.01 ? *pk / 1000 : 0;
}

static struct rrd_job *
job_new(const struct gen *g)
{
	struct rrd_job *j = xcalloc(1, sizeof(*j));

	j->len = g->step;
	j->nsensors = g->nsensors;
	j->idx = xcalloc(g->nkeys, sizeof(*j->idx));
	j->avg = xcalloc(g->nkeys, sizeof(*j->avg));
	j->health = xcalloc(g->nsensors, sizeof(*j->health));
	return j;
}

static void
job_fill(const struct gen *g, int64_t start, int all, struct rrd_job *j)
{
	unsigned s;
	size_t k;
	double v;

	j->start = start;
	j->nvalues = 0;
	for (k = 0; k < g->nkeys; k++)
		if (key_value(g, k, start, all, &v)) {
			j->idx[j->nvalues] = g->keys[k].idx;
			j->avg[j->nvalues++] = v;
		}
	j->nhealth = g->nsensors;
	for (s = 0; s < g->nsensors; s++) {
		snprintf(j->health[s].id, sizeof(j->health[s].id), SENSOR_FMT,
		    s);
		sensor_health(g, s, start, &j->health[s].packets,
		    &j->health[s].drops);
	}
}

/* As the aggregator's agg_check_step writes it. */
static void
write_step(const struct gen *g)
{
	if (datadir_save_step(g->datadir, g->step) == -1)
		fatalx("%s: cannot write the step", g->datadir);
}

/*
 * Series s: key files 0 .. nkeys-1, then sensors.rrd, then each sensor's
 * file.  Its path, and the update values of the interval at start as
 * rrdw formats them.
 */
static void
series_path(const struct gen *g, size_t s, char *buf, size_t len)
{
	char id[32];

	if (s < g->nkeys)
		datadir_key_rrd(g->datadir, g->keys[s].idx, buf, len);
	else if (s == g->nkeys)
		datadir_sensors_rrd(g->datadir, buf, len);
	else {
		snprintf(id, sizeof(id), SENSOR_FMT,
		    (unsigned)(s - g->nkeys - 1));
		datadir_sensor_rrd(g->datadir, id, buf, len);
	}
}

static int
series_values(const struct gen *g, size_t s, int64_t start, char *buf,
    size_t len)
{
	uint64_t pk, drops;
	double v;

	if (s < g->nkeys) {
		(void)key_value(g, s, start, 0, &v);
		return snprintf(buf, len, "%" PRId64 ":%.17g", start + g->step,
		    v);
	}
	if (s == g->nkeys)
		return snprintf(buf, len, "%" PRId64 ":%u", start + g->step,
		    g->nsensors);
	sensor_health(g, (unsigned)(s - g->nkeys - 1), start, &pk, &drops);
	return snprintf(buf, len, "%" PRId64 ":1:%" PRIu64 ":%" PRIu64,
	    start + g->step, pk, drops);
}

/* Every interval after the first into series s, in one rrd_update_r. */
static int
series_write(const struct gen *g, size_t s, char *buf, const char **argv)
{
	int64_t first = g->end - g->nint * g->step, i;
	char path[4096];
	size_t o = 0;
	int n;

	series_path(g, s, path, sizeof(path));
	for (i = 1; i < g->nint; i++) {
		n = series_values(g, s, first + i * g->step, buf + o, 80);
		if (n < 0 || n >= 80)
			fatalx("series %zu: value too long", s);
		argv[i - 1] = buf + o;
		o += (size_t)n + 1;
	}
	rrd_clear_error();
	if (g->nint > 1 &&
	    rrd_update_r(path, NULL, (int)(g->nint - 1), argv) != 0) {
		log_warnx("rrd %s: %s", path, rrd_get_error());
		return -1;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	const struct gen *g = wk->g;
	size_t s, nseries = g->nkeys + 1 + g->nsensors, done = 0;
	const char **argv = xcalloc((size_t)g->nint, sizeof(*argv));
	char *buf = xcalloc((size_t)g->nint, 80);
	double t0 = now_mono();

	for (s = wk->id; s < nseries; s += wk->nthreads) {
		if (series_write(g, s, buf, argv) == -1)
			wk->failed++;
		if (wk->id == 0 &&
		    ++done % (nseries / wk->nthreads / 10 + 1) == 0)
			fprintf(stderr, "bench_site: rrd %zu%% (%.0f s)\n",
			    100 * done * wk->nthreads / nseries,
			    now_mono() - t0);
	}
	wk->wall = now_mono() - t0;
	free(argv);
	free(buf);
	return NULL;
}

/* Key k's distinct sources in the hour at start (model above). */
static uint64_t
sources_at(const struct gen *g, size_t k, int64_t start)
{
	const struct key *key = &g->keys[k];
	double f = key->campaign >= 0 ? campaign(g, key->campaign, start) : 1;

	return 1 + (uint64_t)(g->sketch_src * f * daily(start) / key->rank);
}

/* Key k's sources and targets in the hour at start into src and dst. */
static void
sketch_hour(const struct gen *g, size_t k, int64_t start, struct hll *src,
    struct hll *dst)
{
	uint64_t n = sources_at(g, k, start), res = (n + 1) / 2, j, id;
	uint64_t idx = g->keys[k].idx;

	for (j = 0; j < n; j++) {
		if (j < res)
			id = hash3(g->seed ^ 0xE5, idx, (int64_t)j);
		else
			id = hash3(g->seed ^ 0xF5, idx,
			    start * 65536 + (int64_t)j);
		hll_add(src, mix64((id % SRC_POOL) ^ 0x5EC5EC));
	}
	for (j = 0; j < 2 * n; j++) {
		id = hash3(g->seed ^ 0x7A, idx, start * 131072 + (int64_t)j);
		hll_add(dst, mix64((id % TARGETS) ^ 0xD57D57));
	}
}

struct sketches {
	struct hll **src, **dst; /* per key of g->keys */
	uint8_t *has; /* the key's sketches hold something */
};

/*
 * Attach the sketches of the keys that have some to j, those absent from
 * the hour with an average of 0 (which adds nothing to a sum), and the
 * unions over all keys; detach them after summary_add.
 */
static void
sketch_attach(const struct gen *g, struct sketches *sk, struct rrd_job *j)
{
	uint32_t *idx = xreallocarray(NULL, j->nvalues + 1, sizeof(*idx));
	double *avg = xreallocarray(NULL, j->nvalues + 1, sizeof(*avg));
	size_t k, n = 0, v = 0;

	/* Written in place below, read from copies. */
	memcpy(idx, j->idx, j->nvalues * sizeof(*idx));
	memcpy(avg, j->avg, j->nvalues * sizeof(*avg));
	j->src = xcalloc(g->nkeys, sizeof(*j->src));
	j->dst = xcalloc(g->nkeys, sizeof(*j->dst));
	j->all_src = hll_new(g->sketch_p);
	j->all_dst = hll_new(g->sketch_p);
	/* j's values are ascending idx, as g->keys: merge the two. */
	for (k = 0; k < g->nkeys; k++) {
		int present = v < j->nvalues && idx[v] == g->keys[k].idx;

		if (!present && !sk->has[k])
			continue;
		j->idx[n] = g->keys[k].idx;
		j->avg[n] = present ? avg[v] : 0;
		v += present;
		if (sk->has[k]) {
			j->src[n] = sk->src[k];
			j->dst[n] = sk->dst[k];
			hll_merge(j->all_src, sk->src[k]);
			hll_merge(j->all_dst, sk->dst[k]);
		}
		n++;
	}
	j->nvalues = n;
	free(idx);
	free(avg);
}

static void
sketch_detach(const struct gen *g, struct sketches *sk, struct rrd_job *j)
{
	size_t k;

	free(j->src);
	free(j->dst);
	hll_free(j->all_src);
	hll_free(j->all_dst);
	j->src = j->dst = NULL;
	j->all_src = j->all_dst = NULL;
	for (k = 0; k < g->nkeys; k++)
		if (sk->has[k]) {
			hll_reset(sk->src[k], g->sketch_p);
			hll_reset(sk->dst[k], g->sketch_p);
			sk->has[k] = 0;
		}
}

/*
 * The summary of every interval with sketches: each hour's own in the
 * last SKETCH_HOURLY_DAYS days, before that the day's union on its last
 * hour (see the top of the file).
 */
static void
sketch_summary_pass(const struct gen *g, struct summary *sum, struct rrd_job *j)
{
	int64_t first = g->end - g->nint * g->step, i, t;
	int64_t cut = (g->end - SKETCH_HOURLY_DAYS * 86400) / 86400 * 86400;
	struct sketches sk;
	double t0 = now_mono(), tsum = 0, ts;
	size_t k, v;
	int hourly, last;

	sk.src = xcalloc(g->nkeys, sizeof(*sk.src));
	sk.dst = xcalloc(g->nkeys, sizeof(*sk.dst));
	sk.has = xcalloc(g->nkeys, 1);
	for (k = 0; k < g->nkeys; k++) {
		sk.src[k] = hll_new(g->sketch_p);
		sk.dst[k] = hll_new(g->sketch_p);
	}
	for (i = 0; i < g->nint; i++) {
		t = first + i * g->step;
		job_fill(g, t, i == 0, j);
		hourly = t >= cut;
		last =
		    hourly || (t + g->step) % 86400 == 0 || t + g->step == cut;
		for (k = 0, v = 0; k < g->nkeys && v < j->nvalues; k++) {
			if (j->idx[v] != g->keys[k].idx)
				continue;
			sketch_hour(g, k, t, sk.src[k], sk.dst[k]);
			sk.has[k] = 1;
			v++;
		}
		ts = now_mono();
		if (last)
			sketch_attach(g, &sk, j);
		if (summary_add(sum, j) == -1)
			fatalx("interval %" PRId64 ": summary_add failed",
			    j->start);
		if (last)
			sketch_detach(g, &sk, j);
		tsum += now_mono() - ts;
		if (i % (g->nint / 10 + 1) == 0)
			fprintf(stderr,
			    "bench_site: summary with sketches %" PRId64
			    "%% (%.0f s)\n",
			    100 * i / g->nint, now_mono() - t0);
	}
	for (k = 0; k < g->nkeys; k++) {
		hll_free(sk.src[k]);
		hll_free(sk.dst[k]);
	}
	free(sk.src);
	free(sk.dst);
	free(sk.has);
	printf("summary wall %.3f intervals %" PRId64
	       " summary_add wall %.3f\n",
	    now_mono() - t0, g->nint, tsum);
	fflush(stdout);
}

/* The first interval, the aggregator's way: every file is created. */
static void
first_interval(const struct gen *g, struct rrdw *w, struct summary *sum,
    struct rrd_job *j)
{
	double t = now_mono();
	size_t failed;

	job_fill(g, g->end - g->nint * g->step, 1, j);
	if ((failed = rrdw_write(w, j)) > 0)
		fatalx("first interval: %zu RRD files failed", failed);
	if (summary_add(sum, j) == -1)
		fatalx("first interval: summary_add failed");
	printf("create wall %.3f files %zu\n", now_mono() - t,
	    g->nkeys + 1 + g->nsensors);
	fflush(stdout);
}

static void
summary_pass(const struct gen *g, struct summary *sum, struct rrd_job *j)
{
	int64_t first = g->end - g->nint * g->step, i;
	double t = now_mono();

	for (i = 1; i < g->nint; i++) {
		job_fill(g, first + i * g->step, 0, j);
		if (summary_add(sum, j) == -1)
			fatalx("interval %" PRId64 ": summary_add failed",
			    j->start);
		if (i % (g->nint / 10 + 1) == 0)
			fprintf(stderr,
			    "bench_site: summary %" PRId64 "%% (%.0f s)\n",
			    100 * i / g->nint, now_mono() - t);
	}
	printf("summary wall %.3f intervals %" PRId64 "\n", now_mono() - t,
	    g->nint);
	fflush(stdout);
}

/* Every series must end at g->end, or the batches lost something. */
static size_t
check_last(const struct gen *g)
{
	size_t s, bad = 0;
	char path[4096];
	time_t last;

	for (s = 0; s < g->nkeys + 1 + g->nsensors; s++) {
		series_path(g, s, path, sizeof(path));
		rrd_clear_error();
		if ((last = rrd_last_r(path)) != (time_t)g->end) {
			if (bad++ == 0)
				log_warnx("%s: last update %lld, want %" PRId64
					  " %s",
				    path, (long long)last, g->end,
				    last == -1 ? rrd_get_error() : "");
		}
	}
	return bad;
}

static int
generate(const struct gen *g, unsigned nthreads)
{
	struct worker *wk = xcalloc(nthreads, sizeof(*wk));
	pthread_t *th = xcalloc(nthreads, sizeof(*th));
	struct rrd_job *j = job_new(g);
	struct summary *sum;
	struct rrdw *w;
	char err[512];
	size_t failed = 0, bad;
	double t0 = now_mono(), t, rrd = 0;
	unsigned i;

	if (datadir_last_final(g->datadir) != INT64_MIN)
		fatalx("%s already holds data (last_final)", g->datadir);
	if (g->summary_only) {
		if ((sum = summary_open(g->datadir, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		write_step(g);
		if (g->sketches)
			sketch_summary_pass(g, sum, j);
		else {
			job_fill(g, g->end - g->nint * g->step, 1, j);
			if (summary_add(sum, j) == -1)
				fatalx("first interval: summary_add failed");
			summary_pass(g, sum, j);
		}
		failed =
		    datadir_save_last_final(g->datadir, g->end - g->step) == -1;
		printf("generate wall %.3f\n", now_mono() - t0);
		summary_free(sum);
		rrd_job_free(j);
		free(wk);
		free(th);
		return failed > 0;
	}
	if ((w = rrdw_new(g->datadir, g->step, NULL, err, sizeof(err))) ==
		NULL ||
	    (sum = summary_open(g->datadir, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	write_step(g);
	first_interval(g, w, sum, j);
	t = now_mono();
	if (g->sketches)
		fatalx("--sketches needs --summary-only");
	for (i = 0; i < nthreads; i++) {
		wk[i].g = g;
		wk[i].id = i;
		wk[i].nthreads = nthreads;
		if ((errno = pthread_create(&th[i], NULL, worker_main,
			 &wk[i])) != 0)
			fatal("pthread_create");
	}
	summary_pass(g, sum, j);
	for (i = 0; i < nthreads; i++) {
		if ((errno = pthread_join(th[i], NULL)) != 0)
			fatal("pthread_join");
		failed += wk[i].failed;
		rrd = wk[i].wall > rrd ? wk[i].wall : rrd;
	}
	printf("rrd wall %.3f threads %u failed %zu\n", rrd, nthreads, failed);
	printf("passes wall %.3f\n", now_mono() - t);
	t = now_mono();
	bad = check_last(g);
	printf("check wall %.3f bad %zu\n", now_mono() - t, bad);
	if (failed == 0 && bad == 0 &&
	    datadir_save_last_final(g->datadir, g->end - g->step) == -1)
		failed++;
	printf("generate wall %.3f\n", now_mono() - t0);
	rrdw_free(w);
	summary_free(sum);
	rrd_job_free(j);
	free(wk);
	free(th);
	return failed > 0 || bad > 0;
}

/* One more final interval, as the aggregator's RRD thread writes it. */
static int
append(const struct gen *g)
{
	struct rrd_job *j = job_new(g);
	struct summary *sum;
	struct rrdw *w;
	char err[512];
	int64_t last = datadir_last_final(g->datadir);
	size_t failed;
	double t, trrd;
	int rc = 0;

	if (last == INT64_MIN)
		fatalx("%s: no last_final: generate it first", g->datadir);
	if ((w = rrdw_new(g->datadir, g->step, NULL, err, sizeof(err))) ==
		NULL ||
	    (sum = summary_open(g->datadir, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	job_fill(g, last + g->step, 0, j);
	t = now_mono();
	if ((failed = rrdw_write(w, j)) > 0) {
		log_warnx("interval %" PRId64 ": %zu RRD files failed",
		    j->start, failed);
		rc = 1;
	}
	trrd = now_mono() - t;
	t = now_mono();
	if (summary_add(sum, j) == -1 ||
	    datadir_save_last_final(g->datadir, j->start) == -1)
		rc = 1;
	printf("append %" PRId64 " rrdw wall %.3f summary wall %.3f keys %zu\n",
	    j->start, trrd, now_mono() - t, j->nvalues);
	rrdw_free(w);
	summary_free(sum);
	rrd_job_free(j);
	return rc;
}

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_site -d DATADIR [--append] [--keys N] [--days D] "
	    "[--sensors S]\n"
	    "                  [--step S] [--end T] [--seed X] "
	    "[--threads T]\n"
	    "                  [--summary-only [--sketches [--sketch-p P] "
	    "[--sketch-src S]]]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"datadir", required_argument, NULL, 'd'},
	    {"append", no_argument, NULL, 'a'},
	    {"keys", required_argument, NULL, 'k'},
	    {"days", required_argument, NULL, 'D'},
	    {"sensors", required_argument, NULL, 'S'},
	    {"step", required_argument, NULL, 's'},
	    {"end", required_argument, NULL, 'e'},
	    {"seed", required_argument, NULL, 'x'},
	    {"threads", required_argument, NULL, 't'},
	    {"summary-only", no_argument, NULL, 'O'},
	    {"sketches", no_argument, NULL, 'K'},
	    {"sketch-p", required_argument, NULL, 'P'},
	    {"sketch-src", required_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	struct gen g;
	long long days = 365, threads = 2;
	char label[32];
	int ch, app = 0;
	size_t k;

	memset(&g, 0, sizeof(g));
	g.nkeys = 20000;
	g.nsensors = 100;
	g.step = 3600;
	g.end = 1795982400; /* 2026-11-29 20:00 UTC */
	g.seed = 1;
	g.sketch_p = HLL_P_DEFAULT;
	g.sketch_src = 20000;
	while ((ch = getopt_long(argc, argv, "d:", opts, NULL)) != -1)
		switch (ch) {
		case 'd':
			g.datadir = optarg;
			break;
		case 'a':
			app = 1;
			break;
		case 'k':
			g.nkeys = (size_t)num("--keys", optarg, NHOT, 100000);
			break;
		case 'D':
			days = num("--days", optarg, 1, 3650);
			break;
		case 'S':
			g.nsensors = (uint32_t)num("--sensors", optarg, 1, 999);
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
		case 't':
			threads = num("--threads", optarg, 1, 64);
			break;
		case 'O':
			g.summary_only = 1;
			break;
		case 'K':
			g.sketches = 1;
			break;
		case 'P':
			g.sketch_p = (unsigned)num("--sketch-p", optarg,
			    HLL_P_MIN, HLL_P_MAX);
			break;
		case 'R':
			g.sketch_src =
			    (double)num("--sketch-src", optarg, 0, 10000000);
			break;
		default:
			usage();
		}
	if (g.datadir == NULL || optind != argc ||
	    (g.sketches && (!g.summary_only || app)))
		usage();
	if (86400 % g.step != 0 || g.end % g.step != 0) {
		fprintf(stderr,
		    "bench_site: --step must divide a day and "
		    "--end\n");
		return 1;
	}
	log_init("bench_site", 1, 0);
	g.nint = days * 86400 / g.step;
	gen_keys(&g);
	for (k = 0; k < g.nkeys && g.keys[k].rank != 1; k++)
		;
	key_label(g.keys[k].idx, label, sizeof(label));
	printf("hottest %s\n", label);
	fflush(stdout);
	ch = app ? append(&g) : generate(&g, (unsigned)threads);
	free(g.keys);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "bench_site: standard output: %s\n",
		    strerror(errno));
		return 1;
	}
	return ch;
}

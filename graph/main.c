/*
 * teiten-graph: rankings, PNG graphs and the static site from the
 * aggregator's data directory.
 *
 *   teiten-graph top  -d DATADIR --window W | --period P | --start S --end E
 *                     [-n N] [--json]
 *   teiten-graph png  -d DATADIR --window W | --period P --key tcp/5168
 *                     [--end E] [--legend [--json]] -o FILE
 *   teiten-graph series -d DATADIR --window W | --period P --key tcp/5168
 *                     [--end E] [--csv | --json]
 *   teiten-graph site -d DATADIR -o DIR [--end E]
 *
 * Dates are read and written in --tz, else in DATADIR's zone (the one its
 * daily summaries are cut at), else UTC.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "datadir.h"
#include "events.h"
#include "graph.h"
#include "interval.h"
#include "keyidx.h"
#include "keyname.h"
#include "log.h"
#include "optdoc.h"
#include "parse.h"
#include "period.h"
#include "record.h"
#include "site.h"
#include "span.h"
#include "window.h"
#include "xmalloc.h"
#include "textout.h"
#include "topkeys.h"
#include "zone.h"

#define DATADIR_DEFAULT "/var/lib/teiten"
#define WATCH_MAX 64
#define GROUP_MAX 32
#define GROUP_IDS_MAX 1024

struct gconf {
	const char *cmd, *out, *key, *tz, *period, *top;
	int sensors, legend;
	char *datadir, *events; /* from -c, or the command line */
	uint32_t watch[WATCH_MAX];
	size_t nwatch;
	int fy_month;
	int window; /* enum span_kind, or -1 */
	int64_t start, end;
	int has_start, has_end, json, csv;
	int by_sources; /* top --by sources */
	uint64_t n;
	struct site_group groups[GROUP_MAX]; /* [graph] group, for site */
	size_t ngroups;
	char **group_lines; /* the names and ids point into these */
	size_t nlines;
};

enum {
	OPT_WINDOW = 256,
	OPT_START,
	OPT_END,
	OPT_JSON,
	OPT_KEY,
	OPT_TZ,
	OPT_PERIOD,
	OPT_FY,
	OPT_CSV,
	OPT_EVENTS,
	OPT_TOP,
	OPT_SENSORS,
	OPT_WATCH,
	OPT_LEGEND,
	OPT_BY
};

/* The commands, as bits of struct optdoc's cmds. */
#define C_TOP 1u
#define C_PNG 2u
#define C_SERIES 4u
#define C_SITE 8u

/* The one list of options: getopt's tables and --help come from it. */
static const struct optdoc opts[] = {
    {"by", required_argument, OPT_BY, "packets|sources",
	"rank by packets (default) or distinct sources", C_TOP},
    {"config", required_argument, 'c', "file",
	"read the [graph] section of file", 0},
    {"csv", no_argument, OPT_CSV, NULL, "write comma-separated values",
	C_SERIES},
    {"datadir", required_argument, 'd', "datadir",
	"data directory (default /var/lib/teiten)", 0},
    {"end", required_argument, OPT_END, "time",
	"end of the window or range, a Unix time", 0},
    {"events", required_argument, OPT_EVENTS, "file",
	"mark the events listed in this file", 0},
    {"fiscal-start", required_argument, OPT_FY, "month",
	"fiscal year's first month, 1-12 (default 4)", 0},
    {"help", no_argument, 'h', NULL, "print this help and exit", 0},
    {"json", no_argument, OPT_JSON, NULL, "write JSON",
	C_TOP | C_PNG | C_SERIES},
    {"key", required_argument, OPT_KEY, "proto/key",
	"the key to draw, like tcp/445", C_PNG | C_SERIES},
    {"legend", no_argument, OPT_LEGEND, NULL,
	"also print the legend's averages and maximums", C_PNG},
    {NULL, required_argument, 'n', "count",
	"how many keys to rank (default 10)", C_TOP},
    {"output", required_argument, 'o', "file|dir",
	"the PNG file, or the site's directory", C_PNG | C_SITE},
    {"period", required_argument, OPT_PERIOD, "period",
	"year, quarter, fiscal year, month, day or range",
	C_TOP | C_PNG | C_SERIES},
    {"sensors", no_argument, OPT_SENSORS, NULL,
	"draw the number of sensors reporting", C_PNG},
    {"start", required_argument, OPT_START, "time",
	"start of the range, a Unix time", C_TOP},
    {"top", required_argument, OPT_TOP, "1-5|6-10|icmp",
	"draw these keys of the ranking", C_PNG},
    {"tz", required_argument, OPT_TZ, "zone",
	"zone of the dates (default: the data's)", 0},
    {"version", no_argument, 'V', NULL, "print the version and exit", 0},
    {"watch", required_argument, OPT_WATCH, "keys",
	"keys that always get a page, like tcp/2967", C_SITE},
    {"window", required_argument, OPT_WINDOW, "day|week|month|quarter|year",
	"the window that ends at --end", C_TOP | C_PNG | C_SERIES},
    OPTDOC_END,
};
static struct option long_opts[sizeof(opts) / sizeof(opts[0])];
static char short_opts[2 * sizeof(opts) / sizeof(opts[0]) + 1];

static const char *
cf_fiscal_start(void *a, const char *v)
{
	uint64_t m;

	if (parse_u64(v, 1, 12, &m) == -1)
		return "a month, 1 to 12";
	((struct gconf *)a)->fy_month = (int)m;
	return NULL;
}

/* "tcp/2967 tcp/5900, icmp/8": the keys that always get a page. */
static const char *
cf_watch(void *a, const char *v)
{
	struct gconf *c = a;
	char buf[CONFIG_MAX_LINE + 1], *w, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", v);
	c->nwatch = 0;
	for (w = strtok_r(buf, " ,\t", &save); w != NULL;
	     w = strtok_r(NULL, " ,\t", &save)) {
		if (c->nwatch == WATCH_MAX)
			return "more than 64 keys";
		if (key_parse(w, &c->watch[c->nwatch++]) == -1)
			return "keys like tcp/2967, separated by spaces";
	}
	return NULL;
}

/*
 * "domestic s1 s2 s3": a group of sensors compared on the site's
 * groups.html.  A name given again adds its ids (the lines are short).
 * What it holds lives as long as the program.
 */
static const char *
cf_group(void *a, const char *v)
{
	struct gconf *c = a;
	struct site_group *g;
	const char **ids;
	char *buf, *w, *name, *save = NULL;
	size_t i;

	buf = xstrdup(v);
	c->group_lines = xreallocarray(c->group_lines, c->nlines + 1,
	    sizeof(*c->group_lines));
	c->group_lines[c->nlines++] = buf;
	name = strtok_r(buf, " ,\t", &save);
	if (name == NULL || !record_valid_id(name))
		return "a name (1 to 64 of A-Za-z0-9._-), then sensor ids";
	for (i = 0; i < c->ngroups && strcmp(c->groups[i].name, name) != 0; i++)
		;
	if (i == GROUP_MAX)
		return "more than 32 groups";
	g = &c->groups[i];
	if (i == c->ngroups) {
		c->ngroups++;
		g->name = name;
		g->ids = xcalloc(GROUP_IDS_MAX, sizeof(*g->ids));
		g->nids = 0;
	}
	ids = (const char **)(uintptr_t)g->ids;
	while ((w = strtok_r(NULL, " ,\t", &save)) != NULL) {
		if (!record_valid_id(w))
			return "sensor ids are 1 to 64 of A-Za-z0-9._-";
		if (g->nids == GROUP_IDS_MAX)
			return "more than 1024 sensors in a group";
		ids[g->nids++] = w;
	}
	if (g->nids == 0)
		return "a group needs sensor ids after its name";
	return NULL;
}

static void
gconf_free_groups(struct gconf *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		free((void *)(uintptr_t)c->groups[i].ids);
	for (i = 0; i < c->nlines; i++)
		free(c->group_lines[i]);
	free(c->group_lines);
	c->ngroups = c->nlines = 0;
}

CONFIG_STRING(datadir, struct gconf, datadir)
CONFIG_STRING(events, struct gconf, events)

/* The [graph] section of teiten.conf; the others are the daemons'. */
static const struct config_key conf_keys[] = {
    {"graph", "datadir", cf_datadir},
    {"graph", "events", cf_events},
    {"graph", "fiscal_start", cf_fiscal_start},
    {"graph", "group", cf_group},
    {"graph", "watch", cf_watch},
    {"sensor", "*", NULL},
    {"aggregator", "*", NULL},
    {NULL, NULL, NULL},
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: teiten-graph top [-d datadir] [--tz zone] (--window "
	    "day|week|month|quarter|year [--end time] |\n"
	    "                        --period period [--fiscal-start month] "
	    "|\n"
	    "                        --start time --end time) [-n count] "
	    "[--json]\n"
	    "       teiten-graph png [-d datadir] [--tz zone] (--window "
	    "window [--end time] |\n"
	    "                        --period period [--fiscal-start month])\n"
	    "                        (--key proto/key | --top 1-5|6-10|icmp "
	    "| --sensors) [--legend [--json]]\n"
	    "                        -o file.png\n"
	    "       teiten-graph series [-d datadir] [--tz zone] (--window "
	    "window [--end time] |\n"
	    "                        --period period [--fiscal-start month]) "
	    "--key proto/key [--csv | --json]\n"
	    "       teiten-graph site [-d datadir] [--tz zone] [--end time] "
	    "[--fiscal-start month] -o dir\n"
	    "       teiten-graph -h | -V\n"
	    "every command also takes -c config and --events file; site "
	    "takes --watch keys\n"
	    "period: 2008, 2008-03, 2008Q1, FY2007, 2008-03-31 or "
	    "2006-11-01..2008-03-31\n");
}

/* Options given, as bits. */
enum {
	O_N = 1 << 0,
	O_OUT = 1 << 1,
	O_WINDOW = 1 << 2,
	O_START = 1 << 3,
	O_END = 1 << 4,
	O_JSON = 1 << 5,
	O_KEY = 1 << 6,
	O_TZ = 1 << 7,
	O_PERIOD = 1 << 8,
	O_FY = 1 << 9,
	O_CSV = 1 << 10,
	O_TOP = 1 << 11,
	O_SENSORS = 1 << 12,
	O_LEGEND = 1 << 13,
};

static const struct {
	const char *name;
	unsigned bit;
} commands[] = {
    {"top", C_TOP},
    {"png", C_PNG},
    {"site", C_SITE},
    {"series", C_SERIES},
};

static int64_t
parse_time(const char *opt, const char *v)
{
	uint64_t t;

	if (parse_u64(v, 0, (uint64_t)1 << 40, &t) == -1)
		errx(1, "option %s: \"%s\" is not a Unix time", opt, v);
	return (int64_t)t;
}

static void
options(struct gconf *c, int argc, char **argv)
{
	const struct optdoc *o;
	unsigned given = 0, cmd;
	const char *config, *why_c;
	char why[512], name[32];
	uint64_t v;
	int ch;

	optdoc_getopt(opts, long_opts, sizeof(long_opts) / sizeof(long_opts[0]),
	    short_opts, sizeof(short_opts));
	memset(c, 0, sizeof(*c));
	c->window = -1;
	c->n = 10;
	c->fy_month = PERIOD_FY_MONTH;
	if (argc >= 2 &&
	    (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("teiten-graph %s\n", TEITEN_VERSION);
		exit(0);
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		optdoc_print(stdout, opts, ~0u);
		exit(0);
	}
	if (argc < 2 || argv[1][0] == '-') {
		usage(stderr);
		exit(1);
	}
	for (cmd = 0; cmd < sizeof(commands) / sizeof(commands[0]); cmd++)
		if (strcmp(argv[1], commands[cmd].name) == 0)
			break;
	if (cmd == sizeof(commands) / sizeof(commands[0])) {
		warnx("unknown command \"%s\"", argv[1]);
		usage(stderr);
		exit(1);
	}
	c->cmd = argv[1];
	/* getopt names argv[0] in its messages: the program, not "top". */
	argv[1] = (char *)"teiten-graph";
	argv++;
	argc--;
	config = config_option(argc, argv, short_opts, long_opts, 'c');
	if (config != NULL &&
	    config_load(config, conf_keys, c, why, sizeof(why)) == -1)
		errx(1, "%s", why);
	while (
	    (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if ((o = optdoc_find(opts, ch)) != NULL &&
		    !optdoc_takes(o, commands[cmd].bit))
			errx(1, "option %s does not apply to %s",
			    optdoc_name(o, name, sizeof(name)), c->cmd);
		switch (ch) {
		case 'c':
			break;
		case 'd':
			config_replace(&c->datadir, optarg);
			break;
		case OPT_EVENTS:
			config_replace(&c->events, optarg);
			break;
		case OPT_WATCH:
			if ((why_c = cf_watch(c, optarg)) != NULL)
				errx(1, "option --watch: %s", why_c);
			break;
		case 'h':
			usage(stdout);
			optdoc_print(stdout, opts, commands[cmd].bit);
			exit(0);
		case 'n':
			if (parse_u64(optarg, 1, 100000, &c->n) == -1)
				errx(1, "option -n: must be 1 to 100000");
			given |= O_N;
			break;
		case 'o':
			c->out = optarg;
			given |= O_OUT;
			break;
		case 'V':
			printf("teiten-graph %s\n", TEITEN_VERSION);
			exit(0);
		case OPT_WINDOW:
			if ((c->window = span_from_name(optarg)) == -1)
				errx(1,
				    "option --window: use day, week, month, "
				    "quarter or year");
			given |= O_WINDOW;
			break;
		case OPT_START:
			c->start = parse_time("--start", optarg);
			c->has_start = 1;
			given |= O_START;
			break;
		case OPT_END:
			c->end = parse_time("--end", optarg);
			c->has_end = 1;
			given |= O_END;
			break;
		case OPT_JSON:
			c->json = 1;
			given |= O_JSON;
			break;
		case OPT_KEY:
			c->key = optarg;
			given |= O_KEY;
			break;
		case OPT_TOP:
			if (window_graph_find(optarg) == NULL)
				errx(1, "option --top: use 1-5, 6-10 or icmp");
			c->top = optarg;
			given |= O_TOP;
			break;
		case OPT_SENSORS:
			c->sensors = 1;
			given |= O_SENSORS;
			break;
		case OPT_LEGEND:
			c->legend = 1;
			given |= O_LEGEND;
			break;
		case OPT_BY:
			if (strcmp(optarg, "sources") != 0 &&
			    strcmp(optarg, "packets") != 0)
				errx(1, "option --by: use packets or sources");
			c->by_sources = strcmp(optarg, "sources") == 0;
			break;
		case OPT_CSV:
			c->csv = 1;
			given |= O_CSV;
			break;
		case OPT_TZ:
			c->tz = optarg;
			given |= O_TZ;
			break;
		case OPT_PERIOD:
			c->period = optarg;
			given |= O_PERIOD;
			break;
		case OPT_FY:
			if (parse_u64(optarg, 1, 12, &v) == -1)
				errx(1,
				    "option --fiscal-start: a month, 1 "
				    "to 12");
			c->fy_month = (int)v;
			given |= O_FY;
			break;
		default:
			usage(stderr);
			exit(1);
		}
	}
	if (optind < argc)
		errx(1, "unexpected argument \"%s\"", argv[optind]);
	if (c->datadir == NULL)
		c->datadir = xstrdup(DATADIR_DEFAULT);
	if ((given & O_WINDOW) && (given & O_START))
		errx(1, "option --start: give it or --window, not both");
	if ((given & O_PERIOD) && (given & (O_WINDOW | O_START | O_END)))
		errx(1,
		    "option --period: give it or --window, --start and "
		    "--end, not both");
	if (((given & O_KEY) != 0) + ((given & O_TOP) != 0) +
		((given & O_SENSORS) != 0) >
	    1)
		errx(1, "options --key, --top and --sensors: give one");
	if ((given & O_CSV) && (given & O_JSON))
		errx(1, "option --csv: give it or --json, not both");
	if ((given & O_FY) && !(given & O_PERIOD) &&
	    strcmp(c->cmd, "site") != 0)
		errx(1, "option --fiscal-start applies to --period");
	if ((given & O_LEGEND) && (given & O_SENSORS))
		errx(1, "option --legend applies to --key and --top");
	if (strcmp(c->cmd, "png") == 0 && (given & O_JSON) &&
	    !(given & O_LEGEND))
		errx(1, "option --json: png takes it with --legend");
}

/* Without --end: the end of the newest interval in the RRDs. */
static int64_t
default_end(const struct gconf *c, uint32_t step)
{
	int64_t last = datadir_last_final(c->datadir);
	char path[DATADIR_PATH_MAX];

	datadir_marker_path(c->datadir, DATADIR_LAST_FINAL, path, sizeof(path));
	if (last == INT64_MIN && access(path, F_OK) == -1)
		errx(1, "%s: no final interval yet (no %s)", c->datadir, path);
	/* Damaged, it would make windows no graph or table can show. */
	if (last < 0 || last >= INTERVAL_SEC_LIMIT)
		errx(1, "%s: not a Unix time (damaged?)", path);
	return last + step;
}

/* The RRD step, from the file the aggregator writes. */
static uint32_t
data_step(const struct gconf *c)
{
	char path[DATADIR_PATH_MAX];
	uint32_t step;

	datadir_marker_path(c->datadir, DATADIR_STEP, path, sizeof(path));
	if (datadir_step(c->datadir, &step) == -1) {
		if (errno == EINVAL)
			errx(1, "%s: not a step in seconds", path);
		err(1, "%s", path);
	}
	return step;
}

/*
 * --tz, else the zone DATADIR's daily summaries are cut at: rankings over
 * whole days are then exact, and dates read as the operator set them.
 */
static void
use_zone(const struct gconf *c)
{
	char zone[ZONE_NAME_MAX], why[256];
	const char *name = c->tz;

	if (name == NULL) {
		if (datadir_zone(c->datadir, zone, sizeof(zone)) == -1) {
			if (errno == EINVAL)
				errx(1, "%s/timezone: not a time zone name",
				    c->datadir);
			err(1, "%s/timezone", c->datadir);
		}
		name = zone;
	}
	if (zone_use(name, why, sizeof(why)) == -1)
		errx(1, "%s%s", c->tz != NULL ? "option --tz: " : "", why);
}

/*
 * The period's bounds in the zone in use.  One that runs past the newest
 * final interval (newest, its end) is drawn and ranked up to it, and *cut
 * says so; its ranking is the same either way, as later buckets are empty.
 */
static void
period_window(const struct gconf *c, int64_t newest, struct span *s, char *name,
    size_t namelen, int *cut)
{
	struct period p;
	char why[256];

	if (period_parse(c->period, c->fy_month, &p, why, sizeof(why)) == -1)
		errx(1, "option --period: %s", why);
	period_name(&p, name, namelen);
	memset(s, 0, sizeof(*s));
	s->kind = p.kind == PERIOD_DAY ? SPAN_DAY : SPAN_YEAR;
	s->name = name;
	s->unit = p.kind == PERIOD_DAY ? 60 : 3600;
	period_bounds(&p, &s->start, &s->end);
	*cut = s->end > newest;
	if (s->start >= newest)
		errx(1, "period %s (%s) starts after the newest final interval",
		    name, zone_name());
}

static void
print_top(const struct gconf *c, const struct window *w)
{
	char label[32], src[24], dst[24];
	size_t i, r, n = w->n < c->n ? w->n : c->n;
	size_t *order = c->by_sources ? window_by_sources(w) : NULL;

	if (c->json)
		fputs("[", stdout);
	for (r = 0; r < n; r++) {
		i = order != NULL ? order[r] : r;
		key_label(w->idx[i], label, sizeof(label));
		if (!isfinite(w->mean[i]) || !isfinite(window_share(w, i)))
			errx(1,
			    "%s: %s has no finite mean (a bug: please "
			    "report it)",
			    c->datadir, label);
		if (c->json) {
			fputs(r ? ",\n  {" : "\n  {", stdout);
			(void)top_json_fields(stdout, w, i, r + 1);
			fputs("}", stdout);
		} else
			printf("%3zu  %-12s %-20s %14.4f %6.2f%% %9s %9s\n",
			    r + 1, label, key_service(w->idx[i]), w->mean[i],
			    100 * window_share(w, i),
			    count_text(w->sources, i, src, sizeof(src)),
			    count_text(w->targets, i, dst, sizeof(dst)));
	}
	if (c->json)
		puts(n ? "\n]" : "]");
	free(order);
}

static int
cmd_top(const struct gconf *c)
{
	struct window w;
	struct span s;
	char why[512], pname[PERIOD_NAME_MAX] = "", from[40], to[40];
	char upto[40], src[24], dst[24];
	uint32_t step = data_step(c);
	int cut = 0;

	if (c->period != NULL)
		period_window(c, default_end(c, step), &s, pname, sizeof(pname),
		    &cut);
	else if (c->window >= 0)
		span_make(c->window, c->has_end ? c->end : default_end(c, step),
		    &s);
	else if (c->has_start && c->has_end) {
		s.start = c->start;
		s.end = c->end;
	} else
		errx(1, "top: give --window, --period, or --start and --end");
	if (summary_window(c->datadir, s.start, s.end, &w, why, sizeof(why)) ==
		-1 ||
	    window_sketches(c->datadir, &w, why, sizeof(why)) == -1)
		errx(1, "%s: %s", c->datadir, why);
	if (c->by_sources && w.nsketched == 0)
		errx(1,
		    "%s: no distinct sources in this window (no sensor sent "
		    "sketches: see sketch_key_file)",
		    c->datadir);
	if (!c->json) {
		zone_iso(s.start, from, sizeof(from));
		zone_iso(s.end, to, sizeof(to));
		printf("# %s%s%s to %s (%s): %" PRIu64
		       " intervals, %.2f sensors reporting on average\n",
		    pname, *pname ? ", " : "", from, to, zone_name(),
		    w.nintervals, w.sensors);
		if (cut) {
			zone_iso(default_end(c, step), upto, sizeof(upto));
			printf("# the period is not over: data up to %s\n",
			    upto);
		}
		if (w.nsketched > 0)
			printf("# distinct sources from %" PRIu64
			       " of the intervals: %s sources, %s targets "
			       "in all\n",
			    w.nsketched,
			    number_text(w.all_sources, src, sizeof(src)),
			    number_text(w.all_targets, dst, sizeof(dst)));
		printf("# rank key          service               avg/sensor/"
		       "interval  share   sources   targets\n");
	}
	print_top(c, &w);
	window_free(&w);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "standard output");
	return 0;
}

/*
 * png --top: the graph's keys, ranked over the whole period or window;
 * png --key: the key.  mean[i]: each one's exact mean for the legend,
 * NaN where the summaries cannot answer the span (the legend then
 * averages the rows drawn).  Later buckets of a period under way are
 * empty, so its mean so far is its mean over the whole period.
 */
static size_t
png_keys(const struct gconf *c, const struct span *s, uint32_t *idx,
    double *mean)
{
	const struct window_graph *g =
	    c->top != NULL ? window_graph_find(c->top) : NULL;
	struct window w;
	char why[512];
	size_t i, n = 1;
	int ok;

	ok = summary_window(c->datadir, s->start, s->end, &w, why,
		 sizeof(why)) == 0;
	if (!ok && g != NULL)
		errx(1, "%s: %s", c->datadir, why);
	if (g != NULL)
		n = pick_keys(&w, g->port, g->first, idx);
	for (i = 0; i < n; i++)
		mean[i] = ok ? window_mean(&w, idx[i]) : NAN;
	if (ok)
		window_free(&w);
	return n;
}

/* A legend figure: JSON null where the graph has no known row. */
static void
legend_number(double v)
{
	if (!isfinite(v) || out_number(stdout, v) == -1)
		fputs("null", stdout);
}

/*
 * png --legend: each key line's average and maximum as the PNG's legend
 * draws them, in the y axis's unit; with --json at full precision too.
 */
static void
legend_print(const struct gconf *c, const struct span *s, const char *pname,
    const struct legend_line *ln, size_t n)
{
	const char *unit = s->unit == 60 ? "minute" : "hour";
	char label[32], from[40], to[40];
	size_t i;

	zone_iso(s->start, from, sizeof(from));
	zone_iso(s->end, to, sizeof(to));
	if (c->json) {
		printf("{\"period\": ");
		json_text(stdout, pname);
		printf(", \"zone\": ");
		json_text(stdout, zone_name());
		printf(", \"start\": \"%s\", \"end\": \"%s\",\n \"unit\": "
		       "\"packets per sensor per %s\", \"keys\": [",
		    from, to, unit);
	} else
		printf("# %s%s%s to %s (%s), packets per sensor per %s\n"
		       "# key          service              %10s %10s\n",
		    pname, *pname ? ", " : "", from, to, zone_name(), unit,
		    "average", "maximum");
	for (i = 0; i < n; i++) {
		key_label(ln[i].idx, label, sizeof(label));
		if (!c->json) {
			printf("%-12s %-20s %10s %10s\n", label,
			    key_service(ln[i].idx),
			    ln[i].seen ? ln[i].avg_text : "never seen",
			    ln[i].seen ? ln[i].max_text : "");
			continue;
		}
		printf("%s\n  {\"key\": \"%s\", \"service\": ", i ? "," : "",
		    label);
		json_text(stdout, key_service(ln[i].idx));
		printf(", \"seen\": %s, \"avg\": ",
		    ln[i].seen ? "true" : "false");
		legend_number(ln[i].avg);
		fputs(", \"max\": ", stdout);
		legend_number(ln[i].max);
		fputs(", \"avg_text\": ", stdout);
		json_text(stdout, ln[i].avg_text);
		fputs(", \"max_text\": ", stdout);
		json_text(stdout, ln[i].max_text);
		fputs("}", stdout);
	}
	if (c->json)
		puts(n ? "\n]}" : "]}");
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "standard output");
}

static int
cmd_png(const struct gconf *c)
{
	uint32_t step = data_step(c), idx[GRAPH_KEYS];
	struct legend_line ln[GRAPH_KEYS];
	double mean[GRAPH_KEYS];
	char why[512], title[128] = "", pname[PERIOD_NAME_MAX] = "";
	struct span s;
	int64_t newest = 0;
	size_t n = 1;
	int cut = 0, rc;

	if ((c->window < 0 && c->period == NULL) || c->out == NULL ||
	    (c->key == NULL && c->top == NULL && !c->sensors))
		errx(1,
		    "png: give --window or --period, --key, --top or "
		    "--sensors, and -o");
	if (c->key != NULL && key_parse(c->key, &idx[0]) == -1)
		errx(1, "option --key: \"%s\" is not like tcp/445", c->key);
	if (c->period != NULL) {
		newest = default_end(c, step);
		period_window(c, newest, &s, pname, sizeof(pname), &cut);
	} else
		span_make(c->window, c->has_end ? c->end : default_end(c, step),
		    &s);
	if (!c->sensors)
		n = png_keys(c, &s, idx, mean);
	if (c->top != NULL)
		snprintf(title, sizeof(title), "%s",
		    window_graph_find(c->top)->title);
	else if (c->key != NULL)
		key_title(idx[0], title, sizeof(title));
	if (*pname != '\0')
		snprintf(title + strlen(title), sizeof(title) - strlen(title),
		    ", %s%s", pname, cut ? " so far" : "");
	/* A period under way is drawn up to its newest data. */
	if (cut)
		s.end = newest;
	if (c->sensors)
		rc = graph_sensors(c->datadir, step, &s, c->out, why,
		    sizeof(why));
	else
		rc = graph_keys_mean(c->datadir, step, &s, idx, NULL, mean, n,
		    title, c->out, c->legend ? ln : NULL, why, sizeof(why));
	if (rc == -1)
		errx(1, "%s", why); /* names the file */
	if (c->legend)
		legend_print(c, &s, *pname ? pname : span_name(c->window), ln,
		    n);
	return 0;
}

/* A NaN (unknown) as JSON null or an empty CSV field. */
static void
series_value(double v, int json)
{
	if (isnan(v))
		fputs(json ? "null" : "", stdout);
	else
		(void)out_number(stdout, v);
}

static void
series_print(const struct gconf *c, const struct series *sr, uint32_t idx,
    const struct span *s, const char *pname)
{
	char label[32], when[40], from[40], to[40];
	size_t i;

	key_label(idx, label, sizeof(label));
	zone_iso(s->start, from, sizeof(from));
	zone_iso(s->end, to, sizeof(to));
	if (c->json) {
		printf("{\"key\": \"%s\", \"period\": ", label);
		json_text(stdout, pname);
		printf(", \"zone\": ");
		json_text(stdout, zone_name());
		printf(", \"start\": \"%s\", \"end\": \"%s\", "
		       "\"row_seconds\": %u,\n \"unit\": \"packets per "
		       "sensor per interval\", \"rows\": [",
		    from, to, sr->step);
	} else if (c->csv)
		puts("time,packets_per_sensor_per_interval,sensors");
	else
		printf("# %s %s, %s%s%s to %s (%s), rows of %u s\n"
		       "# time                      packets/sensor/interval  "
		       "sensors\n",
		    label, key_service(idx), pname, *pname ? ", " : "", from,
		    to, zone_name(), sr->step);
	for (i = 0; i < sr->n; i++) {
		zone_iso(sr->t[i], when, sizeof(when));
		if (c->json || c->csv) {
			printf(c->json ? "%s\n  {\"time\": \"%s\", \"avg\": "
				       : "%s%s,",
			    c->json ? (i ? "," : "") : "", when);
			series_value(sr->avg[i], c->json);
			fputs(c->json ? ", \"sensors\": " : ",", stdout);
			series_value(sr->sensors[i], c->json);
			puts(c->json ? "}" : "");
		} else
			printf("%s  %22.6f  %7.2f\n", when, sr->avg[i],
			    sr->sensors[i]);
	}
	if (c->json)
		puts("]}");
}

static int
cmd_series(const struct gconf *c)
{
	uint32_t step = data_step(c), idx;
	char why[512], pname[PERIOD_NAME_MAX] = "";
	struct series sr;
	struct span s;
	int64_t newest;
	int cut;

	if ((c->window < 0 && c->period == NULL) || c->key == NULL)
		errx(1, "series: give --window or --period, and --key");
	if (key_parse(c->key, &idx) == -1)
		errx(1, "option --key: \"%s\" is not like tcp/445", c->key);
	if (c->period != NULL) {
		newest = default_end(c, step);
		period_window(c, newest, &s, pname, sizeof(pname), &cut);
		if (cut)
			s.end = newest;
	} else {
		span_make(c->window, c->has_end ? c->end : default_end(c, step),
		    &s);
		snprintf(pname, sizeof(pname), "%s", span_name(c->window));
	}
	if (graph_series(c->datadir, step, &s, idx, &sr, why, sizeof(why)) ==
	    -1)
		errx(1, "%s", why);
	series_print(c, &sr, idx, &s, pname);
	series_free(&sr);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "standard output");
	return 0;
}

static int
cmd_site(const struct gconf *c, const struct events *ev)
{
	struct site_opts o = {c->watch, c->nwatch, ev, c->fy_month, c->groups,
	    c->ngroups};
	uint32_t step = data_step(c);
	char why[512];

	if (c->out == NULL)
		errx(1, "site: give -o DIR");
	if (site_generate(c->datadir, step,
		c->has_end ? c->end : default_end(c, step), &o, c->out, why,
		sizeof(why)) == -1)
		errx(1, "%s: %s", c->out, why);
	return 0;
}

int
main(int argc, char **argv)
{
	struct events ev;
	struct gconf c;
	char why[512];
	int rc;

	log_init("teiten-graph", 1, 0);
	options(&c, argc, argv);
	use_zone(&c);
	/* Read in the zone: its dates are the analyst's. */
	if (c.events != NULL) {
		if (events_load(c.events, &ev, why, sizeof(why)) == -1)
			errx(1, "%s", why);
		graph_set_events(&ev);
	}
	if (strcmp(c.cmd, "top") == 0)
		rc = cmd_top(&c);
	else if (strcmp(c.cmd, "png") == 0)
		rc = cmd_png(&c);
	else if (strcmp(c.cmd, "series") == 0)
		rc = cmd_series(&c);
	else
		rc = cmd_site(&c, c.events != NULL ? &ev : NULL);
	if (c.events != NULL) {
		graph_set_events(NULL);
		events_free(&ev);
	}
	free(c.events);
	free(c.datadir);
	gconf_free_groups(&c);
	return rc;
}

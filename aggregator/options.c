/* Command line and config file of teiten-aggregator; see options.h. */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hostport.h"
#include "ingest.h"
#include "interval.h"
#include "options.h"
#include "optdoc.h"
#include "parse.h"
#include "rrdq.h"
#include "xmalloc.h"

#define LISTEN_DEFAULT "*:4774"
#define DATADIR_DEFAULT "/var/lib/teiten"
#define KEYS_DEFAULT "/etc/teiten/sensors.keys"
#define GRACE_DEFAULT 120
#define ACTIVE_DEFAULT 600
#define AUTH_TIMEOUT_DEFAULT 10
#define LATE_SETTLE_DEFAULT 10

enum {
	OPT_GRACE = 256,
	OPT_ACTIVE,
	OPT_RRDCACHED,
	OPT_SKEW,
	OPT_AUTH_TIMEOUT,
	OPT_LATE_SETTLE,
	OPT_OPEN_BUDGET,
	OPT_QUEUE_BUDGET,
	OPT_TIMEZONE,
	OPT_METRICS,
	OPT_MAX_CONNECTIONS,
	OPT_SKETCH_KEY_FILE
};

/* The commands an option applies to, for --help and for refusing it. */
#define CMD_SERVE 1u
#define CMD_REBUILD 2u

/* The one list of options: getopt's tables and --help come from it. */
static const struct optdoc opts[] = {
    {"active", required_argument, OPT_ACTIVE, "seconds",
	"silence that makes a sensor inactive (default 600)", 0},
    {"auth-timeout", required_argument, OPT_AUTH_TIMEOUT, "seconds",
	"time to authenticate a connection (default 10)", CMD_SERVE},
    {"config", required_argument, 'c', "file",
	"read file (default /etc/teiten/teiten.conf)", 0},
    {"datadir", required_argument, 'd', "datadir",
	"data directory (default /var/lib/teiten)", 0},
    {"foreground", no_argument, 'f', NULL,
	"stay in the foreground, log to standard error", CMD_SERVE},
    {"grace", required_argument, OPT_GRACE, "seconds",
	"longest wait for late sensors (default 120)", 0},
    {"help", no_argument, 'h', NULL, "print this help and exit", 0},
    {"interval", required_argument, 'n', "seconds",
	"interval length, 1 to 86400 (default 60)", 0},
    {"keys", required_argument, 'K', "keysfile",
	"sensor keys (default /etc/teiten/sensors.keys)", CMD_SERVE},
    {"late-settle", required_argument, OPT_LATE_SETTLE, "seconds",
	"apply late records after this lull (default 10)", 0},
    {"listen", required_argument, 'l', "addr:port",
	"address to listen on (default *:4774)", CMD_SERVE},
    {"max-connections", required_argument, OPT_MAX_CONNECTIONS, "n",
	"connections at once (default: as open files allow)", CMD_SERVE},
    {"metrics", required_argument, OPT_METRICS, "addr:port",
	"serve Prometheus metrics over HTTP here", CMD_SERVE},
    {"open-budget", required_argument, OPT_OPEN_BUDGET, "MiB",
	"memory for records of open intervals", 0},
    {"queue-budget", required_argument, OPT_QUEUE_BUDGET, "MiB",
	"memory for intervals waiting for the RRD writer", 0},
    {"rrdcached", required_argument, OPT_RRDCACHED, "address",
	"write RRDs through rrdcached at this address", 0},
    {"sketch-key-file", required_argument, OPT_SKETCH_KEY_FILE, "keyfile",
	"the fleet's sketch key: keep distinct sources", 0},
    {"skew", required_argument, OPT_SKEW, "seconds",
	"refuse records this far ahead (default n+60)", 0},
    {"test", no_argument, 't', NULL,
	"check the configuration and its files, then exit", 0},
    {"timezone", required_argument, OPT_TIMEZONE, "zone",
	"zone of the daily summaries (default UTC)", 0},
    {"verbose", no_argument, 'v', NULL, "more log output", 0},
    {"version", no_argument, 'V', NULL, "print the version and exit", 0},
    OPTDOC_END,
};
static struct option long_opts[sizeof(opts) / sizeof(opts[0])];
static char short_opts[2 * sizeof(opts) / sizeof(opts[0]) + 1];

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: teiten-aggregator [-ftvV] [-c file] [-d datadir] "
	    "[-K keysfile] [-l addr:port]\n"
	    "                         [-n seconds] [--grace seconds] "
	    "[--active seconds]\n"
	    "                         [--skew seconds] [--auth-timeout "
	    "seconds] [--late-settle seconds]\n"
	    "                         [--open-budget MiB] [--queue-budget "
	    "MiB]\n"
	    "                         [--rrdcached address] [--timezone "
	    "zone]\n"
	    "                         [--metrics addr:port] "
	    "[--max-connections n]\n"
	    "                         [--sketch-key-file keyfile]\n"
	    "       teiten-aggregator rebuild [-t] [-c file] [-d datadir] "
	    "[-n seconds]\n"
	    "                                 [--rrdcached address] "
	    "[--timezone zone]\n"
	    "                                 [--sketch-key-file keyfile]\n"
	    "       teiten-aggregator keygen [--force] [-o keyfile] "
	    "sensor-id\n");
}

/* "--name" of the option behind ch (or "-c"), for error messages. */
static const char *
option_name(int ch)
{
	static char buf[32];
	const struct option *o;

	if (ch < 256)
		snprintf(buf, sizeof(buf), "-%c", ch);
	else
		for (o = long_opts; o->name != NULL; o++)
			if (o->val == ch)
				snprintf(buf, sizeof(buf), "--%s", o->name);
	return buf;
}

static const char *
set_secs(unsigned *slot, const char *v, uint64_t min)
{
	uint64_t n;

	if (parse_u64(v, min, 86400 * 7, &n) == -1)
		return "must be a number of seconds up to 604800";
	*slot = (unsigned)n;
	return NULL;
}

#define CF_STRING(name, field) CONFIG_STRING(name, struct agg_conf, field)
CF_STRING(listen, listen)
CF_STRING(datadir, datadir)
CF_STRING(keys, keys)
CF_STRING(rrdcached, rrdcached)
CF_STRING(timezone, timezone)
CF_STRING(sketch_key_file, sketch_key_file)

static const char *
cf_metrics(void *a, const char *v)
{
	char host[256], port[8];

	if (hostport_split(v, host, sizeof(host), port, sizeof(port)) == -1)
		return "must be ADDR:PORT or [IPV6]:PORT";
	config_replace(&((struct agg_conf *)a)->metrics, v);
	return NULL;
}

static const char *
cf_interval(void *a, const char *v)
{
	if (interval_parse(v, &((struct agg_conf *)a)->interval) == -1)
		return "must be a whole number of seconds, 1 to 86400";
	return NULL;
}

static const char *
cf_grace(void *a, const char *v)
{
	return set_secs(&((struct agg_conf *)a)->grace, v, 0);
}

static const char *
cf_active(void *a, const char *v)
{
	return set_secs(&((struct agg_conf *)a)->active, v, 1);
}

static const char *
cf_skew(void *a, const char *v)
{
	return set_secs(&((struct agg_conf *)a)->skew, v, 0);
}

/* 0: no summary lines; fewer than 5 s would bury the other lines. */
static const char *
cf_sensor_sums(void *a, const char *v)
{
	int on;

	if (parse_bool(v, &on) == -1)
		return "yes or no";
	((struct agg_conf *)a)->no_sensor_sums = !on;
	return NULL;
}

static const char *
cf_log_summary(void *a, const char *v)
{
	unsigned *slot = &((struct agg_conf *)a)->log_summary;

	if (set_secs(slot, v, 0) != NULL || (*slot > 0 && *slot < 5))
		return "must be 0 (no summary) or 5 to 604800 seconds";
	return NULL;
}

static const char *
cf_auth_timeout(void *a, const char *v)
{
	return set_secs(&((struct agg_conf *)a)->auth_timeout, v, 1);
}

/* 0 stands for the default: what the open file limit allows. */
static const char *
cf_max_connections(void *a, const char *v)
{
	uint64_t n;

	if (parse_u64(v, 1, UINT_MAX, &n) == -1)
		return "must be a number of connections, 1 to 4294967295";
	((struct agg_conf *)a)->max_conns = (unsigned)n;
	return NULL;
}

static const char *
set_mib(unsigned *dst, const char *v)
{
	uint64_t n;

	if (parse_u64(v, 0, 65536, &n) == -1)
		return "must be a number of MiB up to 65536";
	*dst = (unsigned)n;
	return NULL;
}

static const char *
cf_open_budget(void *a, const char *v)
{
	return set_mib(&((struct agg_conf *)a)->open_budget, v);
}

static const char *
cf_queue_budget(void *a, const char *v)
{
	return set_mib(&((struct agg_conf *)a)->queue_budget, v);
}

static const char *
cf_late_settle(void *a, const char *v)
{
	return set_secs(&((struct agg_conf *)a)->late_settle, v, 0);
}

static const struct config_key agg_keys[] = {
    {"aggregator", "listen", cf_listen},
    {"aggregator", "datadir", cf_datadir},
    {"aggregator", "keys", cf_keys},
    {"aggregator", "rrdcached", cf_rrdcached},
    {"aggregator", "interval", cf_interval},
    {"aggregator", "grace", cf_grace},
    {"aggregator", "active", cf_active},
    {"aggregator", "skew", cf_skew},
    {"aggregator", "auth_timeout", cf_auth_timeout},
    {"aggregator", "late_settle", cf_late_settle},
    {"aggregator", "open_budget", cf_open_budget},
    {"aggregator", "queue_budget", cf_queue_budget},
    {"aggregator", "timezone", cf_timezone},
    {"aggregator", "log_summary", cf_log_summary},
    {"aggregator", "sensor_sums", cf_sensor_sums},
    {"aggregator", "metrics", cf_metrics},
    {"aggregator", "max_connections", cf_max_connections},
    {"aggregator", "sketch_key_file", cf_sketch_key_file},
    {"sensor", "*", NULL},
    {"graph", "*", NULL},
    {NULL, NULL, NULL},
};

static void
agg_option(struct agg_conf *c, int ch)
{
	const struct optdoc *o = optdoc_find(opts, ch);
	unsigned cmd = c->rebuild ? CMD_REBUILD : CMD_SERVE;
	const char *why = NULL;
	char name[32];

	if (o != NULL && !optdoc_takes(o, cmd))
		errx(1, "option %s does not apply to rebuild",
		    optdoc_name(o, name, sizeof(name)));
	switch (ch) {
	case 'c':
		break;
	case 'd':
		config_replace(&c->datadir, optarg);
		break;
	case 'f':
		c->foreground = 1;
		break;
	case 'h':
		usage(stdout);
		optdoc_print(stdout, opts, cmd);
		exit(0);
	case 'K':
		config_replace(&c->keys, optarg);
		break;
	case 'l':
		config_replace(&c->listen, optarg);
		break;
	case 'n':
		why = cf_interval(c, optarg);
		break;
	case 't':
		c->test = 1;
		break;
	case 'v':
		c->verbose++;
		break;
	case 'V':
		printf("teiten-aggregator %s\n", TEITEN_VERSION);
		exit(0);
	case OPT_GRACE:
		why = cf_grace(c, optarg);
		break;
	case OPT_ACTIVE:
		why = cf_active(c, optarg);
		break;
	case OPT_SKEW:
		why = cf_skew(c, optarg);
		break;
	case OPT_AUTH_TIMEOUT:
		why = cf_auth_timeout(c, optarg);
		break;
	case OPT_OPEN_BUDGET:
		why = cf_open_budget(c, optarg);
		break;
	case OPT_QUEUE_BUDGET:
		why = cf_queue_budget(c, optarg);
		break;
	case OPT_LATE_SETTLE:
		why = cf_late_settle(c, optarg);
		break;
	case OPT_RRDCACHED:
		config_replace(&c->rrdcached, optarg);
		break;
	case OPT_TIMEZONE:
		config_replace(&c->timezone, optarg);
		break;
	case OPT_METRICS:
		why = cf_metrics(c, optarg);
		break;
	case OPT_MAX_CONNECTIONS:
		why = cf_max_connections(c, optarg);
		break;
	case OPT_SKETCH_KEY_FILE:
		config_replace(&c->sketch_key_file, optarg);
		break;
	default:
		usage(stderr);
		exit(1);
	}
	if (why != NULL)
		errx(1, "option %s: %s", option_name(ch), why);
}

void
agg_options(struct agg_conf *c, int argc, char **argv)
{
	const char *config = NULL, *used;
	char err[512];
	int ch;

	optdoc_getopt(opts, long_opts, sizeof(long_opts) / sizeof(long_opts[0]),
	    short_opts, sizeof(short_opts));
	memset(c, 0, sizeof(*c));
	c->interval = INTERVAL_DEFAULT;
	c->grace = GRACE_DEFAULT;
	c->active = ACTIVE_DEFAULT;
	c->skew = UINT_MAX; /* one interval plus 60 s, once that is known */
	c->auth_timeout = AUTH_TIMEOUT_DEFAULT;
	c->late_settle = LATE_SETTLE_DEFAULT;
	c->open_budget = INGEST_OPEN_BUDGET >> 20;
	c->queue_budget = RRDQ_QUEUE_BUDGET >> 20;
	c->log_summary = LOG_SUMMARY_DEFAULT;
	if (argc > 1 && strcmp(argv[1], "rebuild") == 0) {
		c->rebuild = 1;
		c->foreground = 1;
		/* getopt names argv[0] in its messages: the program. */
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	config = config_option(argc, argv, short_opts, long_opts, 'c');
	if (config_load_default(config, agg_keys, c, &used, err, sizeof(err)) ==
	    -1)
		errx(1, "%s", err);
	if (used != NULL)
		c->config = xstrdup(used);
	while (
	    (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1)
		agg_option(c, ch);
	if (optind < argc)
		errx(1, "unexpected argument \"%s\"", argv[optind]);
	if (c->listen == NULL)
		c->listen = xstrdup(LISTEN_DEFAULT);
	if (c->datadir == NULL)
		c->datadir = xstrdup(DATADIR_DEFAULT);
	if (c->keys == NULL)
		c->keys = xstrdup(KEYS_DEFAULT);
	if (c->timezone == NULL)
		c->timezone = xstrdup("UTC");
	if (c->skew == UINT_MAX)
		c->skew = c->interval + 60;
}

void
agg_conf_free(struct agg_conf *c)
{
	free(c->listen);
	free(c->datadir);
	free(c->keys);
	free(c->rrdcached);
	free(c->timezone);
	free(c->metrics);
	free(c->sketch_key_file);
	free(c->config);
}

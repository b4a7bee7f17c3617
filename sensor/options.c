/* Command line and config file of teiten-sensor; see options.h. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "interval.h"
#include "options.h"
#include "hostport.h"
#include "optdoc.h"
#include "parse.h"
#include "record.h"
#include "spool.h"
#include "xmalloc.h"

/* Enough for Ethernet, two VLAN tags, IPv6 with a few extension headers. */
#define SNAPLEN_DEFAULT 256
#define BUFSIZE_DEFAULT (32u << 20)
#define SPOOL_BASE_DEFAULT "/var/spool/teiten-sensor"
#define SPOOL_MAX_DEFAULT (256ull << 20)
#define MAX_GAP_DEFAULT 86400
#define GIVE_UP_DEFAULT 300
/* Sketch bytes of one interval before they are folded (sketch.h). */
#define SKETCH_MEMORY_DEFAULT (128ull << 20)
#define SKETCH_MEMORY_MIN (1ull << 20)

enum {
	OPT_PRINT = 256,
	OPT_SNAPLEN,
	OPT_FILTER,
	OPT_SPOOL,
	OPT_SPOOL_MAX,
	OPT_SPOOL_FULL,
	OPT_DIRECTION,
	OPT_MAX_GAP,
	OPT_READER,
	OPT_METRICS,
	OPT_GIVE_UP,
	OPT_SKETCH_KEY,
	OPT_SKETCH_MEMORY,
	OPT_SOURCES
};

/* The one list of options: getopt's tables and --help come from it. */
static const struct optdoc opts[] = {
    {"aggregator", required_argument, 'a', "host:port",
	"send each interval's record to this aggregator", 0},
    {"buffer-size", required_argument, 'B', "bytes",
	"kernel capture buffer (default 33554432)", 0},
    {"config", required_argument, 'c', "file",
	"read file (default /etc/teiten/teiten.conf)", 0},
    {"direction", required_argument, OPT_DIRECTION, "in|inout",
	"count arriving packets only (in, default) or all", 0},
    {"filter", required_argument, OPT_FILTER, "expression",
	"pcap-filter(7) expression (or trailing arguments)", 0},
    {"give-up", required_argument, OPT_GIVE_UP, "seconds",
	"-r -a: quit after so long without an ack (300)", 0},
    {"help", no_argument, 'h', NULL, "print this help and exit", 0},
    {"interface", required_argument, 'i', "interface",
	"capture live on this interface", 0},
    {"interval", required_argument, 'n', "seconds",
	"interval length, 1 to 86400 (default 60)", 0},
    {"key-file", required_argument, 'K', "keyfile",
	"the sensor's pre-shared key (64 hex digits)", 0},
    {"max-gap", required_argument, OPT_MAX_GAP, "seconds",
	"timestamp jump that is suspect (default 86400)", 0},
    {"metrics", required_argument, OPT_METRICS, "addr:port",
	"serve Prometheus metrics over HTTP here", 0},
    {"monitor", required_argument, 'm', "prefix[,...]",
	"count only packets to these prefixes (repeatable)", 0},
    {"no-promiscuous", no_argument, 'p', NULL,
	"do not put the interface in promiscuous mode", 0},
    {"print", no_argument, OPT_PRINT, NULL,
	"print the counts on standard output", 0},
    {"read", required_argument, 'r', "file",
	"read a pcap or pcapng file, - for standard input", 0},
    {"reader", required_argument, OPT_READER, "auto|direct|libpcap",
	"how -r reads its file (default auto)", 0},
    {"sensor-id", required_argument, 's', "sensor-id",
	"this sensor's id in the aggregator's keys file", 0},
    {"sketch-key-file", required_argument, OPT_SKETCH_KEY, "keyfile",
	"the fleet's sketch key: records carry sketches", 0},
    {"sketch-memory", required_argument, OPT_SKETCH_MEMORY, "bytes",
	"sketch bytes per interval (default 134217728)", 0},
    {"snaplen", required_argument, OPT_SNAPLEN, "bytes",
	"bytes kept per packet, 68 to 262144 (default 256)", 0},
    {"sources", no_argument, OPT_SOURCES, NULL,
	"--print: add distinct sources and targets", 0},
    {"spool", required_argument, OPT_SPOOL, "dir",
	"spool (default /var/spool/teiten-sensor/ID)", 0},
    {"spool-full", required_argument, OPT_SPOOL_FULL, "drop-oldest|drop-new",
	"what to discard when the spool is full", 0},
    {"spool-max", required_argument, OPT_SPOOL_MAX, "bytes",
	"largest spool size (default 268435456)", 0},
    {"test", no_argument, 't', NULL,
	"check the configuration and its files, then exit", 0},
    {"user", required_argument, 'u', "user",
	"user to become after opening (default teiten)", 0},
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
	    "usage: teiten-sensor [-ptvV] [-B bytes] [-c file] "
	    "[-m prefix[,prefix...]]\n"
	    "                     [-n seconds] [-u user] [--snaplen bytes] "
	    "[--direction in|inout]\n"
	    "                     [--max-gap seconds] [--filter expression] "
	    "[--print [--sources]]\n"
	    "                     [--reader auto|direct|libpcap] "
	    "[--metrics addr:port]\n"
	    "                     [--sketch-key-file keyfile] "
	    "[--sketch-memory bytes]\n"
	    "                     [-a host:port -s sensor-id -K keyfile "
	    "[--spool dir]\n"
	    "                     [--spool-max bytes] "
	    "[--spool-full drop-oldest|drop-new]\n"
	    "                     [--give-up seconds]]\n"
	    "                     -i interface | -r file [expression]\n");
}

/* "--name" of the option behind ch, for error messages. */
static const char *
option_name(int ch)
{
	static char buf[32];

	return optdoc_name(optdoc_find(opts, ch), buf, sizeof(buf));
}

static const char *
set_uint(unsigned *slot, const char *v, uint64_t min, uint64_t max)
{
	static char why[64];
	uint64_t n;

	if (parse_u64(v, min, max, &n) == -1) {
		snprintf(why, sizeof(why), "must be a number from %llu to %llu",
		    (unsigned long long)min, (unsigned long long)max);
		return why;
	}
	*slot = (unsigned)n;
	return NULL;
}

static const char *
set_interval(struct sensor_conf *c, const char *v)
{
	if (interval_parse(v, &c->interval) == -1)
		return "must be a whole number of seconds, 1 to 86400";
	return NULL;
}

static const char *
set_monitor(struct sensor_conf *c, const char *v)
{
	static char why[160];

	size_t before;

	if (c->monitor == NULL)
		c->monitor = prefixes_new();
	before = prefixes_count(c->monitor);
	if (prefixes_add_list(c->monitor, v, why, sizeof(why)) == -1)
		return why;
	if (prefixes_count(c->monitor) == before)
		return "empty prefix list";
	return NULL;
}

/* Config setters of plain string settings. */
#define CF_STRING(name, field) CONFIG_STRING(name, struct sensor_conf, field)
CF_STRING(interface, iface)
CF_STRING(file, file)
CF_STRING(filter, filter)
CF_STRING(user, user)
CF_STRING(sensor_id, sensor_id)
CF_STRING(key_file, key_file)
CF_STRING(spool_dir, spool_dir)
CF_STRING(sketch_key_file, sketch_key_file)

static const char *
cf_interval(void *a, const char *v)
{
	return set_interval(a, v);
}

static const char *
cf_max_gap(void *a, const char *v)
{
	if (parse_u64(v, 1, INTERVAL_SEC_LIMIT / 2,
		&((struct sensor_conf *)a)->max_gap) == -1)
		return "must be a number of seconds, at least 1";
	return NULL;
}

static const char *
cf_give_up(void *a, const char *v)
{
	return set_uint(&((struct sensor_conf *)a)->give_up, v, 0, INT32_MAX);
}

static const char *
cf_monitor(void *a, const char *v)
{
	return set_monitor(a, v);
}

static const char *
cf_snaplen(void *a, const char *v)
{
	return set_uint(&((struct sensor_conf *)a)->snaplen, v, 68, 262144);
}

static const char *
cf_bufsize(void *a, const char *v)
{
	return set_uint(&((struct sensor_conf *)a)->bufsize, v, 65536,
	    1u << 30);
}

static const char *
set_flag(int *slot, const char *v)
{
	if (parse_bool(v, slot) == -1)
		return "must be yes or no";
	return NULL;
}

static const char *
cf_promisc(void *a, const char *v)
{
	return set_flag(&((struct sensor_conf *)a)->promisc, v);
}

static const char *
cf_print(void *a, const char *v)
{
	return set_flag(&((struct sensor_conf *)a)->print, v);
}

static const char *
cf_aggregator(void *a, const char *v)
{
	char host[256], port[8];

	if (hostport_split(v, host, sizeof(host), port, sizeof(port)) == -1)
		return "must be HOST:PORT or [IPV6]:PORT";
	config_replace(&((struct sensor_conf *)a)->aggregator, v);
	return NULL;
}

static const char *
cf_metrics(void *a, const char *v)
{
	char host[256], port[8];

	if (hostport_split(v, host, sizeof(host), port, sizeof(port)) == -1)
		return "must be ADDR:PORT or [IPV6]:PORT";
	config_replace(&((struct sensor_conf *)a)->metrics, v);
	return NULL;
}

static const char *
cf_spool_max(void *a, const char *v)
{
	if (parse_u64(v, 65536, UINT64_MAX,
		&((struct sensor_conf *)a)->spool_max) == -1)
		return "must be a number of bytes, at least 65536";
	return NULL;
}

static const char *
cf_sketch_memory(void *a, const char *v)
{
	if (parse_u64(v, SKETCH_MEMORY_MIN, UINT64_MAX / 2,
		&((struct sensor_conf *)a)->sketch_memory) == -1)
		return "must be a number of bytes, at least 1048576";
	return NULL;
}

static const char *
cf_spool_full(void *a, const char *v)
{
	struct sensor_conf *c = a;

	if (strcmp(v, "drop-oldest") == 0)
		c->spool_full = SPOOL_DROP_OLDEST;
	else if (strcmp(v, "drop-new") == 0)
		c->spool_full = SPOOL_DROP_NEW;
	else
		return "must be drop-oldest or drop-new";
	return NULL;
}

static const char *
cf_direction(void *a, const char *v)
{
	struct sensor_conf *c = a;

	if (strcmp(v, "in") == 0)
		c->inbound_only = 1;
	else if (strcmp(v, "inout") == 0)
		c->inbound_only = 0;
	else
		return "must be in or inout";
	return NULL;
}

static const char *
cf_reader(void *a, const char *v)
{
	struct sensor_conf *c = a;

	if (strcmp(v, "auto") == 0)
		c->reader = READER_AUTO;
	else if (strcmp(v, "direct") == 0)
		c->reader = READER_DIRECT;
	else if (strcmp(v, "libpcap") == 0)
		c->reader = READER_LIBPCAP;
	else
		return "must be auto, direct or libpcap";
	return NULL;
}

static const struct config_key sensor_keys[] = {
    {"sensor", "direction", cf_direction},
    {"sensor", "interface", cf_interface},
    {"sensor", "file", cf_file},
    {"sensor", "filter", cf_filter},
    {"sensor", "interval", cf_interval},
    {"sensor", "max_gap", cf_max_gap},
    {"sensor", "monitor", cf_monitor},
    {"sensor", "user", cf_user},
    {"sensor", "snaplen", cf_snaplen},
    {"sensor", "buffer_size", cf_bufsize},
    {"sensor", "promiscuous", cf_promisc},
    {"sensor", "print", cf_print},
    {"sensor", "reader", cf_reader},
    {"sensor", "aggregator", cf_aggregator},
    {"sensor", "sensor_id", cf_sensor_id},
    {"sensor", "key_file", cf_key_file},
    {"sensor", "spool_dir", cf_spool_dir},
    {"sensor", "spool_max", cf_spool_max},
    {"sensor", "spool_full", cf_spool_full},
    {"sensor", "metrics", cf_metrics},
    {"sensor", "give_up", cf_give_up},
    {"sensor", "sketch_key_file", cf_sketch_key_file},
    {"sensor", "sketch_memory", cf_sketch_memory},
    {"aggregator", "*", NULL},
    {"graph", "*", NULL},
    {NULL, NULL, NULL},
};

/*
 * The config file is read first so that every option can override it.
 * Returns -1 with one line in err if it cannot be read or parsed.
 */
static int
load_config_first(struct sensor_conf *c, int argc, char **argv, char *err,
    size_t errlen)
{
	const char *path =
	    config_option(argc, argv, short_opts, long_opts, 'c');
	const char *used;

	if (config_load_default(path, sensor_keys, c, &used, err, errlen) == -1)
		return -1;
	if (used != NULL)
		c->config = xstrdup(used);
	return 0;
}

static char *
join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = xcalloc(1, len);
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* What the command line gave, as opposed to the config file. */
struct cmdline_seen {
	int monitor, iface, file;
};

static void
apply_option(struct sensor_conf *c, int ch, struct cmdline_seen *seen)
{
	const char *why = NULL;

	switch (ch) {
	case 'a':
		why = cf_aggregator(c, optarg);
		break;
	case 'K':
		config_replace(&c->key_file, optarg);
		break;
	case 's':
		config_replace(&c->sensor_id, optarg);
		break;
	case OPT_DIRECTION:
		why = cf_direction(c, optarg);
		break;
	case OPT_MAX_GAP:
		why = cf_max_gap(c, optarg);
		break;
	case OPT_READER:
		why = cf_reader(c, optarg);
		break;
	case OPT_METRICS:
		why = cf_metrics(c, optarg);
		break;
	case OPT_GIVE_UP:
		why = cf_give_up(c, optarg);
		break;
	case OPT_SKETCH_KEY:
		config_replace(&c->sketch_key_file, optarg);
		break;
	case OPT_SKETCH_MEMORY:
		why = cf_sketch_memory(c, optarg);
		break;
	case OPT_SOURCES:
		c->sources = 1;
		break;
	case OPT_SPOOL:
		config_replace(&c->spool_dir, optarg);
		break;
	case OPT_SPOOL_MAX:
		why = cf_spool_max(c, optarg);
		break;
	case OPT_SPOOL_FULL:
		why = cf_spool_full(c, optarg);
		break;
	case 'B':
		why = cf_bufsize(c, optarg);
		break;
	case 'c':
		break;
	case 'h':
		usage(stdout);
		optdoc_print(stdout, opts, 0);
		exit(0);
	case 'i':
		/* The command line's source replaces the config file's. */
		config_replace(&c->iface, optarg);
		free(c->file);
		c->file = NULL;
		seen->iface = 1;
		break;
	case 'm':
		/* The command line's list replaces the config file's. */
		if (!seen->monitor) {
			prefixes_free(c->monitor);
			c->monitor = NULL;
			seen->monitor = 1;
		}
		why = set_monitor(c, optarg);
		break;
	case 'n':
		why = set_interval(c, optarg);
		break;
	case 'p':
		c->promisc = 0;
		break;
	case 'r':
		config_replace(&c->file, optarg);
		free(c->iface);
		c->iface = NULL;
		seen->file = 1;
		break;
	case 't':
		c->test = 1;
		break;
	case 'u':
		config_replace(&c->user, optarg);
		break;
	case 'v':
		c->verbose++;
		break;
	case 'V':
		printf("teiten-sensor %s\n", TEITEN_VERSION);
		exit(0);
	case OPT_PRINT:
		c->print = 1;
		break;
	case OPT_SNAPLEN:
		why = cf_snaplen(c, optarg);
		break;
	case OPT_FILTER:
		config_replace(&c->filter, optarg);
		break;
	default:
		usage(stderr);
		exit(1);
	}
	if (why != NULL)
		errx(1, "option %s: %s", option_name(ch), why);
}

/* Defaults, the config file, then the command line, as at start-up. */
static int
sensor_parse(struct sensor_conf *c, int argc, char **argv, char *err,
    size_t errlen)
{
	struct cmdline_seen seen = {0, 0, 0};
	int ch;

	optdoc_getopt(opts, long_opts, sizeof(long_opts) / sizeof(long_opts[0]),
	    short_opts, sizeof(short_opts));
	memset(c, 0, sizeof(*c));
	c->interval = INTERVAL_DEFAULT;
	c->max_gap = MAX_GAP_DEFAULT;
	c->snaplen = SNAPLEN_DEFAULT;
	c->bufsize = BUFSIZE_DEFAULT;
	c->promisc = 1;
	c->inbound_only = 1;
	c->spool_max = SPOOL_MAX_DEFAULT;
	c->spool_full = SPOOL_DROP_OLDEST;
	c->give_up = GIVE_UP_DEFAULT;
	c->sketch_memory = SKETCH_MEMORY_DEFAULT;
	if (load_config_first(c, argc, argv, err, errlen) == -1)
		return -1;
	while (
	    (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1)
		apply_option(c, ch, &seen);
	if (optind < argc) {
		free(c->filter);
		c->filter = join_args(argc - optind, argv + optind);
	}
	if ((seen.iface && seen.file) || (c->iface != NULL && c->file != NULL))
		snprintf(err, errlen,
		    "give either an interface (-i) or a file (-r), not both");
	else if (c->iface == NULL && c->file == NULL)
		snprintf(err, errlen,
		    "nothing to capture: give -i interface or -r file");
	else
		return 0;
	return -1;
}

void
sensor_options(struct sensor_conf *c, int argc, char **argv)
{
	char err[512];

	if (sensor_parse(c, argc, argv, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	if (!c->print && c->aggregator == NULL)
		errx(1, "no output chosen: give --print or -a host:port");
	if (c->sources && !c->print)
		errx(1, "--sources adds columns to --print: give both");
	if (c->aggregator != NULL && c->sensor_id == NULL)
		errx(1, "sending to an aggregator needs a sensor id (-s)");
	if (c->sensor_id != NULL && !record_valid_id(c->sensor_id))
		errx(1, "sensor id \"%s\": use 1 to 64 of A-Z a-z 0-9 . _ -",
		    c->sensor_id);
	if (c->aggregator != NULL && c->key_file == NULL)
		errx(1, "sending to an aggregator needs a key file (-K)");
	/* One spool per sensor id, so that two sensors never share one. */
	if (c->spool_dir == NULL && c->sensor_id != NULL) {
		/* Not the spool base nor its parent. */
		if (c->sensor_id[0] == '.')
			errx(1,
			    "sensor id \"%s\" cannot name a spool: it begins "
			    "with a dot; give --spool",
			    c->sensor_id);
		size_t len =
		    sizeof(SPOOL_BASE_DEFAULT) + strlen(c->sensor_id) + 1;

		c->spool_dir = xmalloc(len);
		snprintf(c->spool_dir, len, "%s/%s", SPOOL_BASE_DEFAULT,
		    c->sensor_id);
		c->spool_base = xstrdup(SPOOL_BASE_DEFAULT);
	}
	if (c->max_gap < c->interval)
		errx(1,
		    "the maximum gap (%llu s) must be at least the interval "
		    "(%u s)",
		    (unsigned long long)c->max_gap, c->interval);
}

void
sensor_conf_free(struct sensor_conf *c)
{
	free(c->iface);
	free(c->file);
	free(c->filter);
	free(c->user);
	free(c->aggregator);
	free(c->metrics);
	free(c->sensor_id);
	free(c->key_file);
	free(c->spool_dir);
	free(c->spool_base);
	free(c->sketch_key_file);
	prefixes_free(c->monitor);
	free(c->config);
}

/*
 * What SIGHUP may apply without a restart is the key; the other settings
 * are compared so that the log can name those that wait for one.
 */
static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

int
sensor_options_reload(struct sensor_conf *now, int argc, char **argv,
    char *changed, size_t size, char *err, size_t errlen)
{
	struct sensor_conf c;
	size_t n = 0;
	int saved_opterr = opterr;

	changed[0] = '\0';
	opterr = 0; /* the command line was checked at start-up */
	if (sensor_parse(&c, argc, argv, err, errlen) == -1) {
		opterr = saved_opterr;
		sensor_conf_free(&c);
		return -1;
	}
	opterr = saved_opterr;
#define CHANGED(cond, name) \
	do { \
		if ((cond) && n < size) \
			n += (size_t)snprintf(changed + n, size - n, "%s%s", \
			    n > 0 ? ", " : "", name); \
	} while (0)
	CHANGED(str_differ(now->iface, c.iface), "interface");
	CHANGED(str_differ(now->filter, c.filter), "filter");
	CHANGED(now->interval != c.interval, "interval");
	CHANGED(now->max_gap != c.max_gap, "max_gap");
	CHANGED(!prefixes_equal(now->monitor, c.monitor), "monitor");
	CHANGED(str_differ(now->user, c.user), "user");
	CHANGED(now->snaplen != c.snaplen, "snaplen");
	CHANGED(now->bufsize != c.bufsize, "buffer_size");
	CHANGED(now->promisc != c.promisc, "promiscuous");
	CHANGED(now->inbound_only != c.inbound_only, "direction");
	CHANGED(str_differ(now->aggregator, c.aggregator), "aggregator");
	CHANGED(str_differ(now->sensor_id, c.sensor_id), "sensor_id");
	CHANGED(c.spool_dir != NULL && str_differ(now->spool_dir, c.spool_dir),
	    "spool_dir");
	CHANGED(now->spool_max != c.spool_max, "spool_max");
	CHANGED(now->spool_full != c.spool_full, "spool_full");
	CHANGED(str_differ(now->metrics, c.metrics), "metrics");
	CHANGED(now->give_up != c.give_up, "give_up");
	CHANGED(str_differ(now->sketch_key_file, c.sketch_key_file),
	    "sketch_key_file");
	CHANGED(now->sketch_memory != c.sketch_memory, "sketch_memory");
#undef CHANGED
	/* The key file's name applies now; without one, the old stays. */
	if (c.key_file != NULL && str_differ(now->key_file, c.key_file)) {
		free(now->key_file);
		now->key_file = c.key_file;
		c.key_file = NULL;
	}
	sensor_conf_free(&c);
	return 0;
}

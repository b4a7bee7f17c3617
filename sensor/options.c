/* Command line and config file of teiten-sensor; see options.h. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "interval.h"
#include "options.h"
#include "parse.h"
#include "xmalloc.h"

/* Enough for Ethernet, two VLAN tags, IPv6 with a few extension headers. */
#define SNAPLEN_DEFAULT 256
#define BUFSIZE_DEFAULT (32u << 20)

enum { OPT_PRINT = 256, OPT_SNAPLEN, OPT_FILTER };

static const struct option long_opts[] = {{"buffer-size", required_argument,
					      NULL, 'B'},
    {"config", required_argument, NULL, 'c'},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"help", no_argument, NULL, 'h'},
    {"interface", required_argument, NULL, 'i'},
    {"interval", required_argument, NULL, 'n'},
    {"monitor", required_argument, NULL, 'm'},
    {"no-promiscuous", no_argument, NULL, 'p'},
    {"print", no_argument, NULL, OPT_PRINT},
    {"read", required_argument, NULL, 'r'},
    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
    {"user", required_argument, NULL, 'u'}, {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
static const char short_opts[] = "B:c:hi:m:n:pr:u:vV";

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: teiten-sensor [-pvV] [-B bytes] [-c file] [-m "
	    "prefix[,prefix...]]\n"
	    "                     [-n seconds] [-u user] [--snaplen bytes] "
	    "--print\n"
	    "                     -i interface | -r file [expression]\n");
}

/* "--name" of the option behind ch, for error messages. */
static const char *
option_name(int ch)
{
	static char buf[32];
	const struct option *o;

	for (o = long_opts; o->name != NULL; o++)
		if (o->val == ch) {
			snprintf(buf, sizeof(buf), "--%s", o->name);
			return buf;
		}
	snprintf(buf, sizeof(buf), "-%c", ch);
	return buf;
}

static void
replace(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static const char *
set_uint(unsigned *slot, const char *v, uint64_t min, uint64_t max)
{
	uint64_t n;

	if (parse_u64(v, min, max, &n) == -1)
		return "not a number in range";
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

	if (c->monitor == NULL)
		c->monitor = prefixes_new();
	if (prefixes_add_list(c->monitor, v, why, sizeof(why)) == -1)
		return why;
	return NULL;
}

static const char *
cf_interface(void *a, const char *v)
{
	replace(&((struct sensor_conf *)a)->iface, v);
	return NULL;
}

static const char *
cf_file(void *a, const char *v)
{
	replace(&((struct sensor_conf *)a)->file, v);
	return NULL;
}

static const char *
cf_filter(void *a, const char *v)
{
	replace(&((struct sensor_conf *)a)->filter, v);
	return NULL;
}

static const char *
cf_user(void *a, const char *v)
{
	replace(&((struct sensor_conf *)a)->user, v);
	return NULL;
}

static const char *
cf_interval(void *a, const char *v)
{
	return set_interval(a, v);
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
cf_promisc(void *a, const char *v)
{
	if (parse_bool(v, &((struct sensor_conf *)a)->promisc) == -1)
		return "must be yes or no";
	return NULL;
}

static const char *
cf_print(void *a, const char *v)
{
	if (parse_bool(v, &((struct sensor_conf *)a)->print) == -1)
		return "must be yes or no";
	return NULL;
}

static const struct config_key sensor_keys[] = {{"sensor", "interface",
						    cf_interface},
    {"sensor", "file", cf_file}, {"sensor", "filter", cf_filter},
    {"sensor", "interval", cf_interval}, {"sensor", "monitor", cf_monitor},
    {"sensor", "user", cf_user}, {"sensor", "snaplen", cf_snaplen},
    {"sensor", "buffer_size", cf_bufsize},
    {"sensor", "promiscuous", cf_promisc}, {"sensor", "print", cf_print},
    {NULL, NULL, NULL}};

/* The config file is read first so that every option can override it. */
static void
load_config_first(struct sensor_conf *c, int argc, char **argv)
{
	char err[512];
	const char *path = NULL;
	int ch;

	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1)
		if (ch == 'c')
			path = optarg;
	opterr = 1;
	optind = 0; /* glibc: restart scanning from scratch */
	if (path != NULL &&
	    config_load(path, sensor_keys, c, err, sizeof(err)) == -1)
		errx(1, "%s", err);
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

static void
apply_option(struct sensor_conf *c, int ch, int *monitor_from_cmdline)
{
	const char *why = NULL;

	switch (ch) {
	case 'B':
		why = cf_bufsize(c, optarg);
		break;
	case 'c':
		break;
	case 'h':
		usage(stdout);
		exit(0);
	case 'i':
		replace(&c->iface, optarg);
		break;
	case 'm':
		/* The command line's list replaces the config file's. */
		if (!*monitor_from_cmdline) {
			prefixes_free(c->monitor);
			c->monitor = NULL;
			*monitor_from_cmdline = 1;
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
		replace(&c->file, optarg);
		break;
	case 'u':
		replace(&c->user, optarg);
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
		replace(&c->filter, optarg);
		break;
	default:
		usage(stderr);
		exit(1);
	}
	if (why != NULL)
		errx(1, "option %s: %s", option_name(ch), why);
}

void
sensor_options(struct sensor_conf *c, int argc, char **argv)
{
	int ch, monitor_from_cmdline = 0;

	memset(c, 0, sizeof(*c));
	c->interval = INTERVAL_DEFAULT;
	c->snaplen = SNAPLEN_DEFAULT;
	c->bufsize = BUFSIZE_DEFAULT;
	c->promisc = 1;
	load_config_first(c, argc, argv);
	while (
	    (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1)
		apply_option(c, ch, &monitor_from_cmdline);
	if (optind < argc) {
		free(c->filter);
		c->filter = join_args(argc - optind, argv + optind);
	}
	if (c->iface != NULL && c->file != NULL)
		errx(1,
		    "give either an interface (-i) or a file (-r), not both");
	if (c->iface == NULL && c->file == NULL)
		errx(1, "nothing to capture: give -i interface or -r file");
	if (!c->print)
		errx(1, "no output chosen: give --print");
}

void
sensor_conf_free(struct sensor_conf *c)
{
	free(c->iface);
	free(c->file);
	free(c->filter);
	free(c->user);
	prefixes_free(c->monitor);
}

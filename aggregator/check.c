/* The aggregator's checks before it writes; see check.h. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "civil.h"
#include "datadir.h"
#include "keyfile.h"
#include "options.h"
#include "preflight.h"
#include "server.h"
#include "sketchkey.h"
#include "zone.h"

/*
 * The daily summaries are exact for the zone's days only if each of its
 * midnights is an interval boundary.  Offsets since 2000 are whole
 * quarter hours, so only longer intervals need the walk over the days.
 */
int
check_zone(const char *zone, uint32_t step, char *err, size_t errlen)
{
	struct civil c = {2000, 1, 1};
	int64_t end = (int64_t)time(NULL) + 2 * 366 * 86400, t;

	if (zone_use(zone, err, errlen) == -1)
		return -1;
	if (900 % step == 0)
		return 0;
	for (; (t = zone_day_start(c)) < end; c = civil_add_days(c, 1))
		if (t % step != 0) {
			snprintf(err, errlen,
			    "timezone %s: midnight of %04d-%02d-%02d is not on "
			    "an interval boundary (-n %u), so days there "
			    "cannot be summed exactly; use an interval that "
			    "divides 900 seconds",
			    zone, c.y, c.m, c.d, step);
			return -1;
		}
	return 0;
}

/*
 * DATADIR/step holds the interval length the RRDs were made with; another
 * length would write rows the files cannot hold, so it is refused.
 */
int
check_step(const char *datadir, uint32_t step, char *err, size_t errlen)
{
	uint32_t have;

	if (datadir_step(datadir, &have) == 0) {
		if (have == step)
			return 0;
		snprintf(err, errlen,
		    "%s was written with an interval of %us; use -n %u",
		    datadir, have, have);
		return -1;
	}
	if (errno == ENOENT)
		return 0;
	/* Guessing could write RRDs of another step: the operator decides. */
	if (errno == EINVAL)
		snprintf(err, errlen,
		    "%s/step is damaged (no interval length in it); write the "
		    "interval the RRDs were made with into it",
		    datadir);
	else
		snprintf(err, errlen, "%s/step: %s", datadir, strerror(errno));
	return -1;
}

/*
 * The zone DATADIR's daily summaries are cut at must be the configured
 * one, or sums of different days would mix: a DATADIR that has daily
 * summaries keeps its zone until `rebuild` cuts them again.
 */
int
check_daily_zone(const char *datadir, const char *zone, char *have,
    size_t havelen, char *err, size_t errlen)
{
	char path[DATADIR_PATH_MAX];
	struct dirent *de;
	int used = 0;
	DIR *d;

	if (datadir_zone(datadir, have, havelen) == -1) {
		snprintf(err, errlen, "%s/timezone: %s", datadir,
		    errno == EINVAL ? "not a time zone name" : strerror(errno));
		return -1;
	}
	if (strcmp(have, zone) == 0)
		return 0;
	datadir_sum_dir(datadir, DATADIR_SUM_DAY, path, sizeof(path));
	if ((d = opendir(path)) != NULL) {
		while (!used && (de = readdir(d)) != NULL)
			used = strstr(de->d_name, ".sum") != NULL;
		closedir(d);
	}
	if (!used)
		return 0;
	snprintf(err, errlen,
	    "%s: the daily summaries are cut at %s midnights, not %s; "
	    "set timezone = %s, or run \"teiten-aggregator rebuild\" "
	    "with timezone = %s to cut them again",
	    datadir, have, zone, have, zone);
	return -1;
}

/* An empty keys file is fine: sensors are added later, with SIGHUP. */
static int
check_keys(const char *path, char *err, size_t errlen)
{
	struct keyring *kr;

	if ((kr = keyring_load(path, err, errlen)) == NULL)
		return -1;
	keyring_free(kr);
	return 0;
}

static int
check_sketch_key(const char *path, char *err, size_t errlen)
{
	struct sketchkey sk;
	char why[896];

	if (sketchkey_load(path, &sk, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "sketch_key_file %s", why);
		return -1;
	}
	return 0;
}

int
check_max_conns(unsigned want, rlim_t nofile, size_t *use, char *err,
    size_t errlen)
{
	size_t allowed = server_conns_allowed(nofile);

	*use = want == 0 || want > allowed ? allowed : want;
	if (want <= allowed)
		return 0;
	snprintf(err, errlen,
	    "max_connections %u is more than the open file limit of %ju "
	    "allows: at most %zu connections",
	    want, (uintmax_t)nofile, allowed);
	return -1;
}

/*
 * The daemon raises its open file limit to the hard limit, and so would
 * this process: a service manager may start it with another, though.  A
 * capped max_connections is a warning, as at start.
 */
static void
check_conns_warn(const struct agg_conf *c)
{
	struct rlimit rl;
	char why[256];
	size_t use;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	if (check_max_conns(c->max_conns, rl.rlim_max, &use, why,
		sizeof(why)) == -1)
		warnx("warning: %s", why);
}

int
check_config(const struct agg_conf *c)
{
	char err[1024], have[ZONE_NAME_MAX];
	int problems = 0, dir;

#define CHECK(expr) preflight_note((expr), err, &problems)
	CHECK(check_zone(c->timezone, c->interval, err, sizeof(err)));
	if (c->sketch_key_file != NULL)
		CHECK(check_sketch_key(c->sketch_key_file, err, sizeof(err)));
	if (!c->rebuild) {
		CHECK(check_keys(c->keys, err, sizeof(err)));
		CHECK(preflight_bind(c->listen, err, sizeof(err)));
		if (c->metrics != NULL)
			CHECK(preflight_metrics(c->metrics, err, sizeof(err)));
		check_conns_warn(c);
	}
	/* DATADIR, or the directory it would be made in; then its markers. */
	CHECK(dir = preflight_dir(c->datadir, 1, err, sizeof(err)));
	if (dir == 0)
		CHECK(check_step(c->datadir, c->interval, err, sizeof(err)));
	if (dir == 0 && !c->rebuild)
		CHECK(check_daily_zone(c->datadir, c->timezone, have,
		    sizeof(have), err, sizeof(err)));
#undef CHECK
	return problems;
}

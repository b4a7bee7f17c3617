/* The data directory's layout and its markers; see datadir.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "interval.h"
#include "keyidx.h"
#include "log.h"
#include "parse.h"

/*
 * Part of the layout, not proto_name(): renaming a protocol's label must
 * not move its files.
 */
static const char *const proto_dirs[PROTO_COUNT] = {
    [PROTO_TCP] = "tcp",
    [PROTO_UDP] = "udp",
    [PROTO_ICMP] = "icmp",
    [PROTO_ICMP6] = "icmp6",
};

static const char *const marker_names[DATADIR_MARKERS] = {
    [DATADIR_STEP] = "step",
    [DATADIR_LAST_FINAL] = "last_final",
    [DATADIR_GENERATION] = "generation",
    [DATADIR_CATCHUP] = "catchup",
    [DATADIR_TIMEZONE] = "timezone",
    [DATADIR_REBUILD] = "rebuild",
    [DATADIR_REBUILT] = "rebuilt",
};

static const char *const rebuilt_states[] = {
    [REBUILT_DERIVING] = "deriving",
    [REBUILT_DONE] = "done",
    [REBUILT_FAILED] = "failed",
};

static const char *const sum_names[DATADIR_SUMS] = {
    [DATADIR_SUM_HOUR] = "hour",
    [DATADIR_SUM_DAY] = "day",
};

const char *
datadir_proto(enum proto p)
{
	if ((unsigned)p >= PROTO_COUNT)
		return "?";
	return proto_dirs[p];
}

void
datadir_marker_path(const char *datadir, enum datadir_marker m, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/%s", datadir, marker_names[m]);
}

void
datadir_archive_dir(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/archive", datadir);
}

void
datadir_rrd_dir(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/rrd", datadir);
}

void
datadir_proto_dir(const char *datadir, enum proto p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/rrd/%s", datadir, datadir_proto(p));
}

void
datadir_key_rrd(const char *datadir, uint32_t idx, char *buf, size_t len)
{
	snprintf(buf, len, "%s/rrd/%s/%u.rrd", datadir,
	    datadir_proto(keyidx_proto(idx)), keyidx_key(idx));
}

void
datadir_sensors_rrd(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/rrd/sensors.rrd", datadir);
}

void
datadir_sensor_dir(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/rrd/sensor", datadir);
}

void
datadir_sensor_rrd(const char *datadir, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/rrd/sensor/%s.rrd", datadir, id);
}

void
datadir_faults_dir(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/faults", datadir);
}

void
datadir_faults_rrd(const char *datadir, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/faults/%s.rrd", datadir, id);
}

void
datadir_summary_dir(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/summary", datadir);
}

void
datadir_sum_dir(const char *datadir, enum datadir_sum k, char *buf, size_t len)
{
	snprintf(buf, len, "%s/summary/%s", datadir, sum_names[k]);
}

void
datadir_sum_bucket(const char *datadir, enum datadir_sum k, int64_t start,
    char *buf, size_t len)
{
	snprintf(buf, len, "%s/summary/%s/%" PRId64 ".sum", datadir,
	    sum_names[k], start);
}

void
datadir_sketch_bucket(const char *datadir, enum datadir_sum k, int64_t start,
    char *buf, size_t len)
{
	snprintf(buf, len, "%s/summary/%s/%" PRId64 ".hll", datadir,
	    sum_names[k], start);
}

void
datadir_sens_bucket(const char *datadir, enum datadir_sum k, int64_t start,
    char *buf, size_t len)
{
	snprintf(buf, len, "%s/summary/%s/%" PRId64 ".sens", datadir,
	    sum_names[k], start);
}

void
datadir_catchup_tree(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/catchup.d", datadir);
}

/* A marker's number, or dflt if absent or holding none. */
static int64_t
marker_read(const char *datadir, enum datadir_marker m, int64_t dflt)
{
	char path[DATADIR_PATH_MAX];
	long long v;
	FILE *f;

	datadir_marker_path(datadir, m, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		return dflt;
	if (fscanf(f, "%lld", &v) != 1)
		v = dflt;
	fclose(f);
	return (int64_t)v;
}

int64_t
datadir_last_final(const char *datadir)
{
	return marker_read(datadir, DATADIR_LAST_FINAL, INT64_MIN);
}

int64_t
datadir_generation(const char *datadir)
{
	return marker_read(datadir, DATADIR_GENERATION, 0);
}

int
datadir_has_catchup(const char *datadir)
{
	char path[DATADIR_PATH_MAX];

	datadir_marker_path(datadir, DATADIR_CATCHUP, path, sizeof(path));
	return access(path, F_OK) == 0;
}

int
datadir_step(const char *datadir, uint32_t *step)
{
	char path[DATADIR_PATH_MAX], buf[32];
	uint64_t v;
	FILE *f;

	datadir_marker_path(datadir, DATADIR_STEP, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_u64(buf, 1, INTERVAL_MAX, &v) == -1) {
		errno = EINVAL;
		return -1;
	}
	*step = (uint32_t)v;
	return 0;
}

int
datadir_zone(const char *datadir, char *buf, size_t len)
{
	char path[DATADIR_PATH_MAX], line[128];
	size_t n;
	FILE *f;

	datadir_marker_path(datadir, DATADIR_TIMEZONE, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			return -1;
		snprintf(buf, len, "UTC");
		return 0;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (n == 0 || n >= len ||
	    line[strspn(line,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz"
		"0123456789/_+-.")] != '\0') {
		errno = EINVAL;
		return -1;
	}
	snprintf(buf, len, "%s", line);
	return 0;
}

int64_t
datadir_rebuild(const char *datadir)
{
	return marker_read(datadir, DATADIR_REBUILD, 0);
}

const char *
datadir_rebuilt_state(enum datadir_rebuilt_state st)
{
	return rebuilt_states[st];
}

int
datadir_rebuilt(const char *datadir, struct datadir_rebuilt *r)
{
	char path[DATADIR_PATH_MAX], state[16];
	long long id;
	unsigned long long done, total;
	size_t i;
	FILE *f;
	int n;

	datadir_marker_path(datadir, DATADIR_REBUILT, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fscanf(f, "%lld %15s %llu %llu", &id, state, &done, &total);
	fclose(f);
	if (n != 4)
		return -1;
	for (i = 0; i < sizeof(rebuilt_states) / sizeof(rebuilt_states[0]); i++)
		if (strcmp(state, rebuilt_states[i]) == 0) {
			r->id = (int64_t)id;
			r->state = (enum datadir_rebuilt_state)i;
			r->done = (uint64_t)done;
			r->total = (uint64_t)total;
			return 0;
		}
	return -1;
}

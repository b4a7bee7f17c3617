/* Time zones; see zone.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zone.h"

static char current[ZONE_NAME_MAX] = "UTC";
static int chosen; /* zone_use() succeeded: local time is that zone */

/*
 * A name from tzdata: letters, digits and "/_+-", no "." at the start of
 * a component, so that it cannot leave the zoneinfo directory.
 */
static const char *
zone_name_check(const char *name)
{
	const char *p;

	if (name[0] == '\0' || strlen(name) >= ZONE_NAME_MAX)
		return "not a time zone name";
	if (name[0] == '/')
		return "give the zone's name (Asia/Tokyo), not a path";
	for (p = name; *p != '\0'; p++) {
		if (*p == '.' && (p == name || p[-1] == '/'))
			return "not a time zone name";
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
			   "Z"
			   "0123456789/_+-.",
			*p) == NULL)
			return "not a time zone name";
	}
	return NULL;
}

/* The zone's file must be a TZif file: glibc reads anything else as UTC. */
static const char *
zone_file_check(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	FILE *f;
	int ok;

	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT
		    ? "no such time zone (is tzdata installed?)"
		    : strerror(errno);
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok ? NULL : "not a time zone file";
}

int
zone_use(const char *name, char *err, size_t errlen)
{
	const char *bad, *tz = name;

	if ((bad = zone_name_check(name)) == NULL &&
	    (bad = zone_file_check(name)) != NULL && strcmp(name, "UTC") == 0) {
		tz = "UTC0"; /* UTC needs no tzdata */
		bad = NULL;
	}
	if (bad != NULL) {
		snprintf(err, errlen, "time zone %s: %s", name, bad);
		return -1;
	}
	if (setenv("TZ", tz, 1) == -1) {
		snprintf(err, errlen, "time zone %s: %s", name,
		    strerror(errno));
		return -1;
	}
	tzset();
	snprintf(current, sizeof(current), "%s", name);
	chosen = 1;
	return 0;
}

const char *
zone_name(void)
{
	return current;
}

static void
zone_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	/* Until a zone is chosen, UTC, whatever the host's local time. */
	if ((chosen ? localtime_r(&tt, tm) : gmtime_r(&tt, tm)) == NULL)
		memset(tm, 0, sizeof(*tm));
}

struct civil
zone_date(int64_t t, int *secs)
{
	struct tm tm;
	struct civil c;

	zone_tm(t, &tm);
	c.y = tm.tm_year + 1900;
	c.m = tm.tm_mon + 1;
	c.d = tm.tm_mday;
	if (secs != NULL)
		*secs = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return c;
}

long
zone_offset(int64_t t)
{
	struct tm tm;

	zone_tm(t, &tm);
	return tm.tm_gmtoff;
}

/*
 * Offsets stay within a day of UTC, so the day starts within 26 hours of
 * its UTC midnight; the date only moves forward with time, so a binary
 * search finds its first second without trusting mktime() in a gap.
 */
int64_t
zone_day_start(struct civil c)
{
	int64_t lo = civil_days(c) * 86400 - 26 * 3600;
	int64_t hi = lo + 52 * 3600, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (civil_cmp(zone_date(mid, NULL), c) >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void
zone_minute(int64_t t, char *buf, size_t len)
{
	struct tm tm;

	zone_tm(t, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

void
zone_iso(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	long off;

	zone_tm(t, &tm);
	off = tm.tm_gmtoff;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 3600,
	    labs(off) % 3600 / 60);
}

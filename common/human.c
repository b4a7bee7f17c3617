/* Times, lengths of time and plurals for log lines; see human.h. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "civil.h"
#include "human.h"

char *
iso8601(int64_t t, char buf[static ISO8601_LEN])
{
	int64_t days, secs;
	struct civil c;

	/* Years 0 to 9999: 4 digits, as ISO 8601 writes them without sign. */
	if (t < -62167219200 || t > 253402300799) {
		snprintf(buf, ISO8601_LEN, "%" PRId64, t);
		return buf;
	}
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	c = civil_from_days(days);
	snprintf(buf, ISO8601_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.y, c.m,
	    c.d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	return buf;
}

char *
human_duration(int64_t secs, char *buf, size_t len)
{
	static const struct {
		int64_t secs;
		const char *name;
	} unit[] = {{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}};
	size_t i;
	int64_t big, small;

	if (secs < 0)
		secs = 0;
	/* The two largest units that apply: enough for a log line. */
	for (i = 0; i < 3 && secs < unit[i].secs; i++)
		;
	big = secs / unit[i].secs;
	if (i == 3 || (small = secs % unit[i].secs / unit[i + 1].secs) == 0)
		snprintf(buf, len, "%" PRId64 " %s", big, unit[i].name);
	else
		snprintf(buf, len, "%" PRId64 " %s %" PRId64 " %s", big,
		    unit[i].name, small, unit[i + 1].name);
	return buf;
}

const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

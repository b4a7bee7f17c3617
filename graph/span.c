/* Graph and ranking windows; see span.h. */
#include <string.h>

#include "civil.h"
#include "span.h"
#include "zone.h"

/* Hour-aligned windows are 24-hour days; day-aligned ones the zone's. */
static const struct {
	const char *name;
	int days, by_day;
	unsigned unit;
} spans[SPAN_COUNT] = {
    [SPAN_DAY] = {"day", 1, 0, 60},
    [SPAN_WEEK] = {"week", 7, 0, 3600},
    [SPAN_MONTH] = {"month", 30, 1, 3600},
    [SPAN_QUARTER] = {"quarter", 91, 1, 3600},
    [SPAN_YEAR] = {"year", 365, 1, 3600},
};

static int64_t
floor_to(int64_t t, int64_t a)
{
	int64_t q = t / a;

	if (t % a < 0)
		q--;
	return q * a;
}

void
span_make(enum span_kind k, int64_t end, struct span *s)
{
	s->kind = k;
	s->name = spans[k].name;
	s->unit = spans[k].unit;
	if (!spans[k].by_day) {
		s->end = floor_to(end, 3600);
		s->start = s->end - (int64_t)spans[k].days * 86400;
		return;
	}
	s->end = zone_day_start(zone_date(end, NULL));
	s->start = zone_day_start(
	    civil_add_days(zone_date(s->end, NULL), -spans[k].days));
}

void
span_previous(const struct span *s, struct span *prev)
{
	*prev = *s;
	prev->end = s->start;
	if (!spans[s->kind].by_day)
		prev->start = s->start - (s->end - s->start);
	else
		prev->start =
		    zone_day_start(civil_add_days(zone_date(s->start, NULL),
			-spans[s->kind].days));
}

int
span_from_name(const char *name)
{
	int k;

	for (k = 0; k < SPAN_COUNT; k++)
		if (strcmp(name, spans[k].name) == 0)
			return k;
	return -1;
}

const char *
span_name(enum span_kind k)
{
	return (unsigned)k < SPAN_COUNT ? spans[k].name : "?";
}

/* Graph and ranking windows; see span.h. */
#include <string.h>

#include "span.h"

static const struct {
	const char *name;
	int64_t len, align;
	unsigned unit;
} spans[SPAN_COUNT] = {
    [SPAN_DAY] = {"day", 86400, 3600, 60},
    [SPAN_WEEK] = {"week", 7 * 86400, 3600, 3600},
    [SPAN_MONTH] = {"month", 30 * 86400, 86400, 3600},
    [SPAN_QUARTER] = {"quarter", 91 * 86400, 86400, 3600},
    [SPAN_YEAR] = {"year", 365 * 86400, 86400, 3600},
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
	s->end = floor_to(end, spans[k].align);
	s->start = s->end - spans[k].len;
	s->unit = spans[k].unit;
}

void
span_previous(const struct span *s, struct span *prev)
{
	*prev = *s;
	prev->end = s->start;
	prev->start = s->start - (s->end - s->start);
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

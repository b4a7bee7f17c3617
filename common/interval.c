/* Interval lengths from text; see interval.h. */
#include "interval.h"
#include "parse.h"

int
interval_parse(const char *s, uint32_t *len)
{
	uint64_t v;

	if (parse_u64(s, 1, INTERVAL_MAX, &v) == -1)
		return -1;
	*len = (uint32_t)v;
	return 0;
}

/*
 * Periods as analysts name them: 2008 (a year), 2008-03 (a month), 2008Q1
 * (a calendar quarter), FY2007 (a fiscal year, starting in a configured
 * month), 2008-03-31 (a day) and 2006-11-01..2008-03-31 (inclusive
 * dates).  A period is a range of dates; zone.h turns it into instants
 * at the configured zone's midnights.
 */
#ifndef TEITEN_PERIOD_H
#define TEITEN_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#include "civil.h"

enum period_kind {
	PERIOD_YEAR,
	PERIOD_QUARTER,
	PERIOD_MONTH,
	PERIOD_FY,
	PERIOD_DAY,
	PERIOD_RANGE
};

struct period {
	enum period_kind kind;
	int fy_month; /* the fiscal year's first month, 1-12 */
	struct civil first, last; /* inclusive */
};

#define PERIOD_FY_MONTH 4 /* April, as Japan's fiscal year */
#define PERIOD_NAME_MAX 32

/*
 * Parse s; fy_month is the fiscal year's first month.  0, or -1 with the
 * reason in err (which quotes s).
 */
int period_parse(const char *s, int fy_month, struct period *, char *err,
    size_t errlen);
/* The name period_parse() reads back: 2008Q1, FY2007, 2006-11-01..2008-03-31. */
void period_name(const struct period *, char *buf, size_t len);
/*
 * The period of the same kind just before: the previous quarter, or for a
 * range as many days ending the day before it starts.
 */
struct period period_previous(const struct period *);
/* Days in the period. */
int64_t period_days(const struct period *);
/* [*start, *end) in the zone in use (zone.h). */
void period_bounds(const struct period *, int64_t *start, int64_t *end);

#endif

/*
 * The windows the graphs and rankings use: day, week, month (30 days),
 * quarter (91 days), year (365 days), ending at a given time rounded down
 * to the UTC hour (day, week: 24 hours a day) or to midnight in the zone
 * in use (longer windows: the zone's days, 23 or 25 hours around a change
 * of clocks), so that a window is made of whole summary buckets.
 */
#ifndef TEITEN_SPAN_H
#define TEITEN_SPAN_H

#include <stdint.h>

enum span_kind {
	SPAN_DAY,
	SPAN_WEEK,
	SPAN_MONTH,
	SPAN_QUARTER,
	SPAN_YEAR,
	SPAN_COUNT
};

struct span {
	enum span_kind kind;
	const char *name; /* "day", "week", ... */
	int64_t start, end;
	unsigned unit; /* y axis unit in seconds: 60 (day window) or 3600 */
};

/* The window of kind ending at end (rounded down). */
void span_make(enum span_kind, int64_t end, struct span *);
/* The window of the same length just before s. */
void span_previous(const struct span *s, struct span *prev);
/* By name; returns -1 if unknown. */
int span_from_name(const char *);
const char *span_name(enum span_kind);

#endif

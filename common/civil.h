/*
 * Calendar dates without a zone: the proleptic Gregorian calendar, days
 * counted from 1970-01-01 (as H. Hinnant's days_from_civil does), so that
 * a range of dates can be walked and compared without mktime().
 */
#ifndef TEITEN_CIVIL_H
#define TEITEN_CIVIL_H

#include <stdint.h>

struct civil {
	int y, m, d; /* year, month 1-12, day 1-31 */
};

/* 1 if the date exists (years 1 to 9999), else 0. */
int civil_valid(struct civil);
int civil_month_days(int y, int m);
/* Days since 1970-01-01, negative before it. */
int64_t civil_days(struct civil);
struct civil civil_from_days(int64_t days);
struct civil civil_add_days(struct civil, int64_t days);
/* The first day of the month n months after c's (n may be negative). */
struct civil civil_add_months(struct civil, int n);
/* n decimal digits exactly at *s, advancing it; -1 (not moved) if not. */
int civil_digits(const char **s, int n);
/* A date YYYY-MM-DD that exists, at *s, advancing it; 0, or -1. */
int civil_scan(const char **s, struct civil *);
/* <0, 0, >0 as a is before, equal to or after b. */
int civil_cmp(struct civil a, struct civil b);

#endif

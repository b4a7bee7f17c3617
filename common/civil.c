/* Calendar dates; see civil.h. */
#include <ctype.h>

#include "civil.h"

int
civil_digits(const char **s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return v;
}

int
civil_scan(const char **s, struct civil *c)
{
	const char *p = *s;

	if ((c->y = civil_digits(&p, 4)) == -1 || *p++ != '-' ||
	    (c->m = civil_digits(&p, 2)) == -1 || *p++ != '-' ||
	    (c->d = civil_digits(&p, 2)) == -1 || !civil_valid(*c))
		return -1;
	*s = p;
	return 0;
}

int
civil_month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12)
		return 0;
	return days[m - 1] + (m == 2 && leap);
}

int
civil_valid(struct civil c)
{
	return c.y >= 1 && c.y <= 9999 && c.m >= 1 && c.m <= 12 && c.d >= 1 &&
	    c.d <= civil_month_days(c.y, c.m);
}

/* Years counted from March, so that the leap day ends the year. */
int64_t
civil_days(struct civil c)
{
	int64_t y = c.y - (c.m <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (c.m + (c.m > 2 ? -3 : 9)) + 2) / 5 + c.d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

struct civil
civil_from_days(int64_t z)
{
	struct civil c;
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c.d = (int)(doy - (153 * mp + 2) / 5 + 1);
	c.m = (int)(mp < 10 ? mp + 3 : mp - 9);
	c.y = (int)(yoe + era * 400 + (c.m <= 2));
	return c;
}

struct civil
civil_add_days(struct civil c, int64_t n)
{
	return civil_from_days(civil_days(c) + n);
}

struct civil
civil_add_months(struct civil c, int n)
{
	int m = c.y * 12 + (c.m - 1) + n;
	struct civil r;

	r.y = m / 12;
	r.m = m % 12 + 1;
	r.d = 1;
	return r;
}

int
civil_cmp(struct civil a, struct civil b)
{
	if (a.y != b.y)
		return a.y < b.y ? -1 : 1;
	if (a.m != b.m)
		return a.m < b.m ? -1 : 1;
	return a.d < b.d ? -1 : a.d > b.d;
}

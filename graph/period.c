/* Named periods; see period.h. */
#include <stdio.h>
#include <string.h>

#include "period.h"
#include "zone.h"

static void
month_span(struct period *p, int y, int m, int months)
{
	p->first = (struct civil){y, m, 1};
	p->last = civil_add_days(civil_add_months(p->first, months), -1);
}

static int
parse_range(const char *s, struct period *p)
{
	if (civil_scan(&s, &p->first) == -1)
		return -1;
	p->kind = PERIOD_DAY;
	p->last = p->first;
	if (*s == '\0')
		return 0;
	if (strncmp(s, "..", 2) != 0)
		return -1;
	s += 2;
	p->kind = PERIOD_RANGE;
	if (civil_scan(&s, &p->last) == -1 || *s != '\0')
		return -1;
	return 0;
}

int
period_parse(const char *s, int fy_month, struct period *p, char *err,
    size_t errlen)
{
	const char *q = s;
	int y, n = 0;

	memset(p, 0, sizeof(*p));
	p->fy_month =
	    fy_month >= 1 && fy_month <= 12 ? fy_month : PERIOD_FY_MONTH;
	if ((q[0] == 'F' || q[0] == 'f') && (q[1] == 'Y' || q[1] == 'y')) {
		q += 2;
		if ((y = civil_digits(&q, 4)) < 1 || *q != '\0')
			goto bad;
		p->kind = PERIOD_FY;
		month_span(p, y, p->fy_month, 12);
	} else if (strlen(s) == 4 && (y = civil_digits(&q, 4)) >= 1) {
		p->kind = PERIOD_YEAR;
		month_span(p, y, 1, 12);
	} else if (strlen(s) == 6 && (y = civil_digits(&q, 4)) >= 1 &&
	    (*q == 'Q' || *q == 'q') && q[1] >= '1' && q[1] <= '4') {
		p->kind = PERIOD_QUARTER;
		month_span(p, y, 3 * (q[1] - '1') + 1, 3);
	} else if (strlen(s) == 7 && (y = civil_digits(&q, 4)) >= 1 &&
	    *q++ == '-' && (n = civil_digits(&q, 2)) >= 1 && n <= 12) {
		p->kind = PERIOD_MONTH;
		month_span(p, y, n, 1);
	} else if (parse_range(s, p) == -1)
		goto bad;
	if (civil_cmp(p->first, p->last) > 0) {
		snprintf(err, errlen, "period %s ends before it starts", s);
		return -1;
	}
	if (!civil_valid(p->last)) /* FY9999 */
		goto bad;
	return 0;
bad:
	snprintf(err, errlen,
	    "period %s: not YYYY, YYYY-MM, YYYYQ1-4, FYYYYY, YYYY-MM-DD or "
	    "YYYY-MM-DD..YYYY-MM-DD",
	    s);
	return -1;
}

void
period_name(const struct period *p, char *buf, size_t len)
{
	const struct civil *a = &p->first, *b = &p->last;

	switch (p->kind) {
	case PERIOD_YEAR:
		snprintf(buf, len, "%04d", a->y);
		break;
	case PERIOD_QUARTER:
		snprintf(buf, len, "%04dQ%d", a->y, (a->m - 1) / 3 + 1);
		break;
	case PERIOD_MONTH:
		snprintf(buf, len, "%04d-%02d", a->y, a->m);
		break;
	case PERIOD_FY:
		snprintf(buf, len, "FY%04d", a->y);
		break;
	case PERIOD_DAY:
		snprintf(buf, len, "%04d-%02d-%02d", a->y, a->m, a->d);
		break;
	case PERIOD_RANGE:
		snprintf(buf, len, "%04d-%02d-%02d..%04d-%02d-%02d", a->y, a->m,
		    a->d, b->y, b->m, b->d);
		break;
	}
}

int64_t
period_days(const struct period *p)
{
	return civil_days(p->last) - civil_days(p->first) + 1;
}

struct period
period_previous(const struct period *p)
{
	struct period r = *p;
	int months;

	switch (p->kind) {
	case PERIOD_YEAR:
	case PERIOD_FY:
		months = 12;
		break;
	case PERIOD_QUARTER:
		months = 3;
		break;
	case PERIOD_MONTH:
		months = 1;
		break;
	default:
		r.last = civil_add_days(p->first, -1);
		r.first = civil_add_days(p->first, -period_days(p));
		return r;
	}
	r.first = civil_add_months(p->first, -months);
	r.last = civil_add_days(p->first, -1);
	return r;
}

void
period_bounds(const struct period *p, int64_t *start, int64_t *end)
{
	*start = zone_day_start(p->first);
	*end = zone_day_start(civil_add_days(p->last, 1));
}

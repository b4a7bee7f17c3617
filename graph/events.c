/* The annotations file; see events.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "events.h"
#include "keyname.h"
#include "xmalloc.h"
#include "zone.h"

#define LINE_MAX_ 2048

/* YYYY-MM-DD[THH:MM] in the zone in use. */
static const char *
parse_when(const char *w, int64_t *t)
{
	struct civil c;
	int hh = 0, mm = 0;
	int64_t day, next;

	if (civil_scan(&w, &c) == -1)
		return "not a date like 2008-01-15 or 2008-01-15T09:30";
	if (*w == 'T') {
		w++;
		if ((hh = civil_digits(&w, 2)) == -1 || *w++ != ':' ||
		    (mm = civil_digits(&w, 2)) == -1 || hh > 23 || mm > 59)
			return "not a time like 2008-01-15T09:30";
	}
	if (*w != '\0')
		return "not a date like 2008-01-15 or 2008-01-15T09:30";
	day = zone_day_start(c);
	next = zone_day_start(civil_add_days(c, 1));
	/* Wall-clock time from midnight, as the clock read; a time that a
	 * change of clocks skipped or repeated is taken at face value. */
	*t = day + hh * 3600 + mm * 60 -
	    (zone_offset(day + hh * 3600 + mm * 60) - zone_offset(day));
	if (*t < day || *t >= next)
		return "not a time of that day in this zone";
	return NULL;
}

static int
is_url(const char *w)
{
	return strncmp(w, "http://", 7) == 0 || strncmp(w, "https://", 8) == 0;
}

/* One line, split into words in place.  NULL or the reason. */
static const char *
parse_line(char *line, struct event *e)
{
	char *words[256], *p, *save = NULL;
	const char *why;
	size_t n = 0, i, first_url, len;

	for (p = strtok_r(line, " \t\r", &save); p != NULL;
	     p = strtok_r(NULL, " \t\r", &save)) {
		if (n == sizeof(words) / sizeof(words[0]))
			return "too many words";
		words[n++] = p;
	}
	if (n < 3)
		return "want WHEN KEY TEXT [URL...]";
	if ((why = parse_when(words[0], &e->t)) != NULL)
		return why;
	if (strcmp(words[1], "*") == 0)
		e->all = 1;
	else if (key_parse(words[1], &e->idx) == -1)
		return "not a key like tcp/2967, nor \"*\"";
	for (first_url = n; first_url > 2 && is_url(words[first_url - 1]);
	     first_url--)
		;
	if (first_url == 2)
		return "no text before the URLs";
	if (n - first_url > EVENT_URLS)
		return "more than 4 URLs";
	for (i = 2, len = 0; i < first_url; i++) {
		if (len + strlen(words[i]) + (len > 0) >= EVENT_TEXT_MAX)
			return "text longer than 159 characters";
		len += (size_t)snprintf(e->text + len, EVENT_TEXT_MAX - len,
		    "%s%s", len > 0 ? " " : "", words[i]);
	}
	for (i = first_url; i < n; i++) {
		if (strlen(words[i]) >= EVENT_URL_MAX)
			return "a URL longer than 399 characters";
		for (p = words[i]; *p != '\0'; p++)
			if (!isgraph((unsigned char)*p) ||
			    strchr("\"<>\\`", *p))
				return "a URL with a character it cannot have";
		snprintf(e->url[e->nurl++], EVENT_URL_MAX, "%s", words[i]);
	}
	for (p = e->text; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			return "a control character in the text";
	return NULL;
}

static int
event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int
events_load(const char *path, struct events *ev, char *err, size_t errlen)
{
	char line[LINE_MAX_], *p;
	const char *why = NULL;
	size_t lineno = 0, cap = 0;
	struct event e;
	FILE *f;

	memset(ev, 0, sizeof(*ev));
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (why == NULL && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			why = "line longer than 2047 characters";
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		memset(&e, 0, sizeof(e));
		e.line = lineno;
		if ((why = parse_line(p, &e)) != NULL)
			break;
		if (ev->n == EVENTS_MAX) {
			why = "more than 10000 events";
			break;
		}
		if (ev->n == cap) {
			cap = cap ? cap * 2 : 16;
			ev->v = xreallocarray(ev->v, cap, sizeof(*ev->v));
		}
		ev->v[ev->n++] = e;
	}
	if (why == NULL && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		events_free(ev);
		return -1;
	}
	fclose(f);
	if (why != NULL) {
		snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
		events_free(ev);
		return -1;
	}
	if (ev->n > 0)
		qsort(ev->v, ev->n, sizeof(*ev->v), event_cmp);
	return 0;
}

void
events_free(struct events *ev)
{
	free(ev->v);
	memset(ev, 0, sizeof(*ev));
}

int
event_applies(const struct event *e, int64_t start, int64_t end,
    const uint32_t *idx, size_t n)
{
	size_t i;

	if (e->t < start || e->t >= end)
		return 0;
	if (e->all)
		return 1;
	for (i = 0; i < n; i++)
		if (idx[i] == e->idx)
			return 1;
	return 0;
}

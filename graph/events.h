/*
 * Notable events: an analyst's annotations file, one event per line,
 *
 *   WHEN KEY TEXT [URL...]
 *
 * WHEN a date (2008-01-15, its midnight) or a date and time
 * (2008-01-15T09:30) in the zone in use (zone.h), KEY a key like tcp/2967
 * or "*" for every graph, TEXT a few words, URLs trailing words that start
 * with http:// or https://.  Blank lines and lines starting with "#" are
 * skipped.  Events are drawn as vertical rules on the graphs whose range
 * and keys include them and listed on the pages.  What events_load()
 * returns is the caller's, freed with events_free().
 */
#ifndef TEITEN_EVENTS_H
#define TEITEN_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define EVENT_TEXT_MAX 160
#define EVENT_URLS 4
#define EVENT_URL_MAX 400
#define EVENTS_MAX 10000

struct event {
	int64_t t;
	int all; /* KEY was "*" */
	uint32_t idx; /* else its key index (keyidx.h) */
	size_t line;
	char text[EVENT_TEXT_MAX];
	size_t nurl;
	char url[EVENT_URLS][EVENT_URL_MAX];
};

struct events {
	size_t n;
	struct event *v; /* in time order, then file order */
};

/*
 * Read path.  A malformed line is an error "PATH:LINE: reason" in err:
 * -1, nothing kept.  0 on success.
 */
int events_load(const char *path, struct events *, char *err, size_t errlen);
void events_free(struct events *);
/* 1 if e is in [start, end) and is for all keys or one of idx[0..n). */
int event_applies(const struct event *e, int64_t start, int64_t end,
    const uint32_t *idx, size_t n);

#endif

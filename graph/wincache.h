/*
 * Window rankings kept between runs of `teiten-graph site`.  A window read
 * from the summary costs a pass over every bucket in it (a year: 365 daily
 * buckets of up to 131,072 keys), yet a window only changes when a final
 * interval inside it is added or the data directory is rebuilt; the month,
 * quarter and year windows change once a day.  A cached window is used
 * only while the datadir's generation and the newest final interval inside
 * the window are those it was computed from.
 */
#ifndef TEITEN_WINCACHE_H
#define TEITEN_WINCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "window.h"

/*
 * The window [start, end) into w, from cachedir/<start>-<end>.win when it
 * is current, else from the summary (and then cached; a cache that cannot
 * be written is only slower).  A cache file that is damaged rather than
 * stale gets a warning naming it and is made again.  Returns 0, or -1
 * with a reason in err (from summary_window()).
 */
int wincache_window(const char *datadir, const char *cachedir,
    int64_t generation, int64_t last_final, int64_t start, int64_t end,
    struct window *w, char *err, size_t errlen);
/* The cache file name of a window: "<start>-<end>.win". */
void wincache_name(int64_t start, int64_t end, char *buf, size_t len);

#endif

/*
 * Checks that change nothing on disk, for the daemons' -t and for their
 * start-up before anything is created: a directory there to write in or
 * one that can be made, an address that can be bound.  Each returns 0, or
 * -1 with one line in err naming the path or address.
 */
#ifndef TEITEN_PREFLIGHT_H
#define TEITEN_PREFLIGHT_H

#include <stddef.h>

/*
 * path is a directory this process can write in, or up to create of its
 * last components are missing and the directory above them is writable.
 */
int preflight_dir(const char *path, int create, char *err, size_t errlen);
/* ADDR:PORT (as the aggregator's listen takes it) can be bound now. */
int preflight_bind(const char *listen, char *err, size_t errlen);
/* The same for the metrics address, the line saying "metrics: ...". */
int preflight_metrics(const char *addr, char *err, size_t errlen);
/* -t: when rc is -1, print err as one line and count it in *problems. */
void preflight_note(int rc, const char *err, int *problems);

#endif

/*
 * What the aggregator checks before it creates or changes anything: the
 * time zone, DATADIR's markers against the configuration, and, for -t,
 * every file and address the configuration names.  The check_ functions
 * return 0, or -1 with one line in err; they write nothing.
 */
#ifndef TEITEN_AGG_CHECK_H
#define TEITEN_AGG_CHECK_H

#include <sys/resource.h>

#include <stddef.h>
#include <stdint.h>

struct agg_conf;

/* zone exists and each of its midnights is on an interval boundary. */
int check_zone(const char *zone, uint32_t step, char *err, size_t errlen);
/* DATADIR/step, if there, holds step. */
int check_step(const char *datadir, uint32_t step, char *err, size_t errlen);
/*
 * The daily summaries DATADIR has, if any, are cut at zone's midnights.
 * *have gets the zone DATADIR records (UTC when it records none).
 */
int check_daily_zone(const char *datadir, const char *zone, char *have,
    size_t havelen, char *err, size_t errlen);
/*
 * *use gets the connection table's size: want (max_connections; 0 for
 * the default), or what an open file limit of nofile allows if that is
 * less or want is 0.  Returns -1 when want had to be capped.
 */
int check_max_conns(unsigned want, rlim_t nofile, size_t *use, char *err,
    size_t errlen);
/*
 * -t: every problem of the configuration as one line on standard error;
 * returns how many there were.
 */
int check_config(const struct agg_conf *);

#endif

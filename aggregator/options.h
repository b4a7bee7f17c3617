/*
 * The aggregator's settings from its config file (-c) and command line;
 * the command line wins.  agg_options() prints one line and exits
 * non-zero on any mistake, before anything is opened; what it fills in
 * is the caller's, freed with agg_conf_free().
 */
#ifndef TEITEN_AGG_OPTIONS_H
#define TEITEN_AGG_OPTIONS_H

#include <stdint.h>

struct agg_conf {
	char *listen, *datadir, *keys, *rrdcached;
	char *timezone; /* cuts the daily summaries at its midnights */
	char *metrics; /* ADDR:PORT serving /metrics, or NULL: none */
	/* The fleet's sketch key (sketchkey.h), or NULL: sketches not kept. */
	char *sketch_key_file;
	uint32_t interval;
	unsigned grace, active, skew, auth_timeout, late_settle;
	unsigned open_budget; /* MiB */
	unsigned queue_budget; /* MiB */
	unsigned log_summary; /* seconds between summary lines, 0: none */
	unsigned max_conns; /* max_connections; 0: as the open files allow */
	int no_sensor_sums; /* sensor_sums = no: no .sens files */
	char *config; /* the file read, or NULL */
	int foreground, verbose, rebuild;
	int test; /* -t: check everything, start nothing */
};

#define LOG_SUMMARY_DEFAULT 300

void agg_options(struct agg_conf *, int argc, char **argv);
void agg_conf_free(struct agg_conf *);

#endif

/*
 * The sensor's settings from its config file (-c) and command line; the
 * command line wins.  sensor_options() prints one line and exits non-zero
 * on any mistake, before anything is opened.
 */
#ifndef TEITEN_OPTIONS_H
#define TEITEN_OPTIONS_H

#include <stdint.h>

#include "prefix.h"

/* How -r reads a file: see capture_open_direct() in capture.h. */
enum sensor_reader {
	READER_AUTO, /* directly when the file allows, else through libpcap */
	READER_DIRECT, /* directly, or refuse the file */
	READER_LIBPCAP /* always through libpcap */
};

struct sensor_conf {
	char *iface;
	char *file;
	char *filter;
	char *user;
	struct prefixes *monitor; /* NULL: every destination */
	uint32_t interval;
	uint64_t max_gap; /* seconds; see tally.h */
	unsigned snaplen;
	unsigned bufsize;
	int promisc;
	int inbound_only;
	int print;
	int verbose;
	char *aggregator; /* HOST:PORT, or NULL */
	char *metrics; /* ADDR:PORT serving /metrics, or NULL: none */
	char *sensor_id;
	char *key_file;
	char *spool_dir; /* the spool itself */
	char *spool_base; /* default spool: the folder of one per sensor id */
	uint64_t spool_max;
	int spool_full; /* enum spool_full */
	unsigned give_up; /* -r -a: seconds without an ack before exiting */
	char *config; /* the file read, or NULL */
	int test; /* -t: check everything, start nothing */
	int reader; /* enum sensor_reader */
	/* The fleet's sketch key (sketchkey.h), or NULL: no sketches sent. */
	char *sketch_key_file;
	uint64_t sketch_memory; /* bytes of one interval's sketches */
	int sources; /* --print --sources: distinct sources and targets */
};

void sensor_options(struct sensor_conf *, int argc, char **argv);
void sensor_conf_free(struct sensor_conf *);
/*
 * SIGHUP: read the config file and command line again.  The key file's
 * name, if it changed, replaces now's; the settings that need a restart
 * and differ are listed in changed ("interval, monitor").  Returns -1 with
 * one line in err, now unchanged, if the file cannot be read or parsed.
 */
int sensor_options_reload(struct sensor_conf *now, int argc, char **argv,
    char *changed, size_t size, char *err, size_t errlen);

#endif

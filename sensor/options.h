/*
 * The sensor's settings from its config file (-c) and command line; the
 * command line wins.  sensor_options() prints one line and exits non-zero
 * on any mistake, before anything is opened.
 */
#ifndef TEITEN_OPTIONS_H
#define TEITEN_OPTIONS_H

#include <stdint.h>

#include "prefix.h"

struct sensor_conf {
	char *iface;
	char *file;
	char *filter;
	char *user;
	struct prefixes *monitor; /* NULL: every destination */
	uint32_t interval;
	unsigned snaplen;
	unsigned bufsize;
	int promisc;
	int print;
	int verbose;
};

void sensor_options(struct sensor_conf *, int argc, char **argv);
void sensor_conf_free(struct sensor_conf *);

#endif

/*
 * A program's options, each with its one-line help: one table gives
 * getopt_long its short and long options and --help its text, so that
 * neither can list an option the other lacks.  Nothing is allocated.
 */
#ifndef TEITEN_OPTDOC_H
#define TEITEN_OPTDOC_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

struct optdoc {
	const char *name; /* long name without "--"; NULL: short only */
	int has_arg; /* no_argument or required_argument */
	int val; /* the short option, or a value above 255 */
	const char *arg; /* the argument's name; NULL without one */
	const char *help; /* one line */
	unsigned cmds; /* the commands that take it, a mask; 0: all */
};

/* A table ends with an entry whose val is 0. */
#define OPTDOC_END \
	{ \
		NULL, 0, 0, NULL, NULL, 0 \
	}

/*
 * From d: getopt_long's long options into o (n entries, the last left
 * as the terminator) and its short options into s (slen bytes).  An
 * array too small is a bug: it aborts.
 */
void optdoc_getopt(const struct optdoc *d, struct option *o, size_t n, char *s,
    size_t slen);

/* One line per option that command mask cmd takes, for --help. */
void optdoc_print(FILE *f, const struct optdoc *d, unsigned cmd);

/* The entry getopt_long returned ch for; NULL for none. */
const struct optdoc *optdoc_find(const struct optdoc *d, int ch);

/* "--name", or "-c" without a long name, of entry o, in buf. */
const char *optdoc_name(const struct optdoc *o, char *buf, size_t len);

/* Whether command mask cmd takes entry o. */
int optdoc_takes(const struct optdoc *o, unsigned cmd);

#endif

/*
 * INI configuration files through inih, driven by a table of keys.  Each
 * key names its section and a setter; a setter returns NULL or a short
 * reason, which config_load() reports as "FILE:LINE: key: reason".
 */
#ifndef TEITEN_CONFIG_H
#define TEITEN_CONFIG_H

#include <stddef.h>

/* inih's line buffer (INI_MAX_LINE) less the newline and NUL. */
#define CONFIG_MAX_LINE 198

struct config_key {
	const char *section;
	const char *name;
	const char *(*set)(void *arg, const char *value);
};

/*
 * An entry whose setter is NULL makes its whole section ignored: one file
 * can configure several programs.
 * Load path, calling the setter of every key found.  Unknown sections or
 * keys, setter failures, lines over CONFIG_MAX_LINE characters and
 * unreadable files are errors: returns -1 with one line in err, else 0.
 */
int config_load(const char *path, const struct config_key *table, void *arg,
    char *err, size_t errlen);

/* Read when no -c is given; a missing default file is not an error. */
#define CONFIG_DEFAULT "/etc/teiten/teiten.conf"

/*
 * config_load() of path (given with -c), or, when path is NULL, of
 * CONFIG_DEFAULT if it exists.  *used becomes the file read, or NULL.
 */
int config_load_default(const char *path, const struct config_key *table,
    void *arg, const char **used, char *err, size_t errlen);

/* *slot (freed first) becomes a copy of value. */
void config_replace(char **slot, const char *value);
/* A setter cf_NAME storing the value as a string in field of a TYPE. */
#define CONFIG_STRING(name, type, field) \
	static const char *cf_##name(void *a, const char *v) \
	{ \
		config_replace(&((type *)a)->field, v); \
		return NULL; \
	}

struct option;
/*
 * The argument of option opt (-c FILE) if given, found before the other
 * options are parsed so that each of them can override the file; getopt
 * is then reset to scan argv from the start.  NULL if absent.
 */
const char *config_option(int argc, char **argv, const char *shortopts,
    const struct option *longopts, int opt);

#endif

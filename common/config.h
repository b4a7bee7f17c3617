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

#endif

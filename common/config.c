/* Table-driven INI loading on top of inih; see config.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "config.h"

struct config_ctx {
	const char		*path;
	const struct config_key	*table;
	void			*arg;
	char			 why[256];	/* first error only */
};

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_ctx *ctx = user;
	const struct config_key *k;
	const char *why;

	for (k = ctx->table; k->name != NULL; k++) {
		if (strcmp(k->section, section) != 0 ||
		    strcmp(k->name, name) != 0)
			continue;
		if ((why = k->set(ctx->arg, value)) == NULL)
			return 1;
		if (ctx->why[0] == '\0')
			snprintf(ctx->why, sizeof(ctx->why), "%s: %s", name,
			    why);
		return 0;
	}
	if (ctx->why[0] == '\0')
		snprintf(ctx->why, sizeof(ctx->why), "unknown key [%s] %s",
		    section, name);
	return 0;
}

int
config_load(const char *path, const struct config_key *table, void *arg,
    char *err, size_t errlen)
{
	struct config_ctx ctx = { path, table, arg, "" };
	FILE *f;
	int line;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	line = ini_parse_file(f, config_handler, &ctx);
	fclose(f);
	if (line == 0)
		return 0;
	if (line > 0 && ctx.why[0] != '\0')
		snprintf(err, errlen, "%s:%d: %s", path, line, ctx.why);
	else if (line > 0)
		snprintf(err, errlen, "%s:%d: syntax error", path, line);
	else
		snprintf(err, errlen, "%s: cannot parse", path);
	return -1;
}

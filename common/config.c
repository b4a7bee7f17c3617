/* Table-driven INI loading on top of inih; see config.h. */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "xmalloc.h"

/*
 * Debian's inih reads lines into a fixed 200-byte buffer and silently
 * splits longer ones; this reader stops at such a line instead, so that
 * the error names it.
 */
struct config_reader {
	FILE *f;
	char *buf;
	size_t cap;
	int line;
	int toolong; /* line number of the first overlong line */
};

static char *
config_read_line(char *str, int num, void *stream)
{
	struct config_reader *r = stream;
	ssize_t n;
	size_t len;

	if ((n = getline(&r->buf, &r->cap, r->f)) == -1)
		return NULL;
	r->line++;
	len = (size_t)n;
	/* Like fgets, str must hold the line, its newline and a NUL. */
	if (len + (r->buf[len - 1] == '\n' ? 1 : 2) > (size_t)num) {
		r->toolong = r->line;
		return NULL;
	}
	memcpy(str, r->buf, len + 1);
	return str;
}

struct config_ctx {
	const char *path;
	const struct config_key *table;
	void *arg;
	char why[256]; /* first error only */
};

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_ctx *ctx = user;
	const struct config_key *k;
	const char *why;

	for (k = ctx->table; k->name != NULL; k++) {
		if (strcmp(k->section, section) != 0)
			continue;
		if (k->set == NULL)
			return 1; /* another program's section */
		if (strcmp(k->name, name) != 0)
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
	struct config_ctx ctx = {path, table, arg, ""};
	struct config_reader r = {NULL, NULL, 0, 0, 0};
	struct stat st;
	int line, rerr;

	if ((r.f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* fopen() accepts a directory; reading it would look like EOF. */
	if (fstat(fileno(r.f), &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(r.f);
		return -1;
	}
	line = ini_parse_stream(config_read_line, &r, config_handler, &ctx);
	rerr = ferror(r.f) ? errno : 0;
	fclose(r.f);
	free(r.buf);
	if (rerr != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(rerr));
		return -1;
	}
	/* An error before the overlong line is the first one; report it. */
	if (r.toolong != 0 && (line == 0 || line > r.toolong)) {
		snprintf(err, errlen, "%s:%d: line longer than %d characters",
		    path, r.toolong, CONFIG_MAX_LINE);
		return -1;
	}
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

int
config_load_default(const char *path, const struct config_key *table, void *arg,
    const char **used, char *err, size_t errlen)
{
	*used = NULL;
	if (path == NULL) {
		path = CONFIG_DEFAULT;
		/* Only absence is forgiven: an unreadable default is an error. */
		if (access(path, F_OK) == -1 && errno == ENOENT)
			return 0;
	}
	if (config_load(path, table, arg, err, errlen) == -1)
		return -1;
	*used = path;
	return 0;
}

void
config_replace(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

const char *
config_option(int argc, char **argv, const char *shortopts,
    const struct option *longopts, int opt)
{
	const char *path = NULL;
	int ch;

	opterr = 0;
	optind = 0; /* from the start, also when called again (SIGHUP) */
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
		if (ch == opt)
			path = optarg;
	opterr = 1;
	optind = 0; /* glibc: scan from scratch, initialisation included */
	return path;
}

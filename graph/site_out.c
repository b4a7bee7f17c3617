/*
 * Writing the site's files: each is written under a temporary name beside
 * it and renamed, so a reader sees the old file or the new one, never half
 * of one.  site_fail, with which every part gives the run's reason for
 * failing, is here beside its first users.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "site_int.h"

int
site_fail(struct site *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(st->err, st->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
out_open(struct site *st, struct out *o, const char *rel)
{
	snprintf(o->path, sizeof(o->path), "%s/%s", st->outdir, rel);
	/* The pid keeps two overlapping runs off each other's temp file. */
	snprintf(o->tmp, sizeof(o->tmp), "%s.%ld.tmp", o->path, (long)getpid());
	if ((o->f = fopen(o->tmp, "w")) == NULL)
		return site_fail(st, "%s: %s", o->tmp, strerror(errno));
	return 0;
}

/*
 * The stream's error flag is sticky, so checking it once at the end
 * covers every fprintf before it.
 */
int
out_close(struct site *st, struct out *o)
{
	int bad = ferror(o->f), saved;

	if (fclose(o->f) == EOF || bad) {
		saved = bad ? EIO : errno;
		unlink(o->tmp);
		return site_fail(st, "%s: %s", o->tmp, strerror(saved));
	}
	if (rename(o->tmp, o->path) == -1) {
		saved = errno;
		unlink(o->tmp);
		return site_fail(st, "%s: %s", o->path, strerror(saved));
	}
	return 0;
}

/* Scratch directories for the unit tests; see tmpdir.h. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "tmpdir.h"

int
tmpdir_make(char *buf, size_t len, const char *name)
{
	if ((size_t)snprintf(buf, len, "/tmp/teiten-%s-XXXXXX", name) >= len)
		return -1;
	return mkdtemp(buf) == NULL ? -1 : 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

int
tmpdir_remove(const char *dir)
{
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

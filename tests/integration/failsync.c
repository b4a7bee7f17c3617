/*
 * LD_PRELOAD shim for durability tests: while the file named by
 * TEITEN_FAILSYNC exists, fsync and fdatasync fail with EIO, as they do
 * when a disk reports a write error.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int
failing(void)
{
	const char *path = getenv("TEITEN_FAILSYNC");

	return path != NULL && access(path, F_OK) == 0;
}

int
fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

	if (failing()) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int
fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

	if (failing()) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

/*
 * LD_PRELOAD shim for durability tests: while the file named by
 * TEITEN_FAILSYNC exists, fsync and fdatasync fail with EIO, as they do
 * when a disk reports a write error.  With TEITEN_HOLDSYNC naming a FIFO,
 * the first sync of a file of an archive directory (a path ending in
 * /archive, or holding /archive/) waits, as on a slow disk: it opens the
 * FIFO for reading, so that the test's open for writing returns once a
 * sync waits, and reads it until the test closes its end; later syncs
 * then go on at once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static int released;

static int
failing(void)
{
	const char *path = getenv("TEITEN_FAILSYNC");

	return path != NULL && access(path, F_OK) == 0;
}

static int
in_archive(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;
	size_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	len = (size_t)n;
	return strstr(path, "/archive/") != NULL ||
	    (len >= 8 && strcmp(path + len - 8, "/archive") == 0);
}

static void
hold(int fd)
{
	const char *fifo = getenv("TEITEN_HOLDSYNC");
	ssize_t n;
	char c;
	int r;

	if (fifo == NULL || !in_archive(fd))
		return;
	pthread_mutex_lock(&hold_mu);
	if (!released && (r = open(fifo, O_RDONLY)) != -1) {
		while ((n = read(r, &c, 1)) != 0 && (n == 1 || errno == EINTR))
			;
		close(r);
		released = 1;
	}
	pthread_mutex_unlock(&hold_mu);
}

int
fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

	hold(fd);
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

	hold(fd);
	if (failing()) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

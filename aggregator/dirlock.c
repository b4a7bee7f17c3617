/* The data directory's lock; see dirlock.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "dirlock.h"

static void
dirlock_path(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/lock", datadir);
}

/* The id written in an open lock file, 0 if none. */
static pid_t
dirlock_read(int fd)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || v <= 0 || v > 0x7fffffffL)
		return 0;
	return (pid_t)v;
}

int
dirlock_take(const char *datadir, pid_t *holder, char *err, size_t len)
{
	char path[DATADIR_PATH_MAX];
	int fd, saved;

	*holder = 0;
	if (mkdir(datadir, 0755) == -1 && errno != EEXIST) {
		saved = errno;
		snprintf(err, len, "%s: %s", datadir, strerror(saved));
		errno = saved;
		return -1;
	}
	dirlock_path(datadir, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		saved = errno;
		snprintf(err, len, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		if (saved == EWOULDBLOCK)
			*holder = dirlock_read(fd);
		snprintf(err, len, "%s: %s", path, strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	if (dirlock_set_pid(fd) == -1) {
		saved = errno;
		snprintf(err, len, "%s: %s", path, strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
dirlock_set_pid(int fd)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

pid_t
dirlock_holder(const char *datadir)
{
	char path[DATADIR_PATH_MAX];
	pid_t pid = 0;
	int fd;

	dirlock_path(datadir, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return 0;
	/* Free: nobody holds it, whatever id the file still has. */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		(void)flock(fd, LOCK_UN);
	else if (errno == EWOULDBLOCK)
		pid = dirlock_read(fd);
	close(fd);
	return pid;
}

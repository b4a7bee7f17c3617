/* The data directory's lock; see dirlock.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "dirlock.h"

/*
 * dirlock_holder() takes the lock for an instant to see whether it is
 * free: a start that meets it then tries again a little later.
 */
#define DIRLOCK_TRIES 10
#define DIRLOCK_PAUSE_MS 20

static void
dirlock_path(const char *datadir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/lock", datadir);
}

/* What an open lock file says of its holder. */
static void
dirlock_read(int fd, struct dirlock_holder *h)
{
	char buf[64];
	long v;
	ssize_t n;

	memset(h, 0, sizeof(*h));
	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %15s", &v, h->role) < 1 || v <= 0 ||
	    v > 0x7fffffffL) {
		h->role[0] = '\0';
		return;
	}
	h->pid = (pid_t)v;
}

static int
dirlock_fail(int fd, const char *path, char *err, size_t len)
{
	int saved = errno;

	snprintf(err, len, "%s: %s", path, strerror(saved));
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

int
dirlock_take(const char *datadir, const char *role, struct dirlock_holder *h,
    char *err, size_t len)
{
	char path[DATADIR_PATH_MAX];
	int fd, i;

	memset(h, 0, sizeof(*h));
	if (mkdir(datadir, 0755) == -1 && errno != EEXIST)
		return dirlock_fail(-1, datadir, err, len);
	dirlock_path(datadir, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return dirlock_fail(-1, path, err, len);
	for (i = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; i++) {
		if (errno != EWOULDBLOCK || i + 1 == DIRLOCK_TRIES) {
			if (errno == EWOULDBLOCK)
				dirlock_read(fd, h);
			return dirlock_fail(fd, path, err, len);
		}
		(void)poll(NULL, 0, DIRLOCK_PAUSE_MS);
	}
	if (dirlock_set(fd, role) == -1)
		return dirlock_fail(fd, path, err, len);
	return fd;
}

int
dirlock_set(int fd, const char *role)
{
	char buf[64];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(), role);
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int
dirlock_holder(const char *datadir, struct dirlock_holder *h)
{
	char path[DATADIR_PATH_MAX];
	int fd, rc = -1;

	memset(h, 0, sizeof(*h));
	dirlock_path(datadir, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	/* Free: nobody holds it, whatever the file still says. */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		(void)flock(fd, LOCK_UN);
	else if (errno == EWOULDBLOCK) {
		dirlock_read(fd, h);
		rc = 0;
	}
	close(fd);
	return rc;
}

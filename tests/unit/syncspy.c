/* Recording, failing, holding fsync and fdatasync; see syncspy.h. */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "syncspy.h"

#define SYNCSPY_MAX 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
	ino_t ino;
	int datasync;
} calls[SYNCSPY_MAX];
static size_t ncalls;
static int failing, holding, held;
static pthread_t last;

static int
syncspy(int fd, int datasync)
{
	struct stat st;
	int fail;

	if (fstat(fd, &st) == -1)
		return -1;
	pthread_mutex_lock(&mu);
	if (ncalls < SYNCSPY_MAX) {
		calls[ncalls].ino = st.st_ino;
		calls[ncalls].datasync = datasync;
		ncalls++;
	}
	last = pthread_self();
	held += holding;
	pthread_cond_broadcast(&cv);
	while (holding)
		pthread_cond_wait(&cv, &mu);
	fail = failing;
	pthread_mutex_unlock(&mu);
	if (fail) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(datasync ? SYS_fdatasync : SYS_fsync, fd);
}

int
fsync(int fd)
{
	return syncspy(fd, 0);
}

int
fdatasync(int fd)
{
	return syncspy(fd, 1);
}

void
syncspy_failing(int on)
{
	pthread_mutex_lock(&mu);
	failing = on;
	pthread_mutex_unlock(&mu);
}

void
syncspy_hold(int on)
{
	pthread_mutex_lock(&mu);
	holding = on;
	held = 0;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

void
syncspy_wait_held(void)
{
	pthread_mutex_lock(&mu);
	while (held == 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

pthread_t
syncspy_last_thread(void)
{
	pthread_t t;

	pthread_mutex_lock(&mu);
	t = last;
	pthread_mutex_unlock(&mu);
	return t;
}

void
syncspy_reset(void)
{
	pthread_mutex_lock(&mu);
	ncalls = 0;
	pthread_mutex_unlock(&mu);
}

size_t
syncspy_count(ino_t ino, int datasync)
{
	size_t i, n = 0;

	pthread_mutex_lock(&mu);
	for (i = 0; i < ncalls; i++)
		n += calls[i].ino == ino && calls[i].datasync == datasync;
	pthread_mutex_unlock(&mu);
	return n;
}

size_t
syncspy_total(void)
{
	size_t n;

	pthread_mutex_lock(&mu);
	n = ncalls;
	pthread_mutex_unlock(&mu);
	return n;
}

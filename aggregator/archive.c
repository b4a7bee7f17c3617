/* Per-interval append-only record files; see archive.h. */
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "human.h"
#include "bytes.h"
#include "archive.h"
#include "crc32c.h"
#include "datadir.h"
#include "frame.h"
#include "log.h"
#include "xmalloc.h"

/* Files kept open for appending; intervals arrive close together. */
#define ARCHIVE_FDS 32
/*
 * Evicted files whose appends the next batch must sync; beyond these an
 * eviction syncs at once, on the caller's thread.
 */
#define ARCHIVE_EVICTED 32
/* An entry is one record frame's payload. */
#define ARCHIVE_ENTRY_MAX FRAME_MAX_PAYLOAD

_Static_assert(ARCHIVE_MAX_FDS == 1 + ARCHIVE_FDS + ARCHIVE_EVICTED,
    "archive.h states the descriptors an archive holds");

struct archive_fd {
	int64_t start;
	int fd;
	int dirty;
	unsigned long used; /* for least-recently-used eviction */
};

struct archive {
	char *dir;
	int dirfd;
	int dir_dirty;
	struct archive_fd fds[ARCHIVE_FDS];
	unsigned long clock;
	uint64_t torn;
	int failed; /* an unsynced append may be lost: fail the next commit */
	int evicted[ARCHIVE_EVICTED]; /* closed to appends, not yet synced */
	size_t nevicted;
};

/* What one commit must make durable, owned by whoever runs it. */
struct archive_sync {
	char *dir; /* for the log */
	int fds[ARCHIVE_MAX_FDS]; /* synced with fdatasync, then closed */
	size_t nfds;
	int dirfd; /* synced with fsync if not -1, then closed */
	int failed;
};

static void
archive_name(char *buf, size_t len, int64_t start)
{
	snprintf(buf, len, "%" PRId64 ".arc", start);
}

struct archive *
archive_open(const char *datadir, char *err, size_t errlen)
{
	struct archive *a = xcalloc(1, sizeof(*a));
	char path[4096];
	int i;

	datadir_archive_dir(datadir, path, sizeof(path));
	if (mkdir(datadir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", datadir, strerror(errno));
		goto fail;
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	a->dir = xstrdup(path);
	if ((a->dirfd = open(path, O_RDONLY | O_DIRECTORY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	for (i = 0; i < ARCHIVE_FDS; i++)
		a->fds[i].fd = -1;
	return a;
fail:
	free(a->dir);
	free(a);
	return NULL;
}

void
archive_free(struct archive *a)
{
	int i;

	if (a == NULL)
		return;
	archive_commit(a);
	for (i = 0; i < ARCHIVE_FDS; i++)
		if (a->fds[i].fd != -1)
			close(a->fds[i].fd);
	close(a->dirfd);
	free(a->dir);
	free(a);
}

/*
 * Walk the entries of an open file, calling fn for each intact one; returns
 * the offset just past the last intact entry, or -1 on a read error.
 */
static off_t
archive_walk(struct archive *a, int fd, int64_t start, archive_entry_fn fn,
    void *arg)
{
	uint8_t hdr[8], *buf = NULL;
	char ts[ISO8601_LEN];
	off_t off = 0;
	uint32_t len;
	ssize_t n;

	for (;;) {
		if ((n = pread(fd, hdr, sizeof(hdr), off)) == 0)
			break;
		if (n != sizeof(hdr))
			goto torn;
		len = get_be32(hdr);
		if (len == 0 || len > ARCHIVE_ENTRY_MAX)
			goto torn;
		buf = xreallocarray(buf, len, 1);
		if ((n = pread(fd, buf, len, off + 8)) != (ssize_t)len)
			goto torn;
		if (crc32c(buf, len) != get_be32(hdr + 4)) {
			/*
			 * Damaged in place, yet whole: skipped, so that the
			 * intact entries after it are still read and a
			 * repair before an append does not cut them off.
			 */
			a->torn++;
			log_warnx("archive %s: interval %s (%" PRId64 ".arc): "
				  "entry at offset %lld fails its CRC; skipped",
			    a->dir, iso8601(start, ts), start, (long long)off);
		} else if (fn != NULL)
			fn(buf, len, arg);
		off += 8 + (off_t)len;
	}
	free(buf);
	return off;
torn:
	free(buf);
	if (n == -1) {
		log_warn("archive %s: interval %s (%" PRId64 ".arc)", a->dir,
		    iso8601(start, ts), start);
		return -1;
	}
	a->torn++;
	log_warnx("archive %s: interval %s (%" PRId64 ".arc): damaged entry "
		  "at offset %lld; what follows is ignored",
	    a->dir, iso8601(start, ts), start, (long long)off);
	return off;
}

/*
 * A file leaves the descriptor table.  Its unsynced appends are not
 * acknowledged yet: the next batch syncs them, or, with too many waiting,
 * this does at once; if that fails, so must the next commit.
 */
static void
archive_evict(struct archive *a, struct archive_fd *f)
{
	if (f->dirty && a->nevicted < ARCHIVE_EVICTED) {
		a->evicted[a->nevicted++] = f->fd;
		return;
	}
	if (f->dirty && fdatasync(f->fd) == -1) {
		log_warn("archive %s: fsync", a->dir);
		a->failed = 1;
	}
	if (close(f->fd) == -1 && f->dirty) {
		log_warn("archive %s: close", a->dir);
		a->failed = 1;
	}
}

/* An append descriptor for the interval, opening (and repairing) it. */
static struct archive_fd *
archive_fd(struct archive *a, int64_t start)
{
	struct archive_fd *f, *victim = &a->fds[0];
	char name[40];
	off_t good, end;
	int i, fd, created;

	for (i = 0; i < ARCHIVE_FDS; i++) {
		f = &a->fds[i];
		if (f->fd != -1 && f->start == start) {
			f->used = ++a->clock;
			return f;
		}
		if (f->fd == -1 || f->used < victim->used)
			victim = f;
	}
	archive_name(name, sizeof(name), start);
	created = faccessat(a->dirfd, name, F_OK, 0) == -1;
	if ((fd = openat(a->dirfd, name, O_RDWR | O_CREAT | O_APPEND, 0600)) ==
	    -1) {
		log_warn("archive %s: %s", a->dir, name);
		return NULL;
	}
	if (!created) {
		good = archive_walk(a, fd, start, NULL, NULL);
		end = lseek(fd, 0, SEEK_END);
		if (good == -1 || (good < end && ftruncate(fd, good) == -1)) {
			log_warn("archive %s: repairing %s", a->dir, name);
			close(fd);
			return NULL;
		}
	}
	if (victim->fd != -1)
		archive_evict(a, victim);
	victim->start = start;
	victim->fd = fd;
	victim->dirty = 0;
	victim->used = ++a->clock;
	a->dir_dirty |= created;
	return victim;
}

int
archive_append(struct archive *a, int64_t start, const uint8_t *rec, size_t len)
{
	struct archive_fd *f;
	uint8_t hdr[8];
	char ts[ISO8601_LEN];
	struct iovec iov[2];
	ssize_t n;
	off_t end;

	if (len == 0 || len > ARCHIVE_ENTRY_MAX)
		return -1;
	if ((f = archive_fd(a, start)) == NULL)
		return -1;
	if ((end = lseek(f->fd, 0, SEEK_END)) == -1) {
		log_warn("archive %s: interval %s (%" PRId64 ".arc)", a->dir,
		    iso8601(start, ts), start);
		return -1;
	}
	put_be32(hdr, (uint32_t)len);
	put_be32(hdr + 4, crc32c(rec, len));
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)rec;
	iov[1].iov_len = len;
	n = writev(f->fd, iov, 2);
	f->dirty = 1;
	if (n != (ssize_t)(sizeof(hdr) + len)) {
		/*
		 * A short write leaves a torn entry: cut it off now.  The
		 * descriptor stays, as it may hold appends the next commit
		 * must sync; if the cut fails, so must that commit.
		 */
		log_warn("archive %s: appending to interval %s (%" PRId64
			 ".arc)",
		    a->dir, iso8601(start, ts), start);
		if (n > 0 && ftruncate(f->fd, end) == -1) {
			log_warn("archive %s: cutting off a torn entry",
			    a->dir);
			a->failed = 1;
		}
		return -1;
	}
	return 0;
}

/*
 * A descriptor of the same file for the batch, so that the archive may
 * close its own meanwhile; without one (out of descriptors), the file is
 * synced here.  -1 when there is nothing left for the batch to do.
 */
static int
archive_sync_dup(struct archive *a, struct archive_sync *b, int fd,
    int (*sync)(int))
{
	int nfd;

	if ((nfd = dup(fd)) != -1)
		return nfd;
	if (sync(fd) == -1) {
		log_warn("archive %s: fsync", a->dir);
		b->failed = 1;
	}
	return -1;
}

struct archive_sync *
archive_sync_take(struct archive *a)
{
	struct archive_sync *b = xcalloc(1, sizeof(*b));
	size_t i;
	int fd;

	b->dir = xstrdup(a->dir);
	b->failed = a->failed;
	a->failed = 0;
	for (i = 0; i < a->nevicted; i++)
		b->fds[b->nfds++] = a->evicted[i];
	a->nevicted = 0;
	for (i = 0; i < ARCHIVE_FDS; i++) {
		if (a->fds[i].fd == -1 || !a->fds[i].dirty)
			continue;
		a->fds[i].dirty = 0;
		fd = archive_sync_dup(a, b, a->fds[i].fd, fdatasync);
		if (fd != -1)
			b->fds[b->nfds++] = fd;
	}
	b->dirfd = -1;
	if (a->dir_dirty) {
		a->dir_dirty = 0;
		b->dirfd = archive_sync_dup(a, b, a->dirfd, fsync);
	}
	return b;
}

/* The files first: the directory entry must not name a hollow file. */
int
archive_sync_run(struct archive_sync *b)
{
	size_t i;
	int rc = b->failed ? -1 : 0;

	for (i = 0; i < b->nfds; i++) {
		if (fdatasync(b->fds[i]) == -1) {
			log_warn("archive %s: fsync", b->dir);
			rc = -1;
		}
		if (close(b->fds[i]) == -1) {
			log_warn("archive %s: close", b->dir);
			rc = -1;
		}
	}
	if (b->dirfd != -1) {
		if (fsync(b->dirfd) == -1) {
			log_warn("archive %s: fsync", b->dir);
			rc = -1;
		}
		(void)close(b->dirfd);
	}
	free(b->dir);
	free(b);
	return rc;
}

int
archive_commit(struct archive *a)
{
	return archive_sync_run(archive_sync_take(a));
}

int
archive_scan(struct archive *a, int64_t start, archive_entry_fn fn, void *arg)
{
	char name[40];
	int fd;
	off_t rc;

	archive_name(name, sizeof(name), start);
	if ((fd = openat(a->dirfd, name, O_RDONLY)) == -1)
		return errno == ENOENT ? 0 : -1;
	rc = archive_walk(a, fd, start, fn, arg);
	close(fd);
	return rc == -1 ? -1 : 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t *
archive_intervals(struct archive *a, size_t *n)
{
	struct dirent *de;
	int64_t *v = NULL;
	size_t cap = 0;
	long long start;
	char suffix[8];
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = dup(a->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("archive %s", a->dir);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "%lld.%7s", &start, suffix) != 2 ||
		    strcmp(suffix, "arc") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[(*n)++] = start;
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_i64);
	return v;
}

uint64_t
archive_torn(const struct archive *a)
{
	return a->torn;
}

/* Durable per-interval record files; see spool.h. */
#include <sys/file.h>
#include <sys/stat.h>

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
#include "fit.h"
#include "frame.h"
#include "log.h"
#include "spool.h"
#include "varint.h"
#include "xmalloc.h"

struct spool_file {
	int64_t start;
	uint64_t bytes;
	int synced;
};

/* Files of one kind, sorted by start. */
struct spool_list {
	struct spool_file *v;
	size_t n, cap;
};

struct spool {
	int dirfd;
	char *dir;
	uint64_t max_bytes, bytes; /* bytes: records and set-aside files */
	enum spool_full policy;
	struct spool_list recs; /* "<start>.rec", waiting to be sent */
	struct spool_list aside; /* "<start>.rejected" */
	uint64_t pending_drops; /* not yet reported in a record */
	uint64_t dropped; /* over the whole run */
	uint64_t set_aside; /* over the whole run */
	uint64_t folded, unsketched; /* over the whole run: spool_fit() */
};

static void
spool_name(char *buf, size_t len, int64_t start, const char *suffix)
{
	snprintf(buf, len, "%" PRId64 ".%s", start, suffix);
}

static size_t
spool_find(const struct spool_list *l, int64_t start)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (l->v[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
spool_has(const struct spool_list *l, int64_t start)
{
	size_t i = spool_find(l, start);

	return i < l->n && l->v[i].start == start;
}

static void
spool_index_add(struct spool *s, struct spool_list *l, int64_t start,
    uint64_t bytes, int synced)
{
	size_t i = spool_find(l, start);

	if (i < l->n && l->v[i].start == start) {
		s->bytes -= l->v[i].bytes;
	} else {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		}
		memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
		l->n++;
	}
	l->v[i].start = start;
	l->v[i].bytes = bytes;
	l->v[i].synced = synced;
	s->bytes += bytes;
}

static void
spool_index_del(struct spool *s, struct spool_list *l, int64_t start)
{
	size_t i = spool_find(l, start);

	if (i == l->n || l->v[i].start != start)
		return;
	s->bytes -= l->v[i].bytes;
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

/*
 * Index "<start>.rec" and "<start>.rejected" files; delete "<start>.tmp"
 * left by a crash.
 */
static int
spool_scan(struct spool *s, char *err, size_t errlen)
{
	struct dirent *de;
	struct stat st;
	long long start;
	char suffix[16];
	DIR *d;
	int fd;

	if ((fd = dup(s->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "%lld.%15s", &start, suffix) != 2)
			continue;
		if (strcmp(suffix, "tmp") == 0)
			unlinkat(s->dirfd, de->d_name, 0);
		else if (strcmp(suffix, "rec") == 0 &&
		    fstatat(s->dirfd, de->d_name, &st, 0) == 0)
			spool_index_add(s, &s->recs, start,
			    (uint64_t)st.st_size, 1);
		else if (strcmp(suffix, "rejected") == 0 &&
		    fstatat(s->dirfd, de->d_name, &st, 0) == 0)
			spool_index_add(s, &s->aside, start,
			    (uint64_t)st.st_size, 1);
	}
	closedir(d);
	return 0;
}

struct spool *
spool_open(const char *dir, uint64_t max_bytes, enum spool_full policy,
    char *err, size_t errlen)
{
	struct spool *s;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->dirfd = -1;
	s->dir = xstrdup(dir);
	s->max_bytes = max_bytes;
	s->policy = policy;
	if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		spool_free(s);
		return NULL;
	}
	/*
	 * Two processes on one spool would send and remove each other's
	 * records; the lock lives as long as the descriptor.
	 */
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen,
			    "spool %s is in use by another teiten-sensor; "
			    "give each sensor its own spool",
			    dir);
		else
			snprintf(err, errlen, "spool %s: lock: %s", dir,
			    strerror(errno));
		spool_free(s);
		return NULL;
	}
	if (spool_scan(s, err, errlen) == -1) {
		spool_free(s);
		return NULL;
	}
	if (s->recs.n > 0)
		log_info("spool %s: %zu %s waiting from earlier runs", dir,
		    s->recs.n, plural(s->recs.n, "record", "records"));
	if (s->aside.n > 0)
		log_info("spool %s: %zu %s set aside by earlier runs", dir,
		    s->aside.n, plural(s->aside.n, "record", "records"));
	return s;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->dirfd != -1)
		close(s->dirfd);
	free(s->recs.v);
	free(s->aside.v);
	free(s->dir);
	free(s);
}

/*
 * The sketch *a, with *b merged in if b is given, at precision p, taken
 * from its record (which would free it); NULL if the sum has no sketches.
 */
static struct hll *
spool_take_sketch(struct hll **a, struct hll *const *b, unsigned p)
{
	struct hll *h;

	if (p == 0)
		return NULL;
	h = *a;
	*a = NULL;
	if (b != NULL)
		hll_merge(h, *b);
	hll_fold(h, p);
	return h;
}

/*
 * Add what the old file of the same interval counted into r.  Sketches
 * merge when both records have them, of the same sketch key, at the lower
 * of their precisions; otherwise the sum has none, since a union missing
 * one run's addresses would understate the interval.
 */
static void
spool_merge_old(struct spool *s, struct record *r)
{
	char ts[ISO8601_LEN];
	struct record old, sum;
	struct record_entry *e;
	const char *why;
	uint8_t *buf;
	size_t len, i = 0, j = 0;
	unsigned p;
	int t;

	if (spool_read(s, r->start, &buf, &len) == -1)
		return;
	record_init(&old);
	if (record_decode(&old, buf, len, &why) == -1) {
		log_warnx("spool %s: interval %s: %s; replaced", s->dir,
		    iso8601(r->start, ts), why);
		goto out;
	}
	record_init(&sum);
	sum = *r;
	sum.entries = NULL;
	sum.nentries = sum.cap = 0;
	for (t = 0; t < RT_COUNT; t++)
		sum.totals[t] += old.totals[t];
	p = r->sketch_p < old.sketch_p ? r->sketch_p : old.sketch_p;
	if (memcmp(r->sketch_keyid, old.sketch_keyid, RECORD_KEYID) != 0)
		p = 0;
	sum.sketch_p = p;
	sum.all_src = spool_take_sketch(&r->all_src, &old.all_src, p);
	sum.all_dst = spool_take_sketch(&r->all_dst, &old.all_dst, p);
	while (i < r->nentries || j < old.nentries) {
		struct record_entry *a =
		    i < r->nentries ? &r->entries[i] : NULL;
		struct record_entry *b =
		    j < old.nentries ? &old.entries[j] : NULL;
		int cmp = a == NULL          ? 1
		    : b == NULL              ? -1
		    : (a->proto != b->proto) ? (a->proto < b->proto ? -1 : 1)
		    : (a->key != b->key)     ? (a->key < b->key ? -1 : 1)
					     : 0;

		if (cmp <= 0) {
			e = record_add(&sum, a->proto, a->key,
			    a->packets + (cmp == 0 ? b->packets : 0));
			e->src = spool_take_sketch(&a->src,
			    cmp == 0 ? &b->src : NULL, p);
			e->dst = spool_take_sketch(&a->dst,
			    cmp == 0 ? &b->dst : NULL, p);
		} else {
			e = record_add(&sum, b->proto, b->key, b->packets);
			e->src = spool_take_sketch(&b->src, NULL, p);
			e->dst = spool_take_sketch(&b->dst, NULL, p);
		}
		i += cmp <= 0;
		j += cmp >= 0;
	}
	record_clear(r);
	*r = sum;
	log_info("spool %s: interval %s merged with the record of an "
		 "earlier run",
	    s->dir, iso8601(r->start, ts));
out:
	record_clear(&old);
	free(buf);
}

/* Count a discarded record, and the discards it was carrying. */
static void
spool_count_drop(struct spool *s, int64_t start)
{
	struct record r;
	const char *why;
	uint8_t *buf;
	size_t len;

	s->pending_drops++;
	s->dropped++;
	if (spool_read(s, start, &buf, &len) == -1)
		return;
	record_init(&r);
	if (record_decode(&r, buf, len, &why) == 0)
		s->pending_drops += r.totals[RT_SPOOL_DROPS];
	record_clear(&r);
	free(buf);
}

/*
 * Records set aside count against the limit; dropping the oldest, they go
 * first, since they were lost already and are kept only to be looked at.
 */
static int
spool_make_room(struct spool *s, uint64_t need)
{
	char ts[ISO8601_LEN];
	char name[40];
	int64_t start;

	while (s->bytes + need > s->max_bytes) {
		if (s->policy == SPOOL_DROP_NEW ||
		    (s->recs.n == 0 && s->aside.n == 0))
			return -1;
		if (s->aside.n > 0) {
			start = s->aside.v[0].start;
			spool_name(name, sizeof(name), start, "rejected");
			log_warnx("spool %s full: removing %s, set aside "
				  "earlier",
			    s->dir, name);
			spool_index_del(s, &s->aside, start);
			if (unlinkat(s->dirfd, name, 0) == -1 &&
			    errno != ENOENT)
				log_warn("spool %s: removing %s", s->dir, name);
			continue;
		}
		log_warnx("spool %s full: dropping the oldest record, interval "
			  "%s",
		    s->dir, iso8601(s->recs.v[0].start, ts));
		spool_count_drop(s, s->recs.v[0].start);
		spool_remove(s, s->recs.v[0].start);
	}
	return 0;
}

/*
 * What is stored is sent: a record over the frame limit has its sketches
 * folded until it fits (sensor/fit.h), logged and counted.  Room is left
 * for the drop count spool_put() adds after (one varint).
 */
static void
spool_fit(struct spool *s, struct record *r)
{
	char ts[ISO8601_LEN];
	unsigned p = r->sketch_p;

	switch (fit_record(r, FRAME_MAX_PAYLOAD - VARINT_MAX)) {
	case FIT_AS_IS:
		break;
	case FIT_FOLDED:
		s->folded++;
		log_warnx("spool %s: interval %s: over the %u-byte frame limit "
			  "with sketches of precision %u; folded to %u",
		    s->dir, iso8601(r->start, ts), FRAME_MAX_PAYLOAD, p,
		    r->sketch_p);
		break;
	case FIT_UNSKETCHED:
		s->unsketched++;
		log_warnx("spool %s: interval %s: over the %u-byte frame limit "
			  "even with sketches of precision %u; stored without "
			  "sketches (version 1)",
		    s->dir, iso8601(r->start, ts), FRAME_MAX_PAYLOAD,
		    HLL_P_MIN);
		break;
	}
}

int
spool_put(struct spool *s, struct record *r, int merge, int durable)
{
	char ts[ISO8601_LEN];
	char tmp[40], name[40];
	uint8_t *buf;
	size_t len;
	int fd, rc = -1;

	if (merge && spool_has(&s->recs, r->start))
		spool_merge_old(s, r);
	spool_fit(s, r);
	/* Room for the record and the drop count it will carry (a varint). */
	buf = xmalloc(record_encoded_max(r));
	len = record_encode(r, buf, record_encoded_max(r));
	if (spool_make_room(s, len + VARINT_MAX) == -1) {
		log_warnx("spool %s full: dropping the new record, interval "
			  "%s",
		    s->dir, iso8601(r->start, ts));
		s->pending_drops += 1 + r->totals[RT_SPOOL_DROPS];
		s->dropped++;
		free(buf);
		return 0;
	}
	r->totals[RT_SPOOL_DROPS] += s->pending_drops;
	len = record_encode(r, buf, record_encoded_max(r));
	spool_name(tmp, sizeof(tmp), r->start, "tmp");
	spool_name(name, sizeof(name), r->start, "rec");
	if ((fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
	    -1) {
		log_warn("spool %s: %s", s->dir, tmp);
		free(buf);
		return -1;
	}
	if (write_all(fd, buf, len) == -1 || (durable && fsync(fd) == -1))
		log_warn("spool %s: writing %s", s->dir, tmp);
	else if (renameat(s->dirfd, tmp, s->dirfd, name) == -1)
		log_warn("spool %s: renaming %s", s->dir, tmp);
	else if (durable && fsync(s->dirfd) == -1)
		log_warn("spool %s: fsync", s->dir);
	else
		rc = 1;
	close(fd);
	free(buf);
	if (rc == -1) {
		unlinkat(s->dirfd, tmp, 0);
		s->pending_drops++; /* reported with the next record stored */
		s->dropped++;
		return -1;
	}
	spool_index_add(s, &s->recs, r->start, len, durable);
	s->pending_drops = 0;
	return 1;
}

int
spool_sync(struct spool *s)
{
	char name[40];
	size_t i;
	int fd, rc = 0;

	for (i = 0; i < s->recs.n; i++) {
		if (s->recs.v[i].synced)
			continue;
		spool_name(name, sizeof(name), s->recs.v[i].start, "rec");
		if ((fd = openat(s->dirfd, name, O_RDONLY)) == -1 ||
		    fsync(fd) == -1) {
			log_warn("spool %s: fsync %s", s->dir, name);
			rc = -1;
		} else
			s->recs.v[i].synced = 1;
		if (fd != -1)
			close(fd);
	}
	if (fsync(s->dirfd) == -1) {
		log_warn("spool %s: fsync", s->dir);
		rc = -1;
	}
	return rc;
}

size_t
spool_count(const struct spool *s)
{
	return s->recs.n;
}

int
spool_next(const struct spool *s, int64_t after, int64_t *start)
{
	size_t i = spool_find(&s->recs, after);

	if (i < s->recs.n && s->recs.v[i].start == after)
		i++;
	if (i == s->recs.n)
		return 0;
	*start = s->recs.v[i].start;
	return 1;
}

int
spool_read(struct spool *s, int64_t start, uint8_t **buf, size_t *len)
{
	char name[40];
	struct stat st;
	ssize_t n;
	int fd;

	spool_name(name, sizeof(name), start, "rec");
	if ((fd = openat(s->dirfd, name, O_RDONLY)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > (off_t)(64u << 20)) {
		close(fd);
		return -1;
	}
	*buf = xmalloc((size_t)st.st_size);
	n = pread(fd, *buf, (size_t)st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		free(*buf);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

int
spool_remove(struct spool *s, int64_t start)
{
	char name[40];

	spool_index_del(s, &s->recs, start);
	spool_name(name, sizeof(name), start, "rec");
	if (unlinkat(s->dirfd, name, 0) == -1 && errno != ENOENT) {
		log_warn("spool %s: removing %s", s->dir, name);
		return -1;
	}
	return 0;
}

void
spool_reject(struct spool *s, int64_t start, const char *why)
{
	char name[40], aside[40];
	size_t i = spool_find(&s->recs, start);
	uint64_t bytes;

	if (i == s->recs.n || s->recs.v[i].start != start)
		return;
	bytes = s->recs.v[i].bytes;
	spool_index_del(s, &s->recs, start);
	s->set_aside++;
	spool_name(name, sizeof(name), start, "rec");
	spool_name(aside, sizeof(aside), start, "rejected");
	if (renameat(s->dirfd, name, s->dirfd, aside) == -1) {
		/* Kept out of the index all the same: it is never resent. */
		log_warn("spool %s: %s: %s; setting it aside", s->dir, name,
		    why);
		return;
	}
	spool_index_add(s, &s->aside, start, bytes, 1);
	log_warnx("spool %s: %s: %s; set aside as %s", s->dir, name, why,
	    aside);
}

/* One file of base, if it is a record of id: moved into s. */
static int
spool_adopt_one(struct spool *s, int basefd, const char *name, const char *id)
{
	struct record r;
	struct stat st;
	const char *why;
	uint8_t *buf;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = openat(basefd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return 0; /* taken by its own sensor meanwhile */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > (off_t)(64u << 20)) {
		close(fd);
		return 0;
	}
	buf = xmalloc((size_t)st.st_size);
	n = pread(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	record_init(&r);
	if (n == st.st_size && record_decode(&r, buf, (size_t)n, &why) == 0 &&
	    strcmp(r.sensor, id) == 0) {
		/* Stored here first: a crash between the two keeps a copy. */
		if (spool_put(s, &r, 1, 1) == 1 &&
		    unlinkat(basefd, name, 0) == 0)
			rc = 1;
		else
			log_warnx("spool %s: cannot move %s here from the old "
				  "shared spool; it stays there",
			    s->dir, name);
	}
	record_clear(&r);
	free(buf);
	return rc;
}

size_t
spool_adopt(struct spool *s, const char *base, const char *id)
{
	char name[40];
	struct dirent *de;
	long long start;
	size_t moved = 0;
	int basefd, fd;
	DIR *d;

	if ((basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	if ((fd = dup(basefd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		close(basefd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "%lld.rec", &start) != 1)
			continue;
		snprintf(name, sizeof(name), "%lld.rec", start);
		if (strcmp(name, de->d_name) == 0)
			moved += spool_adopt_one(s, basefd, name, id);
	}
	closedir(d);
	if (moved > 0) {
		if (fsync(basefd) == -1)
			log_warn("spool %s: fsync", base);
		log_info("spool %s: %zu %s of %s moved here from %s, where an "
			 "older version kept them",
		    s->dir, moved, plural(moved, "record", "records"), id,
		    base);
	}
	close(basefd);
	return moved;
}

static int
spool_chown_list(struct spool *s, const struct spool_list *l,
    const char *suffix, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char name[40];
	size_t i;

	for (i = 0; i < l->n; i++) {
		spool_name(name, sizeof(name), l->v[i].start, suffix);
		if (fchownat(s->dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) ==
			-1 &&
		    errno != ENOENT) {
			snprintf(err, errlen, "spool %s: %s: chown: %s", s->dir,
			    name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
spool_chown(struct spool *s, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (fchown(s->dirfd, uid, gid) == -1) {
		snprintf(err, errlen, "spool %s: chown: %s", s->dir,
		    strerror(errno));
		return -1;
	}
	if (spool_chown_list(s, &s->recs, "rec", uid, gid, err, errlen) == -1 ||
	    spool_chown_list(s, &s->aside, "rejected", uid, gid, err, errlen) ==
		-1)
		return -1;
	return 0;
}

int
spool_check_private(const struct spool *s, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(s->dirfd, &st) == -1) {
		snprintf(err, errlen, "spool %s: %s", s->dir, strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
		    "spool %s belongs to uid %u, not to the sensor's user "
		    "(uid %u)",
		    s->dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
		    "spool %s is writable by others (mode %03o); only the "
		    "sensor's user may write there",
		    s->dir, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

uint64_t
spool_set_aside(const struct spool *s)
{
	return s->set_aside;
}

uint64_t
spool_folded(const struct spool *s)
{
	return s->folded;
}

uint64_t
spool_unsketched(const struct spool *s)
{
	return s->unsketched;
}

uint64_t
spool_dropped(const struct spool *s)
{
	return s->dropped;
}

uint64_t
spool_bytes(const struct spool *s)
{
	return s->bytes;
}

/*
 * Unit tests for archive (aggregator/archive.h): each entry is "u32 length
 * | u32 CRC-32C | record", big-endian, in DATADIR/archive/<start>.arc; a
 * scan stops at the first damaged entry and counts it; a torn entry at
 * the end is cut off before the file is appended to again; the intervals
 * come back sorted.  A commit split in two (a batch taken, then run) syncs
 * exactly the files appended to before the take, those evicted from the
 * open descriptors among them, and the directory if one was created, and
 * fails when a sync of those does (syncspy.c stands in for fsync and
 * fdatasync, counting calls per inode).  The CRC-32C of "123456789" is the standard check
 * value 0xe3069283 (RFC 3720, appendix B.4).
 */
#define _XOPEN_SOURCE 700
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"
#include "frame.h"
#include "syncspy.h"
#include "tmpdir.h"

struct fixture {
	char dir[64];
	char path[128]; /* the file of interval 60 */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "archive") == -1)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/archive/60.arc", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = tmpdir_remove(f->dir);

	free(f);
	return rc;
}

static struct archive *
open_archive(const struct fixture *f)
{
	char err[256] = "";
	struct archive *a = archive_open(f->dir, err, sizeof(err));

	if (a == NULL)
		fail_msg("archive_open: %s", err);
	return a;
}

/* The whole file, in a buffer of cap bytes; returns its length. */
static size_t
slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap, fp);
	assert_false(ferror(fp));
	assert_int_equal(fclose(fp), 0);
	return n;
}

static void
append_raw(const char *path, const uint8_t *b, size_t n)
{
	FILE *fp = fopen(path, "ab");

	assert_non_null(fp);
	assert_int_equal(fwrite(b, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Entries a scan hands over, concatenated with '|' after each. */
struct seen {
	char text[256];
	size_t n;
};

static void
collect(const uint8_t *rec, size_t len, void *arg)
{
	struct seen *s = arg;
	size_t at = strlen(s->text);

	assert_true(at + len + 2 <= sizeof(s->text));
	memcpy(s->text + at, rec, len);
	s->text[at + len] = '|';
	s->text[at + len + 1] = '\0';
	s->n++;
}

static const uint8_t check_entry[] = {0x00, 0x00, 0x00, 0x09, 0xe3, 0x06, 0x92,
    0x83, '1', '2', '3', '4', '5', '6', '7', '8', '9'};

static void
test_layout(void **state)
{
	struct fixture *f = *state;
	struct archive *a = open_archive(f);
	struct seen s = {"", 0};
	struct stat st;
	uint8_t buf[64];

	assert_int_equal(archive_append(a, 60, (const uint8_t *)"123456789", 9),
	    0);
	assert_int_equal(archive_commit(a), 0);
	assert_int_equal(slurp(f->path, buf, sizeof(buf)), 17);
	assert_memory_equal(buf, check_entry, 17);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(archive_append(a, 60, (const uint8_t *)"ab", 2), 0);
	assert_int_equal(archive_commit(a), 0);
	assert_int_equal(slurp(f->path, buf, sizeof(buf)), 17 + 8 + 2);
	/* Length 2; the CRC is the code's, its check value is above. */
	assert_memory_equal(buf + 17, "\x00\x00\x00\x02", 4);
	assert_memory_equal(buf + 25, "ab", 2);
	assert_int_equal(archive_scan(a, 60, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text, "123456789|ab|");
	assert_int_equal(archive_torn(a), 0);
	/* Nothing or too much is not an entry. */
	assert_int_equal(archive_append(a, 60, buf, 0), -1);
	archive_free(a);
}

/* A crash mid-write left half an entry: cut before the next append. */
static void
test_torn_cut(void **state)
{
	struct fixture *f = *state;
	struct archive *a = open_archive(f);
	struct seen s = {"", 0};
	/* Says 9 bytes follow; 4 do. */
	static const uint8_t torn[] = {0x00, 0x00, 0x00, 0x09, 0xe3, 0x06, 0x92,
	    0x83, '1', '2', '3', '4'};
	uint8_t buf[64];

	assert_int_equal(archive_append(a, 60, (const uint8_t *)"123456789", 9),
	    0);
	archive_free(a);
	append_raw(f->path, torn, sizeof(torn));
	assert_int_equal(slurp(f->path, buf, sizeof(buf)), 17 + 12);

	a = open_archive(f);
	assert_int_equal(archive_scan(a, 60, collect, &s), 0);
	assert_string_equal(s.text, "123456789|");
	assert_int_equal(archive_torn(a), 1);
	assert_int_equal(archive_append(a, 60, (const uint8_t *)"xyz", 3), 0);
	assert_int_equal(archive_commit(a), 0);
	assert_int_equal(slurp(f->path, buf, sizeof(buf)), 17 + 8 + 3);
	assert_memory_equal(buf, check_entry, 17);
	assert_memory_equal(buf + 17, "\x00\x00\x00\x03", 4);
	assert_memory_equal(buf + 25, "xyz", 3);
	s.text[0] = '\0';
	s.n = 0;
	assert_int_equal(archive_scan(a, 60, collect, &s), 0);
	assert_string_equal(s.text, "123456789|xyz|");
	archive_free(a);

	/* A torn header alone (5 of 8 bytes) is cut as well. */
	append_raw(f->path, check_entry, 5);
	a = open_archive(f);
	assert_int_equal(archive_append(a, 60, (const uint8_t *)"q", 1), 0);
	archive_free(a);
	assert_int_equal(slurp(f->path, buf, sizeof(buf)), 28 + 8 + 1);
	assert_memory_equal(buf + 28, "\x00\x00\x00\x01", 4);
	assert_int_equal(buf[36], 'q');
}

/*
 * A whole entry with a bad CRC is skipped and the scan goes on, also after
 * an append (the repair cuts nothing); a zero length and a length past
 * FRAME_MAX_PAYLOAD (32 MiB) end the scan at that entry: what follows is not trusted.  Each
 * counts as torn.
 */
static void
test_damaged(void **state)
{
	struct fixture *f = *state;
	struct archive *a;
	struct seen s = {"", 0};
	uint8_t bad[17];
	static const uint8_t zero[8] = {0};
	static const uint8_t huge[8] = {0x02, 0x00, 0x00, 0x01};
	char path[160];

	a = open_archive(f);
	memcpy(bad, check_entry, 17);
	bad[16] = 'X'; /* "12345678X" under the CRC of "123456789" */
	append_raw(f->path, check_entry, 17);
	append_raw(f->path, bad, 17);
	append_raw(f->path, check_entry, 17);
	assert_int_equal(archive_scan(a, 60, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text, "123456789|123456789|");
	assert_int_equal(archive_torn(a), 1);
	assert_int_equal(archive_append(a, 60, (const uint8_t *)"z", 1), 0);
	assert_int_equal(archive_commit(a), 0);
	s.n = 0;
	s.text[0] = '\0';
	assert_int_equal(archive_scan(a, 60, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text, "123456789|123456789|z|");
	assert_int_equal(archive_torn(a), 3); /* each walk counts it */

	snprintf(path, sizeof(path), "%s/archive/120.arc", f->dir);
	append_raw(path, zero, 8);
	append_raw(path, check_entry, 17);
	s.n = 0;
	assert_int_equal(archive_scan(a, 120, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(archive_torn(a), 4);

	snprintf(path, sizeof(path), "%s/archive/180.arc", f->dir);
	append_raw(path, check_entry, 17);
	append_raw(path, huge, 8); /* 32 MiB + 1 */
	s.n = 0;
	assert_int_equal(archive_scan(a, 180, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(archive_torn(a), 5);

	/* A missing interval is empty, not an error. */
	s.n = 0;
	assert_int_equal(archive_scan(a, 240, collect, &s), 0);
	assert_int_equal(s.n, 0);
	archive_free(a);
}

struct big {
	size_t n, len;
	uint8_t first, last;
};

static void
collect_big(const uint8_t *rec, size_t len, void *arg)
{
	struct big *b = arg;

	b->n++;
	b->len = len;
	b->first = rec[0];
	b->last = rec[len - 1];
}

/*
 * Entries as large as a frame's payload (32 MiB) are kept and read back,
 * past the 4 MiB of archives before records had sketches; one byte more
 * is not appended.
 */
static void
test_large_entry(void **state)
{
	struct fixture *f = *state;
	struct archive *a = open_archive(f);
	struct big b = {0, 0, 0, 0};
	uint8_t *rec;

	assert_non_null(rec = calloc(1, FRAME_MAX_PAYLOAD + 1));
	rec[0] = 0x11;
	rec[(5u << 20) - 1] = 0x22;
	rec[FRAME_MAX_PAYLOAD - 1] = 0x33;
	assert_int_equal(archive_append(a, 60, rec, 5u << 20), 0);
	assert_int_equal(archive_append(a, 60, rec, FRAME_MAX_PAYLOAD), 0);
	assert_int_equal(archive_append(a, 60, rec, FRAME_MAX_PAYLOAD + 1), -1);
	assert_int_equal(archive_commit(a), 0);
	assert_int_equal(archive_scan(a, 60, collect_big, &b), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.len, FRAME_MAX_PAYLOAD);
	assert_int_equal(b.first, 0x11);
	assert_int_equal(b.last, 0x33);
	assert_int_equal(archive_torn(a), 0);
	archive_free(a);
	free(rec);
}

static void
test_intervals(void **state)
{
	struct fixture *f = *state;
	struct archive *a = open_archive(f);
	const uint8_t r[1] = {'r'};
	int64_t *v;
	size_t n;
	char path[160];

	v = archive_intervals(a, &n);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(archive_append(a, 1700000040, r, 1), 0);
	assert_int_equal(archive_append(a, 0, r, 1), 0);
	assert_int_equal(archive_append(a, -60, r, 1), 0);
	assert_int_equal(archive_append(a, 120, r, 1), 0);
	assert_int_equal(archive_commit(a), 0);
	/* Other files are not intervals. */
	snprintf(path, sizeof(path), "%s/archive/notes.txt", f->dir);
	append_raw(path, r, 1);
	snprintf(path, sizeof(path), "%s/archive/5.arcx", f->dir);
	append_raw(path, r, 1);
	v = archive_intervals(a, &n);
	assert_int_equal(n, 4);
	assert_true(v[0] == -60);
	assert_true(v[1] == 0);
	assert_true(v[2] == 120);
	assert_true(v[3] == 1700000040);
	free(v);
	archive_free(a);
}

/* More intervals than open descriptors (32): evicted files stay whole. */
static void
test_many_files(void **state)
{
	struct fixture *f = *state;
	struct archive *a = open_archive(f);
	struct seen s;
	uint8_t r[2];
	int i, round;

	for (round = 0; round < 2; round++)
		for (i = 0; i < 40; i++) {
			r[0] = (uint8_t)('a' + round);
			r[1] = (uint8_t)('A' + i); /* no NUL: collect's text */
			assert_int_equal(archive_append(a, i * 60, r, 2), 0);
		}
	assert_int_equal(archive_commit(a), 0);
	for (i = 0; i < 40; i++) {
		memset(&s, 0, sizeof(s));
		assert_int_equal(archive_scan(a, i * 60, collect, &s), 0);
		assert_int_equal(s.n, 2);
		assert_int_equal(s.text[0], 'a');
		assert_int_equal(s.text[1], 'A' + i);
		assert_int_equal(s.text[3], 'b');
		assert_int_equal(s.text[4], 'A' + i);
	}
	assert_int_equal(archive_torn(a), 0);
	archive_free(a);
}

static ino_t
inode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static ino_t
interval_inode(const struct fixture *f, int64_t start)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/archive/%lld.arc", f->dir,
	    (long long)start);
	return inode(path);
}

static ino_t
dir_inode(const struct fixture *f)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/archive", f->dir);
	return inode(path);
}

/* Descriptors this process has open, counted in /proc/self/fd. */
static size_t
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	assert_int_equal(closedir(d), 0);
	return n - 1; /* the directory's own */
}

static void
append(struct archive *a, int64_t start, const char *rec)
{
	assert_int_equal(archive_append(a, start, (const uint8_t *)rec,
			     strlen(rec)),
	    0);
}

/* A batch covers the appends before its take; the next, those after. */
static void
test_sync_batches(void **state)
{
	struct fixture *f = *state;
	struct archive *a = open_archive(f);
	struct archive_sync *b;

	syncspy_reset();
	append(a, 60, "a");
	append(a, 120, "b");
	b = archive_sync_take(a);
	append(a, 60, "c");
	append(a, 180, "d");
	/* The take syncs nothing; its batch, each file once, then the dir. */
	assert_int_equal(syncspy_total(), 0);
	assert_int_equal(archive_sync_run(b), 0);
	assert_int_equal(syncspy_count(interval_inode(f, 60), 1), 1);
	assert_int_equal(syncspy_count(interval_inode(f, 120), 1), 1);
	assert_int_equal(syncspy_count(dir_inode(f), 0), 1);
	assert_int_equal(syncspy_total(), 3);
	/* 180.arc was created after the take: the next batch has it. */
	syncspy_reset();
	assert_int_equal(archive_sync_run(archive_sync_take(a)), 0);
	assert_int_equal(syncspy_count(interval_inode(f, 60), 1), 1);
	assert_int_equal(syncspy_count(interval_inode(f, 180), 1), 1);
	assert_int_equal(syncspy_count(dir_inode(f), 0), 1);
	assert_int_equal(syncspy_total(), 3);
	/* Nothing appended since: nothing to sync. */
	syncspy_reset();
	assert_int_equal(archive_sync_run(archive_sync_take(a)), 0);
	assert_int_equal(syncspy_total(), 0);
	archive_free(a);
}

/*
 * 40 files through 32 descriptors: the 8 evicted are not synced at
 * eviction but kept open for the batch, which syncs and closes them with
 * the duplicates of the 32 still open.
 */
static void
test_sync_evicted(void **state)
{
	struct fixture *f = *state;
	size_t fds0 = open_fds();
	struct archive *a = open_archive(f);
	struct archive_sync *b;
	int i;

	syncspy_reset();
	for (i = 0; i < 40; i++)
		append(a, 60 * i, "e");
	assert_int_equal(syncspy_total(), 0);
	assert_int_equal(open_fds(), fds0 + 1 + 32 + 8);
	b = archive_sync_take(a);
	/* Its own descriptors of the 32 open and of the directory. */
	assert_int_equal(open_fds(), fds0 + 1 + 32 + 8 + 32 + 1);
	assert_int_equal(archive_sync_run(b), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(syncspy_count(interval_inode(f, 60 * i), 1),
		    1);
	assert_int_equal(syncspy_count(dir_inode(f), 0), 1);
	assert_int_equal(syncspy_total(), 41);
	assert_int_equal(open_fds(), fds0 + 1 + 32);
	archive_free(a);
	assert_int_equal(open_fds(), fds0);
}

/*
 * A failed sync fails its batch, not the next.  Past 32 evicted files
 * waiting, an eviction syncs at once; if that fails, the next batch
 * fails too, though its own syncs succeed.
 */
static void
test_sync_fails(void **state)
{
	struct fixture *f = *state;
	struct archive *a = open_archive(f);
	struct archive_sync *b;
	int i;

	append(a, 60, "f");
	b = archive_sync_take(a);
	syncspy_failing(1);
	assert_int_equal(archive_sync_run(b), -1);
	syncspy_failing(0);
	append(a, 60, "g");
	assert_int_equal(archive_commit(a), 0);
	for (i = 0; i < 64; i++)
		append(a, 60 * (i + 2), "h");
	syncspy_reset();
	syncspy_failing(1);
	for (i = 64; i < 70; i++)
		append(a, 60 * (i + 2), "i");
	syncspy_failing(0);
	/* 38 evicted, the 6 past 32 synced at once (and failing). */
	assert_int_equal(syncspy_total(), 6);
	assert_int_equal(archive_commit(a), -1);
	assert_int_equal(archive_commit(a), 0);
	archive_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_intervals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_evicted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

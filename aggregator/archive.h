/*
 * The raw archive, the aggregator's source of truth: every accepted record
 * as sent, one append-only file per interval under DATADIR/archive/, each
 * entry "u32 length | u32 CRC-32C | record" (big-endian).  Appends become
 * durable at a commit, which fsyncs every file written since the last one
 * (and the directory, if a file was created), so that many records share
 * one fsync.  An archive is used from one thread only; a commit's fsyncs
 * may run on another, on a batch taken from it.  A torn entry at the
 * end of a file (a crash mid-write, never acknowledged) is cut off before
 * the file is appended to again.  A whole entry whose CRC fails (damaged
 * in place) is skipped, logged and counted, and the entries after it are
 * read and kept; a length that cannot be right (0, past a record frame's
 * largest payload, FRAME_MAX_PAYLOAD) ends the file's readable part there.
 */
#ifndef TEITEN_ARCHIVE_H
#define TEITEN_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

struct archive;

typedef void (*archive_entry_fn)(const uint8_t *rec, size_t len, void *);

struct archive *archive_open(const char *datadir, char *err, size_t errlen);
void archive_free(struct archive *);
int
archive_append(struct archive *, int64_t start, const uint8_t *rec, size_t len);
/*
 * A commit in two halves.  archive_sync_take() (the archive's thread) moves
 * the work of making every append so far durable into a batch, with its
 * own descriptors, so that later appends are the next batch's;
 * archive_sync_run() (any thread; it touches only the batch) does it,
 * frees the batch and returns 0, or -1 if an append taken may be lost
 * (a failed fsync, or a failure recorded before the take).  An append is
 * durable once the first batch taken after it, and every batch taken
 * before that one, has returned 0: a file's directory entry is synced
 * only by the batch taken after the file was created.  An archive holds at most
 * ARCHIVE_MAX_FDS descriptors, and each batch not yet run as many more.
 */
#define ARCHIVE_MAX_FDS 65
struct archive_sync;
struct archive_sync *archive_sync_take(struct archive *);
int archive_sync_run(struct archive_sync *);
/* Take and run: make every append durable; 0, or -1 as above. */
int archive_commit(struct archive *);
/* Call fn for each intact entry of one interval; -1 if unreadable. */
int archive_scan(struct archive *, int64_t start, archive_entry_fn, void *);
/* The intervals archived, sorted, in a new array (caller frees). */
int64_t *archive_intervals(struct archive *, size_t *n);
uint64_t archive_torn(const struct archive *);

#endif

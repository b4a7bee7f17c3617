/*
 * The raw archive, the aggregator's source of truth: every accepted record
 * as sent, one append-only file per interval under DATADIR/archive/, each
 * entry "u32 length | u32 CRC-32C | record" (big-endian).  Appends become
 * durable at archive_commit(), which fsyncs every file written since the
 * last commit, so that many records share one fsync.  A torn entry at the
 * end of a file (a crash mid-write, never acknowledged) is cut off before
 * the file is appended to again.  A whole entry whose CRC fails (damaged
 * in place) is skipped, logged and counted, and the entries after it are
 * read and kept; a length that cannot be right (0, past 4 MiB) ends the
 * file's readable part there.
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
/* Make every append durable; returns 0, or -1 if any fsync failed. */
int archive_commit(struct archive *);
/* Call fn for each intact entry of one interval; -1 if unreadable. */
int archive_scan(struct archive *, int64_t start, archive_entry_fn, void *);
/* The intervals archived, sorted, in a new array (caller frees). */
int64_t *archive_intervals(struct archive *, size_t *n);
uint64_t archive_torn(const struct archive *);

#endif

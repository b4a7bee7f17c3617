/*
 * The sensor's durable spool: one file per interval, "<start>.rec", holding
 * the encoded record until the aggregator acknowledges it.  Files are
 * written to a temporary name, fsynced and renamed, so a crash leaves
 * either the old file or the new one.  The size is bounded; when full the
 * chosen policy drops the oldest record or the new one, logs it and counts
 * it in the next record that is stored.  A record is stored only in a
 * form the sender can send: folded to fit in a frame if need be
 * (sensor/fit.h).  Records that cannot be sent are set aside as
 * "<start>.rejected"; they count against the size too.  A spool is locked
 * (flock) while a process has it open.
 */
#ifndef TEITEN_SPOOL_H
#define TEITEN_SPOOL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "record.h"

enum spool_full {
	SPOOL_DROP_OLDEST,
	SPOOL_DROP_NEW,
};

struct spool;

/*
 * Opens (creating if needed) and locks dir; removes half-written
 * temporaries.  Fails if another process holds the lock.
 */
struct spool *spool_open(const char *dir, uint64_t max_bytes, enum spool_full,
    char *err, size_t errlen);
void spool_free(struct spool *);
/*
 * Store r (adding the pending drop count to its totals).  With merge set,
 * a record already spooled for the same interval (a live sensor restarted
 * within an interval) is added into it; else it is replaced (a replay that
 * counts the same packets again).  With durable set the file and directory
 * are fsynced before return; else spool_sync() does it.
 * Returns 1 stored, 0 dropped by the full policy, -1 on an I/O error.
 */
int spool_put(struct spool *, struct record *r, int merge, int durable);
int spool_sync(struct spool *);
size_t spool_count(const struct spool *);
/* Start of the oldest spooled interval after start, or 0 if none. */
int spool_next(const struct spool *, int64_t after, int64_t *start);
/* Read the encoded record of an interval into *buf (caller frees). */
int spool_read(struct spool *, int64_t start, uint8_t **buf, size_t *len);
/* Forget an acknowledged interval; a missing file is not an error. */
int spool_remove(struct spool *, int64_t start);
/* Set a record aside as "<start>.rejected" (unreadable or refused). */
void spool_reject(struct spool *, int64_t start, const char *why);
/*
 * Give the spool and every record in it to uid:gid (a root sensor hands
 * them to the user it becomes, also those an earlier user left).
 */
int spool_chown(struct spool *, uid_t, gid_t, char *err, size_t errlen);
/*
 * Records of sensor id left directly in base, where versions before one
 * spool per id kept them: each is moved into this spool (added into a
 * record it holds for the same interval), so that an upgrade loses none.
 * Records of other ids, and files that are not records, stay.  Returns
 * how many were moved.
 */
size_t spool_adopt(struct spool *, const char *base, const char *id);
/* -1 unless the spool belongs to the effective user, writable by it alone. */
int spool_check_private(const struct spool *, char *err, size_t errlen);
/* Records lost to the full policy or to write errors, over the run. */
uint64_t spool_dropped(const struct spool *);
/*
 * Records stored with their sketches folded to a lower precision, and
 * without sketches, so that they fit in a frame (sensor/fit.h), over the
 * run.
 */
uint64_t spool_folded(const struct spool *);
uint64_t spool_unsketched(const struct spool *);
/* Records set aside, over the run. */
uint64_t spool_set_aside(const struct spool *);
/* Bytes of the files held: records waiting and those set aside. */
uint64_t spool_bytes(const struct spool *);

#endif

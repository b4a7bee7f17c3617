/*
 * Archive commits on their own thread, so that the network loop never
 * waits on the disk.  The loop hands over a batch (archive_sync_take()),
 * this thread runs it, and the loop is called back with the result, in
 * its own event loop (a pipe wakes it; libevent needs no threading).  One
 * batch at a time: a group commit.  Everything here but the thread's own
 * work is called from the loop's thread.  committer_new() starts the
 * thread: call it after any fork (daemon(3)), which a thread does not
 * survive.
 */
#ifndef TEITEN_COMMITTER_H
#define TEITEN_COMMITTER_H

#include <event2/event.h>

#include "archive.h"

struct committer;

/* A batch has run: rc from archive_sync_run(), seconds it took. */
typedef void (*committer_done_fn)(int rc, double seconds, void *arg);

struct committer *
committer_new(struct event_base *, committer_done_fn, void *arg);
/* Waits for the batch in flight, calls back for it, stops the thread. */
void committer_free(struct committer *);
/* Hand over a batch (taking it); none may be in flight. */
void committer_start(struct committer *, struct archive_sync *);
int committer_busy(const struct committer *);
/* Block until the batch in flight, if any, has run and been called back. */
void committer_wait(struct committer *);

#endif

/*
 * fsync() and fdatasync() for the unit tests of what syncs the archive:
 * linked into a test, they stand in for libc's, record each call with the
 * inode of its file and its thread, do the real sync, fail with EIO
 * instead while told to fail, and wait while told to hold.  Calls may come
 * from any thread.
 */
#ifndef TEITEN_TEST_SYNCSPY_H
#define TEITEN_TEST_SYNCSPY_H

#include <sys/types.h>

#include <pthread.h>
#include <stddef.h>

/* From now on, syncs fail (on != 0) or succeed. */
void syncspy_failing(int on);
/* From now on, syncs wait until released (on == 0); release lets all go. */
void syncspy_hold(int on);
/* Block until a sync is waiting in a hold. */
void syncspy_wait_held(void);
/* The thread of the last call recorded. */
pthread_t syncspy_last_thread(void);

/* Forget the calls recorded. */
void syncspy_reset(void);
/* Calls recorded since the reset on the file of inode ino, of one kind. */
size_t syncspy_count(ino_t ino, int datasync);
/* All calls recorded since the reset. */
size_t syncspy_total(void);

#endif

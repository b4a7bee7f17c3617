/*
 * One process at a time changes a data directory: the daemon for as long
 * as it runs, or a stopped-daemon `rebuild`.  The lock is flock(2) on
 * DATADIR/lock, which holds the holder's process id as text; it goes with
 * the holder's last descriptor, so a crash never leaves it behind, and it
 * survives daemon(3)'s fork (the child shares the descriptor).
 */
#ifndef TEITEN_DIRLOCK_H
#define TEITEN_DIRLOCK_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Make DATADIR if absent and lock it.  Returns the lock's descriptor
 * (close-on-exec; keep it open), or -1: with *holder set to the process
 * that holds the lock (0 if its id cannot be read) and errno EWOULDBLOCK,
 * or with errno and err describing what failed.
 */
int dirlock_take(const char *datadir, pid_t *holder, char *err, size_t len);
/* Write this process's id into the lock (after daemon(3): a new one). */
int dirlock_set_pid(int fd);
/* The process holding DATADIR's lock now, 0 if none or unknown. */
pid_t dirlock_holder(const char *datadir);

#endif

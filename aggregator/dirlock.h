/*
 * One process at a time changes a data directory: the daemon for as long
 * as it runs, or a stopped-daemon `rebuild`.  The lock is flock(2) on
 * DATADIR/lock, which holds the holder's process id and role as text
 * ("1234 daemon"); it goes with the holder's last descriptor, so a crash
 * never leaves it behind, and it survives daemon(3)'s fork (the child
 * shares the descriptor).  The daemon's role is DIRLOCK_STARTING until it
 * answers SIGUSR2, then DIRLOCK_DAEMON: only then may it be signalled.
 */
#ifndef TEITEN_DIRLOCK_H
#define TEITEN_DIRLOCK_H

#include <stddef.h>
#include <sys/types.h>

#define DIRLOCK_STARTING "starting"
#define DIRLOCK_DAEMON "daemon"
#define DIRLOCK_REBUILD "rebuild"

struct dirlock_holder {
	pid_t pid; /* 0 if the file names none */
	char role[16];
};

/*
 * Make DATADIR if absent and lock it for this process in role.  Returns
 * the lock's descriptor (close-on-exec; keep it open), or -1: with errno
 * EWOULDBLOCK and *h the holder, or with errno and err saying what failed.
 */
int dirlock_take(const char *datadir, const char *role,
    struct dirlock_holder *h, char *err, size_t len);
/* Write this process's id (after daemon(3): a new one) and role. */
int dirlock_set(int fd, const char *role);
/* 0 and *h if a process holds DATADIR's lock now; -1 if none does. */
int dirlock_holder(const char *datadir, struct dirlock_holder *h);

#endif

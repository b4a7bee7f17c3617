/*
 * Leaving root after the capture is open, as tcpdump's droproot() does:
 * groups, then gid, then uid, then a check that root cannot be regained.
 */
#ifndef TEITEN_PRIVDROP_H
#define TEITEN_PRIVDROP_H

#include <sys/types.h>

#include <stddef.h>

#define PRIVDROP_DEFAULT_USER "teiten"

/*
 * As root, become user (default "teiten", PRIVDROP_DEFAULT_USER).  Not as root, nothing to do
 * unless a user was asked for, which is an error.  Returns 0 or -1 with
 * one line in err.
 */
int privdrop(const char *user, char *err, size_t errlen);

/*
 * As root, the ids of the user privdrop() will become, returning 1; not as
 * root, 0 (nothing to give away); -1 with one line in err.
 */
int privdrop_ids(const char *user, uid_t *uid, gid_t *gid, char *err,
    size_t errlen);

#endif

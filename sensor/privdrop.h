/*
 * Leaving root after the capture is open, as tcpdump's droproot() does:
 * groups, then gid, then uid, then a check that root cannot be regained.
 */
#ifndef TEITEN_PRIVDROP_H
#define TEITEN_PRIVDROP_H

#include <sys/types.h>

#include <stddef.h>

#define PRIVDROP_DEFAULT_USER "teiten"

/* What privdrop() will do. */
#define PRIVDROP_KEEP 0 /* stay the user we are, without capabilities */
#define PRIVDROP_SWITCH 1 /* as root: become the user */

/*
 * What privdrop(user) would do, without doing it: PRIVDROP_SWITCH as root
 * (to user, default PRIVDROP_DEFAULT_USER); PRIVDROP_KEEP when not root
 * and either no user was asked for or we already are that user, as under
 * a unit's User= with ambient capabilities; -1 with one line in err when
 * the user is unknown, is root, or is another user than the one we are.
 */
int privdrop_plan(const char *user, char *err, size_t errlen);

/*
 * Carry out privdrop_plan(): become the user if root, then, either way,
 * give up every capability (file or ambient ones too) for good.  Returns
 * 0 or -1 with one line in err.
 */
int privdrop(const char *user, char *err, size_t errlen);

/*
 * As root, the ids of the user privdrop() will become, returning 1; not as
 * root, 0 (nothing to give away); -1 with one line in err.
 */
int privdrop_ids(const char *user, uid_t *uid, gid_t *gid, char *err,
    size_t errlen);

#endif

/* Dropping root; see privdrop.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

#define PRIVDROP_DEFAULT_USER "nobody"

int
privdrop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		if (user == NULL)
			return 0;
		snprintf(err, errlen, "cannot switch to user %s: not root",
		    user);
		return -1;
	}
	if (user == NULL)
		user = PRIVDROP_DEFAULT_USER;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "unknown user %s%s%s", user,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen,
		    "user %s is root; refusing to run as "
		    "root",
		    user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errlen, "cannot become user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || seteuid(0) != -1) {
		snprintf(err, errlen, "could regain root after dropping to %s",
		    user);
		return -1;
	}
	return 0;
}

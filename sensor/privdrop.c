/* Dropping root; see privdrop.h. */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

/*
 * Capabilities can come without root (file capabilities, systemd's
 * AmbientCapabilities=): clear them all, and forbid gaining new ones.
 */
static int
privdrop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "cannot drop capabilities: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
privdrop_plan(const char *user, char *err, size_t errlen)
{
	const char *name = user ? user : PRIVDROP_DEFAULT_USER;
	struct passwd *pw;

	if (geteuid() != 0 && user == NULL)
		return PRIVDROP_KEEP;
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "unknown user %s%s%s", name,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen,
		    "user %s is root; refusing to run as root", name);
		return -1;
	}
	if (geteuid() == 0)
		return PRIVDROP_SWITCH;
	/* Started as the user already (systemd's User=): nothing to switch. */
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return PRIVDROP_KEEP;
	snprintf(err, errlen,
	    "cannot switch to user %s: running as uid %u, not root", name,
	    (unsigned)geteuid());
	return -1;
}

int
privdrop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	int plan;

	if ((plan = privdrop_plan(user, err, errlen)) == -1)
		return -1;
	if (plan == PRIVDROP_KEEP) {
		if (user != NULL)
			log_info("started as user %s: no switch needed", user);
		return privdrop_caps(err, errlen);
	}
	if (user == NULL)
		user = PRIVDROP_DEFAULT_USER;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "unknown user %s", user);
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
	return privdrop_caps(err, errlen);
}

int
privdrop_ids(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user ? user : PRIVDROP_DEFAULT_USER)) == NULL) {
		snprintf(err, errlen, "unknown user %s",
		    user ? user : PRIVDROP_DEFAULT_USER);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 1;
}

/* Checks before anything is created; see preflight.h. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostport.h"
#include "preflight.h"

static int
preflight_writable(const char *path, const char *was, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		return -1;
	}
	if (access(path, W_OK | X_OK) == -1) {
		snprintf(err, errlen, "%s: not writable%s: %s", path, was,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
preflight_dir(const char *path, int create, char *err, size_t errlen)
{
	char up[PATH_MAX], was[PATH_MAX + 64];
	char *slash;
	int missing = 0;

	if (snprintf(up, sizeof(up), "%s", path) >= (int)sizeof(up)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -1;
	}
	/* Walk up over the components that are missing. */
	while (access(up, F_OK) == -1 && errno == ENOENT) {
		if (++missing > create || (slash = strrchr(up, '/')) == NULL) {
			if (strcmp(up, path) == 0)
				snprintf(err, errlen, "%s: %s", path,
				    strerror(ENOENT));
			else
				snprintf(err, errlen,
				    "%s cannot be created: %s does not exist",
				    path, up);
			return -1;
		}
		if (slash == up)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	was[0] = '\0';
	if (missing > 0)
		snprintf(was, sizeof(was), ", so %s cannot be created", path);
	return preflight_writable(up, was, err, errlen);
}

int
preflight_bind(const char *listen, char *err, size_t errlen)
{
	struct addrinfo *res;
	int fd, rc = -1, on = 1;

	/* As the server resolves it: its first address is the one bound. */
	if (hostport_passive(NULL, listen, &res, err, errlen) == -1)
		return -1;
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) !=
		-1 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
	    bind(fd, res->ai_addr, res->ai_addrlen) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "cannot listen on %s: %s", listen,
		    strerror(errno));
	if (fd != -1)
		(void)close(fd);
	freeaddrinfo(res);
	return rc;
}

int
preflight_metrics(const char *addr, char *err, size_t errlen)
{
	char why[512];

	if (preflight_bind(addr, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "metrics: %s", why);
		return -1;
	}
	return 0;
}

void
preflight_note(int rc, const char *err, int *problems)
{
	if (rc != -1)
		return;
	warnx("%s", err);
	(*problems)++;
}

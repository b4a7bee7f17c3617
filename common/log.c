/* Logging to stderr or syslog; see log.h. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <paths.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "progress.h"

static const char *log_name = "teiten";
static int log_foreground = 1;
static int log_verbose;

void
log_init(const char *progname, int foreground, int verbose)
{
	log_name = progname;
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * syslog(3) drops messages without a word when nothing listens on its
 * socket; this asks first, as syslog() would connect.
 */
int
log_syslog_reachable(void)
{
	static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
	struct sockaddr_un sun;
	size_t i;
	int fd, ok = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	for (i = 0; i < sizeof(types) / sizeof(types[0]) && !ok; i++) {
		if ((fd = socket(AF_UNIX, types[i], 0)) == -1)
			continue;
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
	}
	return ok;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

void
log_reopen(void)
{
	if (log_foreground)
		return;
	closelog();
	openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void __attribute__((format(printf, 2, 0)))
log_vwrite(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_foreground) {
		/* A line on a progress line would share its row. */
		progress_clear();
		if (suffix != NULL)
			fprintf(stderr, "%s: %s: %s\n", log_name, msg, suffix);
		else
			fprintf(stderr, "%s: %s\n", log_name, msg);
		fflush(stderr);
	} else if (suffix != NULL)
		syslog(pri, "%s: %s", msg, suffix);
	else
		syslog(pri, "%s", msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *why = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, why);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *why = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, why);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

static void
log_from_libevent(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

void
log_libevent(void)
{
	event_set_log_callback(log_from_libevent);
}

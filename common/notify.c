/* systemd's readiness and watchdog notifications; see notify.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

/*
 * sd_notify() returns 0 without NOTIFY_SOCKET; a failure to send is worth
 * a line, since systemd will then kill a daemon that works.  The variable
 * is kept (unset_environment 0): the watchdog sends again and again.
 */
static void
notify_send(const char *state)
{
	int rc;

	if ((rc = sd_notify(0, state)) < 0)
		log_warnx("cannot notify systemd (%s): error %d", state, -rc);
}

void
notify_ready(const char *status)
{
	char buf[512];

	if (status == NULL) {
		notify_send("READY=1");
		return;
	}
	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status);
	notify_send(buf);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	notify_send(buf);
}

static void
notify_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_send("WATCHDOG=1");
}

struct event *
notify_watchdog(struct event_base *base)
{
	struct timeval tv;
	struct event *ev;
	uint64_t usec;
	int rc;

	if ((rc = sd_watchdog_enabled(0, &usec)) <= 0) {
		if (rc < 0)
			log_warnx("WATCHDOG_USEC is not valid: error %d", -rc);
		return NULL;
	}
	/* Half the period, as sd_watchdog_enabled(3) advises. */
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((ev = event_new(base, -1, EV_PERSIST, notify_on_watchdog, NULL)) ==
		NULL ||
	    event_add(ev, &tv) == -1)
		fatalx("cannot set up the watchdog event");
	log_debug("watchdog: a keep-alive every %lld.%06ld s",
	    (long long)tv.tv_sec, (long)tv.tv_usec);
	/* The first at once: the period counts from the start. */
	notify_send("WATCHDOG=1");
	return ev;
}

#else /* !HAVE_LIBSYSTEMD */

void
notify_ready(const char *status)
{
	(void)status;
}

void
notify_stopping(void)
{
}

void
notify_status(const char *fmt, ...)
{
	(void)fmt;
}

struct event *
notify_watchdog(struct event_base *base)
{
	(void)base;
	return NULL;
}

#endif

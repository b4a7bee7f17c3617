/*
 * Telling systemd how a daemon is doing (sd_notify(3)): ready, stopping, a
 * status line, and the watchdog's keep-alive from the event loop.  Each
 * call does nothing when the daemon was not started with NOTIFY_SOCKET, or
 * when teiten was built without libsystemd.
 */
#ifndef TEITEN_NOTIFY_H
#define TEITEN_NOTIFY_H

#include <event2/event.h>

/* READY=1, with a STATUS= line when status is not NULL. */
void notify_ready(const char *status);
/* STOPPING=1: a stop has begun and will take a moment. */
void notify_stopping(void);
void notify_status(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * If systemd asked for a watchdog (WATCHDOG_USEC for this process), an
 * event on base that sends WATCHDOG=1 every half of that period, already
 * added; the caller frees it with event_free().  NULL when none was asked.
 * A loop that wedges stops the keep-alives, and systemd restarts it.
 */
struct event *notify_watchdog(struct event_base *base);

#endif

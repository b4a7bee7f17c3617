/*
 * Logging for the daemons and tools: stderr in the foreground, syslog
 * otherwise.  The interface follows the OpenBSD daemons: log_warn() appends
 * strerror(errno), log_warnx() does not; fatal() and fatalx() exit(1).
 * errno is preserved across every call except fatal*().
 */
#ifndef TEITEN_LOG_H
#define TEITEN_LOG_H

#include <stdarg.h>

void log_init(const char *progname, int foreground, int verbose);
/* 1 if a syslog daemon listens on _PATH_LOG (/dev/log), else 0. */
int log_syslog_reachable(void);
/* libevent's own messages go here too: warnings and errors as warnings. */
void log_libevent(void);
void log_setverbose(int verbose);
/* SIGHUP: connect to syslog again (after syslogd restarted); else nothing. */
void log_reopen(void);
int log_getverbose(void);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

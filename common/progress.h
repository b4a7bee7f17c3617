/*
 * One progress line on a terminal, for long work (a replay, a rebuild):
 * standard error's last line rewritten in place with \r, at most
 * PROGRESS_HZ times a second, and left with a newline at the end.  Only
 * when standard error is a terminal: otherwise every call does nothing,
 * so logs and pipes never see it.  One line per process; log.c clears it
 * before it writes, and the next update draws it again below.
 */
#ifndef TEITEN_PROGRESS_H
#define TEITEN_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_HZ 4

/* Start the clock; 1 if the line will be shown (stderr is a terminal). */
int progress_start(void);
/* 1 if the line is shown and due to be drawn again. */
int progress_due(void);
/* Seconds since progress_start(). */
double progress_elapsed(void);
/* Draw the line, cut to the terminal's width. */
void progress_show(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Erase the line, if drawn, so that another line can be written. */
void progress_clear(void);
/* Draw the last state and end the line; progress stops. */
void progress_end(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Helpers for the text: bytes as "12.3 MB", a count per second as
 * "4.56 M", and the time left for done of total at the rate so far as
 * "1:02:03" or "4:05" ("?" before anything is done).
 */
void progress_bytes(char *, size_t, uint64_t);
void progress_rate(char *, size_t, double);
void progress_left(char *, size_t, uint64_t done, uint64_t total);

#endif

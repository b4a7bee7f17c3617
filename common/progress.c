/* A progress line on a terminal; see progress.h. */
#include <sys/ioctl.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define PROGRESS_COLS 80 /* when the terminal does not say */

static struct {
	int on; /* stderr is a terminal and the work goes on */
	double start, last; /* monotonic seconds */
	size_t drawn; /* characters on the line now, 0 if none */
	size_t cols;
} pg;

static double
progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
progress_start(void)
{
	struct winsize ws;

	memset(&pg, 0, sizeof(pg));
	pg.start = progress_now();
	if (!isatty(STDERR_FILENO))
		return 0;
	pg.on = 1;
	pg.last = pg.start;
	pg.cols = PROGRESS_COLS;
	/* A line wider than the terminal wraps, and \r goes back one row. */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		pg.cols = ws.ws_col;
	return 1;
}

int
progress_due(void)
{
	double now;

	if (!pg.on)
		return 0;
	now = progress_now();
	if (now - pg.last < 1.0 / PROGRESS_HZ)
		return 0;
	pg.last = now;
	return 1;
}

double
progress_elapsed(void)
{
	return progress_now() - pg.start;
}

static void __attribute__((format(printf, 1, 0)))
progress_draw(const char *fmt, va_list ap)
{
	char line[512];
	size_t len;
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	len = n < 0 ? 0 : (size_t)n;
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	if (len > pg.cols - 1)
		len = pg.cols - 1;
	/* Spaces over what a longer line before left. */
	fprintf(stderr, "\r%.*s%*s", (int)len, line,
	    pg.drawn > len ? (int)(pg.drawn - len) : 0, "");
	pg.drawn = len;
}

void
progress_show(const char *fmt, ...)
{
	va_list ap;

	if (!pg.on)
		return;
	va_start(ap, fmt);
	progress_draw(fmt, ap);
	va_end(ap);
	fflush(stderr);
}

void
progress_clear(void)
{
	if (!pg.on || pg.drawn == 0)
		return;
	fprintf(stderr, "\r%*s\r", (int)pg.drawn, "");
	fflush(stderr);
	pg.drawn = 0;
}

void
progress_end(const char *fmt, ...)
{
	va_list ap;

	if (!pg.on)
		return;
	va_start(ap, fmt);
	progress_draw(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pg.on = 0;
	pg.drawn = 0;
}

void
progress_bytes(char *buf, size_t size, uint64_t n)
{
	static const char *unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)n;
	int i = 0;

	while (v >= 1000 && i < (int)(sizeof(unit) / sizeof(unit[0])) - 1) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, size, "%.1f %s", v, unit[i]);
}

void
progress_rate(char *buf, size_t size, double v)
{
	if (v >= 1e9)
		snprintf(buf, size, "%.2f G", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, size, "%.2f M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, size, "%.1f k", v / 1e3);
	else
		snprintf(buf, size, "%.0f", v);
}

void
progress_left(char *buf, size_t size, uint64_t done, uint64_t total)
{
	double left;
	unsigned long s;

	if (done == 0 || done > total) {
		snprintf(buf, size, "?");
		return;
	}
	left = progress_elapsed() * (double)(total - done) / (double)done;
	s = (unsigned long)(left + 0.5);
	if (s >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
		    s % 60);
	else
		snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
}

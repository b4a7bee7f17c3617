/*
 * bench_rrd: time the aggregator's own RRD writer (rrdw_new/rrdw_write,
 * linked from the aggregator core) on intervals that carry every key,
 * for bench_rrd.py.
 *
 *   bench_rrd -d DATADIR [--keys N] [--intervals K] [--start T]
 *             [--step S] [--cached unix:SOCK [--cached-pid PID]]
 *             [--warmup W]
 *
 * Writes K consecutive intervals from T (default: the current time
 * rounded down, minus K steps) with values for key indices 0 .. N-1
 * (N = 131,072: every tcp and udp port) and prints, per interval, one line
 * "interval I START wall W user U sys S".  The first interval into an
 * empty DATADIR creates every file.  With --cached the updates go as one
 * rrdcached BATCH per interval, as the aggregator sends them; the first W
 * intervals (--warmup, default 0) are written and flushed before the
 * timing starts, then after the K - W timed ones the program sends
 * FLUSHALL and waits until rrdcached has written every value it was given
 * (its STATS DataSetsWritten), and prints "flushall wall W" and, with
 * --cached-pid, "daemon_cpu C" (rrdcached's user + system seconds over
 * the timed intervals and the flush).
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "interval.h"
#include "keyidx.h"
#include "log.h"
#include "rrdw.h"
#include "xmalloc.h"

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
cpu_self(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of a process, in seconds, from /proc; -1 if unknown. */
static double
cpu_of(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After "(comm)": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		&st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
cached_open(const char *addr)
{
	struct sockaddr_un sun;
	const char *path = strncmp(addr, "unix:", 5) == 0 ? addr + 5 : addr;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			buf[n] = '\0';
			return 0;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	return -1;
}

/* One STATS value, or -1. */
static long long
cached_stat(int fd, const char *name)
{
	char line[256];
	long long v = -1;
	long n, i;
	size_t nl = strlen(name);

	if (write(fd, "STATS\n", 6) != 6 || read_line(fd, line, sizeof(line)))
		return -1;
	n = strtol(line, NULL, 10);
	for (i = 0; i < n; i++) {
		if (read_line(fd, line, sizeof(line)) == -1)
			return -1;
		if (strncmp(line, name, nl) == 0 && line[nl] == ':')
			v = strtoll(line + nl + 1, NULL, 10);
	}
	return v;
}

/*
 * FLUSHALL returns at once; the values are on disk when the daemon's
 * DataSetsWritten has grown by as many as were sent.
 */
static double
cached_flush(int fd, long long want)
{
	char line[256];
	double t0 = now_mono();
	long long w;

	if (write(fd, "FLUSHALL\n", 9) != 9 ||
	    read_line(fd, line, sizeof(line)) == -1) {
		fprintf(stderr, "bench_rrd: FLUSHALL failed\n");
		exit(1);
	}
	for (;;) {
		if ((w = cached_stat(fd, "DataSetsWritten")) == -1) {
			fprintf(stderr, "bench_rrd: STATS failed\n");
			exit(1);
		}
		if (w >= want)
			break;
		if (now_mono() - t0 > 3600) {
			fprintf(stderr, "bench_rrd: flush not done in 1 h\n");
			exit(1);
		}
		usleep(2000);
	}
	return now_mono() - t0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_rrd -d DATADIR [--keys N] [--intervals K] "
	    "[--start T] [--step S]\n"
	    "                 [--cached unix:SOCK [--cached-pid PID]] "
	    "[--warmup W]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"datadir", required_argument, NULL, 'd'},
	    {"keys", required_argument, NULL, 'k'},
	    {"intervals", required_argument, NULL, 'i'},
	    {"start", required_argument, NULL, 't'},
	    {"step", required_argument, NULL, 's'},
	    {"cached", required_argument, NULL, 'c'},
	    {"cached-pid", required_argument, NULL, 'p'},
	    {"warmup", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	const char *datadir = NULL, *cached = NULL;
	long long nkeys = 131072, nint = 3, warmup = 0, start = -1, step = 60;
	long long base = 0, sent = 0;
	long pid = 0;
	struct rrd_job j;
	struct rrdw *w;
	char err[512];
	double t, u0, s0, u1, s1, d0 = 0, tflush0 = 0;
	size_t failed = 0, i;
	long long k;
	int ch, fd = -1;

	while ((ch = getopt_long(argc, argv, "d:k:i:", opts, NULL)) != -1)
		switch (ch) {
		case 'd':
			datadir = optarg;
			break;
		case 'k':
			nkeys = strtoll(optarg, NULL, 10);
			break;
		case 'i':
			nint = strtoll(optarg, NULL, 10);
			break;
		case 't':
			start = strtoll(optarg, NULL, 10);
			break;
		case 's':
			step = strtoll(optarg, NULL, 10);
			break;
		case 'c':
			cached = optarg;
			break;
		case 'p':
			pid = strtol(optarg, NULL, 10);
			break;
		case 'w':
			warmup = strtoll(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	if (datadir == NULL || optind != argc || nkeys < 1 ||
	    nkeys > KEYIDX_COUNT || nint < 1 || step < 1 || step > 86400 ||
	    warmup < 0 || warmup >= nint)
		usage();
	log_init("bench_rrd", 1, 0);
	if (start < 0)
		start = interval_start((int64_t)time(NULL), (uint32_t)step) -
		    nint * step;
	if ((w = rrdw_new(datadir, (uint32_t)step, cached, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "bench_rrd: %s\n", err);
		return 1;
	}
	if (cached != NULL && (fd = cached_open(cached)) == -1) {
		fprintf(stderr, "bench_rrd: cannot connect to %s\n", cached);
		return 1;
	}

	memset(&j, 0, sizeof(j));
	j.len = (uint32_t)step;
	j.nsensors = 100;
	j.nvalues = (size_t)nkeys;
	j.idx = xcalloc(j.nvalues, sizeof(*j.idx));
	j.avg = xcalloc(j.nvalues, sizeof(*j.avg));
	for (i = 0; i < j.nvalues; i++)
		j.idx[i] = (uint32_t)i;

	for (k = 0; k < nint; k++) {
		if (cached != NULL && k == warmup) {
			/* Timing starts with nothing pending in the daemon. */
			if (warmup > 0) {
				t = cached_flush(fd, base + sent);
				printf("warmup_flush wall %.3f\n", t);
			}
			if ((base = cached_stat(fd, "DataSetsWritten")) == -1) {
				fprintf(stderr, "bench_rrd: STATS failed\n");
				return 1;
			}
			sent = 0;
			tflush0 = now_mono();
			if (pid > 0)
				d0 = cpu_of(pid);
		}
		j.start = start + k * step;
		for (i = 0; i < j.nvalues; i++)
			j.avg[i] = 1000.0 / (double)(i + 1) +
			    (double)((i * 7 + (size_t)k) % 13) / 4.0;
		cpu_self(&u0, &s0);
		t = now_mono();
		failed += rrdw_write(w, &j);
		t = now_mono() - t;
		cpu_self(&u1, &s1);
		sent += nkeys + 1; /* the key files and sensors.rrd */
		printf("interval %lld %" PRId64 " wall %.3f user %.3f sys "
		       "%.3f\n",
		    k, j.start, t, u1 - u0, s1 - s0);
		fflush(stdout);
	}
	if (cached != NULL) {
		t = cached_flush(fd, base + sent);
		printf("flushall wall %.3f\n", t);
		printf("timed_total wall %.3f\n", now_mono() - tflush0);
		if (pid > 0)
			printf("daemon_cpu %.3f\n", cpu_of(pid) - d0);
		close(fd);
	}
	printf("failed %zu\n", failed);
	rrdw_free(w);
	free(j.idx);
	free(j.avg);
	return failed > 0;
}

/*
 * The render pool: draws the PNGs site_plan.c queued, in forked
 * processes, each under a temporary name renamed into place.
 */
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "site_int.h"
#include "xmalloc.h"

#define RENDER_PROCS 4

/* Draw one queued PNG under a temporary name and rename it into place. */
static int
render_job(struct site *st, const struct job *j)
{
	char path[4200], tmp[4300];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", st->outdir,
	    st->cur.v[j->png].name);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (j->health[0] != '\0')
		rc = graph_health(st->datadir, st->step, &j->span, j->health,
		    tmp, st->err, st->errlen);
	else if (j->sensors)
		rc = graph_sensors(st->datadir, st->step, &j->span, tmp,
		    st->err, st->errlen);
	else if (j->sources)
		rc = graph_sources(st->datadir, st->step, &j->span, j->idx[0],
		    j->title, tmp, st->err, st->errlen);
	else
		rc = graph_keys_mean(st->datadir, st->step, &j->span, j->idx,
		    j->slot, j->mean, j->n, j->title, tmp, NULL, st->err,
		    st->errlen);
	if (rc == -1 || rename(tmp, path) == -1) {
		if (rc == 0)
			site_fail(st, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A rendering process: its share of the jobs, its first error to fd. */
static void __attribute__((noreturn))
render_worker(struct site *st, size_t k, size_t nproc, int fd)
{
	size_t i, len;

	for (i = k; i < st->njobs; i += nproc) {
		if (render_job(st, &st->jobs[i]) == -1) {
			/* One line, written at once (PIPE_BUF): not mixed. */
			len = strlen(st->err);
			if (len >= PIPE_BUF / 4)
				len = PIPE_BUF / 4 - 1;
			st->err[len++] = '\n';
			_exit(write(fd, st->err, len) == (ssize_t)len ? 1 : 2);
		}
	}
	_exit(0);
}

/*
 * Draw the queued PNGs in one process per CPU (up to RENDER_PROCS):
 * rrd_graph is not thread-safe, and PNG encoding is most of a site's
 * cost, so on the day all the long windows change this halves the time
 * on two cores.  Worker k draws jobs k, k + nproc, ...; a worker's first
 * error comes back over a pipe.
 */
int
render_jobs(struct site *st)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nproc = ncpu > 1 ? (size_t)ncpu : 1, k, i;
	pid_t pid[RENDER_PROCS], w;
	struct sigaction dfl, old;
	int fd[2], status, rc = 0, failed = 0;
	char *msg;
	ssize_t r;

	if (nproc > RENDER_PROCS)
		nproc = RENDER_PROCS;
	if (nproc > st->njobs)
		nproc = st->njobs;
	if (nproc <= 1) {
		for (i = 0; i < st->njobs; i++)
			if (render_job(st, &st->jobs[i]) == -1)
				return -1;
		goto sizes;
	}
	if (pipe(fd) == -1)
		return site_fail(st, "pipe: %s", strerror(errno));
	/* A parent that ignores SIGCHLD would leave nothing to wait for. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(SIGCHLD, &dfl, &old) == -1) {
		close(fd[0]);
		close(fd[1]);
		return site_fail(st, "sigaction: %s", strerror(errno));
	}
	fflush(NULL); /* nothing buffered is written twice */
	for (k = 1; k < nproc; k++) {
		if ((pid[k] = fork()) == -1) {
			rc = site_fail(st, "fork: %s", strerror(errno));
			nproc = k;
			break;
		}
		if (pid[k] == 0) {
			close(fd[0]);
			render_worker(st, k, nproc, fd[1]);
		}
	}
	close(fd[1]);
	for (i = 0; rc == 0 && i < st->njobs; i += nproc)
		if (render_job(st, &st->jobs[i]) == -1)
			rc = -1;
	for (k = 1; k < nproc; k++) {
		while (
		    (w = waitpid(pid[k], &status, 0)) == -1 && errno == EINTR)
			;
		if (w == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	(void)sigaction(SIGCHLD, &old, NULL);
	if (rc == 0 && failed > 0) {
		/* Every worker has exited: the pipe holds all there is. */
		msg = xcalloc(1, PIPE_BUF);
		r = read(fd[0], msg, PIPE_BUF - 1);
		if (r > 0 && strchr(msg, '\n') != NULL)
			*strchr(msg, '\n') = '\0';
		site_fail(st, "%s", r > 0 ? msg : "a rendering process failed");
		free(msg);
		rc = -1;
	}
	close(fd[0]);
	if (rc == -1)
		return -1;
sizes:
	for (i = 0; i < st->njobs; i++) {
		struct png *p = &st->cur.v[st->jobs[i].png];
		char path[4200];

		snprintf(path, sizeof(path), "%s/%s", st->outdir, p->name);
		png_size(path, &p->w, &p->h);
	}
	return 0;
}

/* Archive syncs on their own thread; see committer.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "committer.h"
#include "log.h"
#include "xmalloc.h"

struct committer {
	committer_done_fn fn;
	void *arg;
	struct event *wake; /* the read end of pipe[] */
	int pipe[2];
	int busy; /* a batch is in flight (the loop's thread alone) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done_cv;
	/* Under mu: */
	struct archive_sync *batch; /* handed over, not yet picked up */
	int done, rc, quit;
	double secs;
};

static double
mono_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One byte says a batch has run.  A full pipe (it never is, with one
 * batch at a time) would already hold a wake-up; nothing else can fail.
 */
static void
committer_poke(struct committer *c)
{
	while (write(c->pipe[1], "", 1) == -1 && errno == EINTR)
		;
}

static void *
committer_main(void *arg)
{
	struct committer *c = arg;
	struct archive_sync *b;
	double t0;
	int rc;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->batch == NULL && !c->quit)
			pthread_cond_wait(&c->work, &c->mu);
		if ((b = c->batch) == NULL)
			break;
		c->batch = NULL;
		pthread_mutex_unlock(&c->mu);
		t0 = mono_now();
		rc = archive_sync_run(b);
		pthread_mutex_lock(&c->mu);
		c->rc = rc;
		c->secs = mono_now() - t0;
		c->done = 1;
		pthread_cond_signal(&c->done_cv);
		committer_poke(c);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* The batch in flight has run: tell the caller, if not told already. */
static void
committer_deliver(struct committer *c)
{
	double secs;
	int rc;

	pthread_mutex_lock(&c->mu);
	if (!c->done) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	c->done = 0;
	rc = c->rc;
	secs = c->secs;
	pthread_mutex_unlock(&c->mu);
	c->busy = 0;
	c->fn(rc, secs, c->arg);
}

static void
committer_on_wake(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	committer_deliver(arg);
}

struct committer *
committer_new(struct event_base *base, committer_done_fn fn, void *arg)
{
	struct committer *c = xcalloc(1, sizeof(*c));
	int i;

	c->fn = fn;
	c->arg = arg;
	if (pipe(c->pipe) == -1)
		fatal("pipe");
	for (i = 0; i < 2; i++)
		if (fcntl(c->pipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(c->pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("fcntl");
	c->wake = event_new(base, c->pipe[0], EV_READ | EV_PERSIST,
	    committer_on_wake, c);
	if (c->wake == NULL || event_add(c->wake, NULL) == -1)
		fatalx("cannot watch the committer's pipe");
	if (pthread_mutex_init(&c->mu, NULL) != 0 ||
	    pthread_cond_init(&c->work, NULL) != 0 ||
	    pthread_cond_init(&c->done_cv, NULL) != 0)
		fatalx("pthread_mutex_init");
	if ((errno = pthread_create(&c->thread, NULL, committer_main, c)) != 0)
		fatal("pthread_create");
	return c;
}

void
committer_start(struct committer *c, struct archive_sync *b)
{
	if (c->busy)
		fatalx("%s: a commit is in flight", __func__);
	c->busy = 1;
	pthread_mutex_lock(&c->mu);
	c->batch = b;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->mu);
}

int
committer_busy(const struct committer *c)
{
	return c->busy;
}

void
committer_wait(struct committer *c)
{
	if (!c->busy)
		return;
	pthread_mutex_lock(&c->mu);
	while (!c->done)
		pthread_cond_wait(&c->done_cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	committer_deliver(c);
}

void
committer_free(struct committer *c)
{
	if (c == NULL)
		return;
	/* A callback may start another batch: wait for each. */
	while (c->busy)
		committer_wait(c);
	pthread_mutex_lock(&c->mu);
	c->quit = 1;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->mu);
	if ((errno = pthread_join(c->thread, NULL)) != 0)
		fatal("pthread_join");
	event_free(c->wake);
	close(c->pipe[0]);
	close(c->pipe[1]);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->done_cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

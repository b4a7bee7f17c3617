/* A FIFO of RRD jobs and the thread that writes them; see rrdq.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rrdq.h"
#include "xmalloc.h"

struct qitem {
	struct rrd_job *job;
	struct qitem *next;
};

struct rrdq {
	struct rrdw *w;
	struct summary *sum;
	char *datadir;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct qitem *head, *tail;
	size_t n;
	int stopping;
};

/* A number in a small file of DATADIR, or dflt if absent. */
static int64_t
marker_read(const char *datadir, const char *name, int64_t dflt)
{
	char path[4096];
	long long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	if ((f = fopen(path, "r")) == NULL)
		return dflt;
	if (fscanf(f, "%lld", &v) != 1)
		v = dflt;
	fclose(f);
	return (int64_t)v;
}

static int
marker_save(const char *datadir, const char *name, int64_t v)
{
	char path[4096], tmp[4200], buf[32];
	int fd, n, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", v);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		goto out;
	if (write(fd, buf, (size_t)n) == n && fsync(fd) == 0 &&
	    rename(tmp, path) == 0)
		rc = 0;
	close(fd);
out:
	if (rc == -1)
		log_warn("%s", path);
	return rc;
}

int64_t
rrdq_last_final(const char *datadir)
{
	return marker_read(datadir, "last_final", INT64_MIN);
}

int
rrdq_save_last_final(const char *datadir, int64_t v)
{
	return marker_save(datadir, "last_final", v);
}

int64_t
rrdq_generation(const char *datadir)
{
	return marker_read(datadir, "generation", 0);
}

int
rrdq_save_generation(const char *datadir, int64_t v)
{
	return marker_save(datadir, "generation", v);
}

static void *
rrdq_main(void *arg)
{
	struct rrdq *q = arg;
	struct qitem *it;
	size_t failed;

	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		if ((it = q->head) == NULL) {
			pthread_mutex_unlock(&q->mu);
			return NULL;
		}
		pthread_mutex_unlock(&q->mu);
		if ((failed = rrdw_write(q->w, it->job)) > 0)
			log_warnx("interval %" PRId64 ": %zu RRD files not "
				  "updated (rebuild will redo them)",
			    it->job->start, failed);
		if (summary_add(q->sum, it->job) == -1)
			log_warnx("interval %" PRId64 ": window summary not "
				  "updated (rebuild will redo it)",
			    it->job->start);
		rrdq_save_last_final(q->datadir, it->job->start);
		pthread_mutex_lock(&q->mu);
		q->head = it->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->n--;
		pthread_mutex_unlock(&q->mu);
		rrd_job_free(it->job);
		free(it);
	}
}

struct rrdq *
rrdq_start(struct rrdw *w, struct summary *sum, const char *datadir)
{
	struct rrdq *q = xcalloc(1, sizeof(*q));

	q->w = w;
	q->sum = sum;
	q->datadir = xstrdup(datadir);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if ((errno = pthread_create(&q->thread, NULL, rrdq_main, q)) != 0)
		fatal("pthread_create");
	return q;
}

void
rrdq_push(struct rrdq *q, struct rrd_job *j)
{
	struct qitem *it = xcalloc(1, sizeof(*it));

	it->job = j;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t
rrdq_pending(struct rrdq *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void
rrdq_stop(struct rrdq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->datadir);
	free(q);
}

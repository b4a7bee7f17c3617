/* A rebuild asked of the running daemon, the command's side; see rebuild_live.h. */
#include <sys/file.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datadir.h"
#include "dirlock.h"
#include "log.h"
#include "progress.h"
#include "rebuild_live.h"

/* How often the command looks at DATADIR/rebuilt (milliseconds). */
#define REBUILD_POLL_MS 100
/* And at DATADIR/lock, every this many looks (probing takes it). */
#define REBUILD_HOLDER_EVERY 10

static void
rebuild_show(const struct datadir_rebuilt *r)
{
	char left[32];

	if (!progress_due())
		return;
	if (r->total == 0 || r->done == 0) {
		progress_show("rebuild by the running aggregator: starting");
		return;
	}
	progress_left(left, sizeof(left), r->done, r->total);
	progress_show("rebuild by the running aggregator: %" PRIu64
		      " of %" PRIu64 " archived intervals (%d%%), %s left",
	    r->done, r->total, (int)(r->done * 100 / r->total), left);
}

/* Requests one at a time, held to the end: the next waits its turn. */
static int
rebuild_turn(const char *datadir)
{
	char path[DATADIR_PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/rebuild.lock", datadir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		err(1, "%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK)
		err(1, "%s", path);
	log_info("another rebuild request of %s is under way: waiting for it",
	    datadir);
	if (flock(fd, LOCK_EX) == -1)
		err(1, "%s", path);
	return fd;
}

/* The request number, its signal, then waiting for the answer. */
static int
rebuild_ask(const char *datadir, pid_t pid)
{
	struct datadir_rebuilt r;
	struct dirlock_holder now;
	struct timespec ts;
	int64_t id, last;
	unsigned polls;

	/*
	 * Numbered in time order, each above the last: a rebuild the daemon
	 * reports for a number at least ours began after it read ours.
	 */
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		err(1, "clock_gettime");
	id = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if ((last = datadir_rebuild(datadir)) >= id)
		id = last + 1;
	/* It logged why. */
	if (datadir_save_rebuild(datadir, id) == -1) {
		fprintf(stderr,
		    "teiten-aggregator: cannot ask for a rebuild of %s\n",
		    datadir);
		return 1;
	}
	if (kill(pid, SIGUSR2) == -1) {
		fprintf(stderr,
		    "teiten-aggregator: cannot signal the aggregator (pid %ld) "
		    "serving %s: %s\n",
		    (long)pid, datadir, strerror(errno));
		return 1;
	}
	log_info("asked the running aggregator (pid %ld) to rebuild %s: "
		 "it derives the RRDs and summaries again beside the live "
		 "ones and goes on serving sensors",
	    (long)pid, datadir);
	(void)progress_start();
	for (polls = 1;; polls++) {
		if (datadir_rebuilt(datadir, &r) == 0 && r.id >= id) {
			if (r.state == REBUILT_DONE) {
				progress_end("rebuild by the running "
					     "aggregator: done in %.1f s",
				    progress_elapsed());
				log_info("rebuilt %s by the running aggregator "
					 "(pid %ld): %" PRIu64
					 " archived intervals",
				    datadir, (long)pid, r.done);
				return 0;
			}
			if (r.state == REBUILT_FAILED) {
				progress_clear();
				fprintf(stderr,
				    "teiten-aggregator: the running aggregator "
				    "(pid %ld) could not rebuild %s (see its "
				    "log); it tries again\n",
				    (long)pid, datadir);
				return 1;
			}
			rebuild_show(&r);
		}
		/* Stopped, or another process now: the request is lost. */
		if (polls % REBUILD_HOLDER_EVERY == 0 &&
		    (dirlock_holder(datadir, &now) == -1 || now.pid != pid)) {
			progress_clear();
			fprintf(stderr,
			    "teiten-aggregator: the aggregator (pid %ld) "
			    "stopped before it rebuilt %s; run the rebuild "
			    "again\n",
			    (long)pid, datadir);
			return 1;
		}
		(void)poll(NULL, 0, REBUILD_POLL_MS);
	}
}

int
rebuild_live(const char *datadir, const struct dirlock_holder *h)
{
	int rc, turn;

	if (strcmp(h->role, DIRLOCK_REBUILD) == 0) {
		fprintf(stderr,
		    "teiten-aggregator: %s is being rebuilt by process %ld\n",
		    datadir, (long)h->pid);
		return 1;
	}
	if (strcmp(h->role, DIRLOCK_DAEMON) != 0) {
		fprintf(stderr,
		    "teiten-aggregator: the aggregator serving %s (pid %ld) "
		    "is starting; run the rebuild again once it serves\n",
		    datadir, (long)h->pid);
		return 1;
	}
	turn = rebuild_turn(datadir);
	rc = rebuild_ask(datadir, h->pid);
	close(turn);
	return rc;
}

/* A rebuild asked of the running daemon, the command's side; see rebuild_live.h. */
#include <sys/file.h>
#include <sys/inotify.h>

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

/*
 * The command wakes when the daemon replaces DATADIR/rebuilt (inotify),
 * and at least this often (milliseconds) to see that the daemon still
 * holds DATADIR/lock; without inotify it looks this often instead.
 */
#define REBUILD_WAKE_MS 1000
#define REBUILD_POLL_MS 100

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

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The daemon's answer to request id: 0 done, 1 failed or lost (said on
 * stderr), -1 not yet.  holder: also check that pid still holds DATADIR.
 */
static int
rebuild_answer(const char *datadir, int64_t id, pid_t pid, int holder)
{
	struct datadir_rebuilt r;
	struct dirlock_holder now;

	if (datadir_rebuilt(datadir, &r) == 0 && r.id >= id) {
		if (r.state == REBUILT_DONE) {
			progress_end("rebuild by the running aggregator: done "
				     "in %.1f s",
			    progress_elapsed());
			log_info("rebuilt %s by the running aggregator (pid "
				 "%ld): %" PRIu64 " archived intervals",
			    datadir, (long)pid, r.done);
			return 0;
		}
		if (r.state == REBUILT_FAILED) {
			progress_clear();
			fprintf(stderr,
			    "teiten-aggregator: the running aggregator (pid "
			    "%ld) could not rebuild %s (see its log); it tries "
			    "again\n",
			    (long)pid, datadir);
			return 1;
		}
		rebuild_show(&r);
	}
	/* Stopped, or another process now: the request is lost. */
	if (holder && (dirlock_holder(datadir, &now) == -1 || now.pid != pid)) {
		progress_clear();
		fprintf(stderr,
		    "teiten-aggregator: the aggregator (pid %ld) stopped "
		    "before it rebuilt %s; run the rebuild again\n",
		    (long)pid, datadir);
		return 1;
	}
	return -1;
}

/* The request number, its signal, then waiting for the answer. */
static int
rebuild_ask(const char *datadir, pid_t pid)
{
	struct timespec ts;
	struct pollfd pfd;
	char ev[4096];
	int64_t id, last, check;
	int ifd, rc, holder;

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
	/* Watched before the signal, so that no answer slips by unseen. */
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd != -1 &&
	    inotify_add_watch(ifd, datadir, IN_MOVED_TO | IN_CLOSE_WRITE) ==
		-1) {
		close(ifd);
		ifd = -1;
	}
	if (kill(pid, SIGUSR2) == -1) {
		fprintf(stderr,
		    "teiten-aggregator: cannot signal the aggregator (pid %ld) "
		    "serving %s: %s\n",
		    (long)pid, datadir, strerror(errno));
		if (ifd != -1)
			close(ifd);
		return 1;
	}
	log_info("asked the running aggregator (pid %ld) to rebuild %s: "
		 "it derives the RRDs and summaries again beside the live "
		 "ones and goes on serving sensors",
	    (long)pid, datadir);
	(void)progress_start();
	pfd.fd = ifd;
	pfd.events = POLLIN;
	check = now_ms() + REBUILD_WAKE_MS;
	for (;;) {
		holder = now_ms() >= check;
		if (holder)
			check = now_ms() + REBUILD_WAKE_MS;
		if ((rc = rebuild_answer(datadir, id, pid, holder)) != -1)
			break;
		if (ifd == -1) {
			(void)poll(NULL, 0, REBUILD_POLL_MS);
			continue;
		}
		/* A file replaced in DATADIR, or time for the holder. */
		if (poll(&pfd, 1, REBUILD_WAKE_MS) == 1)
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
	}
	if (ifd != -1)
		close(ifd);
	return rc;
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

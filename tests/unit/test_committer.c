/*
 * Unit tests for committer (aggregator/committer.h): a batch handed over
 * is synced on another thread while the caller's event loop goes on
 * running (a sync held by syncspy.c does not stop a timer from firing),
 * and the result comes back once, in the loop, as 0 or, when a sync
 * fails, -1; waiting and freeing call back for the batch in flight.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "archive.h"
#include "committer.h"
#include "syncspy.h"
#include "tmpdir.h"

struct fixture {
	char dir[64];
	struct event_base *base;
	struct archive *archive;
	struct committer *c;
	int calls, rc, order, timer_at, done_at;
	double secs;
};

static void
done(int rc, double secs, void *arg)
{
	struct fixture *f = arg;

	f->calls++;
	f->rc = rc;
	f->secs = secs;
	f->done_at = ++f->order;
	event_base_loopbreak(f->base);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL || tmpdir_make(f->dir, sizeof(f->dir), "commit") == -1)
		return -1;
	if ((f->base = event_base_new()) == NULL)
		return -1;
	if ((f->archive = archive_open(f->dir, err, sizeof(err))) == NULL)
		return -1;
	f->c = committer_new(f->base, done, f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	committer_free(f->c);
	archive_free(f->archive);
	event_base_free(f->base);
	rc = tmpdir_remove(f->dir);
	free(f);
	return rc;
}

static void
start(struct fixture *f)
{
	assert_int_equal(archive_append(f->archive, 60, (const uint8_t *)"rec",
			     3),
	    0);
	committer_start(f->c, archive_sync_take(f->archive));
	assert_int_equal(committer_busy(f->c), 1);
}

/* Fires while the batch's sync is held, then lets it go. */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *f = arg;

	(void)fd;
	(void)what;
	syncspy_wait_held();
	f->timer_at = ++f->order;
	syncspy_hold(0);
}

static void
test_off_thread(void **state)
{
	struct fixture *f = *state;
	struct timeval now = {0, 0};
	struct event *t = evtimer_new(f->base, on_timer, f);

	assert_non_null(t);
	syncspy_hold(1);
	start(f);
	assert_int_equal(evtimer_add(t, &now), 0);
	assert_int_equal(event_base_dispatch(f->base), 0);
	/* The loop ran the timer while the sync waited, then heard of it. */
	assert_int_equal(f->timer_at, 1);
	assert_int_equal(f->done_at, 2);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->rc, 0);
	assert_true(f->secs >= 0);
	assert_false(pthread_equal(syncspy_last_thread(), pthread_self()));
	assert_int_equal(committer_busy(f->c), 0);
	event_free(t);
}

static void
test_fails(void **state)
{
	struct fixture *f = *state;

	syncspy_failing(1);
	start(f);
	assert_int_equal(event_base_dispatch(f->base), 0);
	syncspy_failing(0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->rc, -1);
	/* The next batch is healthy. */
	start(f);
	assert_int_equal(event_base_dispatch(f->base), 0);
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->rc, 0);
}

/* Waiting calls back at once; the loop's wake-up later does not again. */
static void
test_wait(void **state)
{
	struct fixture *f = *state;

	start(f);
	committer_wait(f->c);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->rc, 0);
	assert_int_equal(committer_busy(f->c), 0);
	assert_int_equal(event_base_loop(f->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(f->calls, 1);
	committer_wait(f->c); /* none in flight: returns */
	assert_int_equal(f->calls, 1);
}

static void
test_free_in_flight(void **state)
{
	struct fixture *f = *state;

	start(f);
	committer_free(f->c);
	f->c = NULL;
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_off_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_in_flight, setup,
		teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Interval assignment and closing; see tally.h. */
#include "interval.h"
#include "tally.h"

void
tally_init(struct tally *t, uint32_t len, const struct prefixes *monitor,
    tally_emit_fn emit, tally_gap_fn gap, void *arg)
{
	t->cur = counts_new();
	t->prev = counts_new();
	t->len = len;
	t->open = 0;
	t->prev_open = 0;
	t->monitor = monitor;
	t->emit = emit;
	t->gap = gap;
	t->arg = arg;
}

void
tally_free(struct tally *t)
{
	counts_free(t->cur);
	counts_free(t->prev);
	t->cur = t->prev = NULL;
}

void
tally_begin(struct tally *t, int64_t sec)
{
	if (t->open)
		return;
	counts_reset(t->cur, interval_start(sec, t->len), t->len);
	t->open = 1;
}

static void
tally_close_prev(struct tally *t)
{
	if (!t->prev_open)
		return;
	t->emit(t->prev, t->arg);
	t->prev_open = 0;
}

/* Close cur (and prev), report the gap up to target, open target. */
static void
tally_jump(struct tally *t, int64_t target)
{
	int64_t next = t->cur->start + t->len;

	tally_close_prev(t);
	t->emit(t->cur, t->arg);
	/*
	 * Every interval between is reported, since an empty one says "up,
	 * saw nothing"; a run of them goes in one call so that a capture
	 * with a timestamp years ahead costs one call, not millions.
	 */
	if (next < target)
		t->gap(next, (uint64_t)(target - next) / t->len, t->len,
		    t->arg);
	counts_reset(t->cur, target, t->len);
}

void
tally_advance(struct tally *t, int64_t sec)
{
	int64_t target;

	if (!interval_valid(sec))
		return;
	target = interval_start(sec, t->len);
	if (!t->open) {
		tally_begin(t, sec);
		return;
	}
	if (t->prev_open && t->cur->start <= target)
		tally_close_prev(t);
	if (t->cur->start < target)
		tally_jump(t, target);
}

void
tally_finish(struct tally *t)
{
	if (!t->open)
		return;
	tally_close_prev(t);
	t->emit(t->cur, t->arg);
	t->open = 0;
}

int64_t
tally_oldest(const struct tally *t)
{
	return t->prev_open ? t->prev->start : t->cur->start;
}

/* The next interval: the current one stays open as prev. */
static void
tally_step(struct tally *t, int64_t target)
{
	struct counts *c;

	tally_close_prev(t);
	c = t->prev;
	t->prev = t->cur;
	t->cur = c;
	t->prev_open = 1;
	counts_reset(t->cur, target, t->len);
}

/* Out of line: first packet, next interval, a straggler, a late packet. */
struct counts *
tally_slow(struct tally *t, int64_t sec)
{
	struct counts *oldest;
	int64_t target;

	if (!t->open && interval_valid(sec)) {
		tally_begin(t, sec);
		return t->cur;
	}
	if (!t->open)
		tally_begin(t, 0);
	oldest = t->prev_open ? t->prev : t->cur;
	if (!interval_valid(sec) || sec < oldest->start) {
		oldest->t.late++;
		return oldest;
	}
	if (sec < t->cur->start)
		return t->prev;
	target = interval_start(sec, t->len);
	if (target == t->cur->start + t->len)
		tally_step(t, target);
	else
		tally_jump(t, target);
	return t->cur;
}

int
tally_monitored(const struct tally *t, const struct pkt *pk)
{
	if (pk->family == 4)
		return prefixes_match4(t->monitor, pk->dst);
	return prefixes_match6(t->monitor, pk->dst);
}

/* Interval assignment and closing; see tally.h. */
#include "interval.h"
#include "tally.h"

void
tally_init(struct tally *t, uint32_t len, const struct prefixes *monitor,
    tally_emit_fn emit, tally_gap_fn gap, void *arg)
{
	t->cur = counts_new();
	t->len = len;
	t->open = 0;
	t->monitor = monitor;
	t->emit = emit;
	t->gap = gap;
	t->arg = arg;
}

void
tally_free(struct tally *t)
{
	counts_free(t->cur);
	t->cur = NULL;
}

void
tally_begin(struct tally *t, int64_t sec)
{
	if (t->open)
		return;
	counts_reset(t->cur, interval_start(sec, t->len), t->len);
	t->open = 1;
}

void
tally_advance(struct tally *t, int64_t sec)
{
	int64_t target = interval_start(sec, t->len);
	int64_t next;

	if (!t->open) {
		tally_begin(t, sec);
		return;
	}
	if (t->cur->start >= target)
		return;
	/*
	 * Every interval between is reported, since an empty one says "up,
	 * saw nothing"; a run of them goes in one call so that a capture
	 * with a timestamp years ahead costs one call, not millions.
	 */
	t->emit(t->cur, t->arg);
	next = t->cur->start + t->len;
	if (next < target)
		t->gap(next, (uint64_t)(target - next) / t->len, t->len,
		    t->arg);
	counts_reset(t->cur, target, t->len);
}

void
tally_finish(struct tally *t)
{
	if (!t->open)
		return;
	t->emit(t->cur, t->arg);
	t->open = 0;
}

/* Out of line: first packet, next interval, or a late packet. */
void
tally_slow(struct tally *t, int64_t sec)
{
	if (!t->open)
		tally_begin(t, sec);
	else if (sec >= t->cur->start + t->len)
		tally_advance(t, sec);
	else
		t->cur->t.late++;
}

int
tally_monitored(const struct tally *t, const struct pkt *pk)
{
	if (pk->family == 4)
		return prefixes_match4(t->monitor, pk->dst);
	return prefixes_match6(t->monitor, pk->dst);
}

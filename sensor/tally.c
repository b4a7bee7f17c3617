/* Interval assignment, closing and outliers; see tally.h. */
#include <string.h>

#include "interval.h"
#include "tally.h"

static struct counts *tally_place(struct tally *, int64_t sec);
static void tally_first_clock(struct tally *, int64_t sec);
static void tally_first_settle(struct tally *);

void
tally_init(struct tally *t, uint32_t len, const struct prefixes *monitor,
    tally_emit_fn emit, tally_gap_fn gap, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cur = counts_new();
	t->prev = counts_new();
	t->len = len;
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
tally_set_max_gap(struct tally *t, int64_t gap)
{
	t->max_gap = gap > 0 && gap < INTERVAL_SEC_LIMIT ? gap : 0;
}

/* Packets inside cur skip tally_slow() only while nothing is pending. */
static void
tally_fast(struct tally *t)
{
	t->fast_len = t->open && !t->suspect ? t->len : 0;
}

/* Open the first interval; outliers seen before it are counted there. */
static void
tally_open(struct tally *t, int64_t sec)
{
	counts_reset(t->cur, interval_start(sec, t->len), t->len);
	t->cur->t.outliers = t->first_outliers;
	t->first_outliers = 0;
	t->open = 1;
	tally_fast(t);
}

void
tally_begin(struct tally *t, int64_t sec)
{
	if (t->open)
		return;
	tally_first_clock(t, sec);
	if (!t->open)
		tally_open(t, sec);
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

/*
 * Does sec lie more than the maximum gap beyond the open intervals?  Ahead
 * is measured from the end of cur, behind from the start of the oldest.
 */
static int
tally_far(const struct tally *t, int64_t sec)
{
	if (t->max_gap == 0 || !t->open || !interval_valid(sec))
		return 0;
	return sec - (t->cur->start + t->len) > t->max_gap ||
	    tally_oldest(t) - sec > t->max_gap;
}

/*
 * Close the open intervals and open the one holding sec, reporting nothing
 * in between: time went back, or the open ones came from a stray first
 * timestamp.
 */
static void
tally_restart(struct tally *t, int64_t sec)
{
	tally_close_prev(t);
	t->emit(t->cur, t->arg);
	counts_reset(t->cur, interval_start(sec, t->len), t->len);
}

/*
 * Decide the held suspect by a later time: near it, the jump was real and
 * the suspect counts where its timestamp puts it (behind the open
 * intervals, counting starts again there rather than making every later
 * packet late); else it is an outlier.
 */
static void
tally_decide(struct tally *t, int64_t sec)
{
	struct counts *c;
	int64_t d;

	if (!t->suspect)
		return;
	t->suspect = 0;
	tally_fast(t);
	d = interval_valid(sec) ? sec - t->held_sec : INTERVAL_SEC_LIMIT;
	if (d > t->max_gap || -d > t->max_gap) {
		t->cur->t.outliers++;
		return;
	}
	if (t->held_sec < tally_oldest(t))
		tally_restart(t, t->held_sec);
	c = tally_place(t, t->held_sec);
	counts_add(c, &t->held);
}

void
tally_advance(struct tally *t, int64_t sec)
{
	int64_t target;

	if (!interval_valid(sec))
		return;
	tally_first_clock(t, sec);
	tally_decide(t, sec);
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
	tally_first_settle(t);
	if (!t->open)
		return;
	/* Nothing came after it to confirm it. */
	if (t->suspect) {
		t->suspect = 0;
		t->cur->t.outliers++;
	}
	tally_close_prev(t);
	t->emit(t->cur, t->arg);
	t->open = 0;
	tally_fast(t);
}

int
tally_tick(struct tally *t, int64_t now, int64_t slack)
{
	if (!interval_valid(now))
		return 0;
	tally_first_clock(t, now);
	tally_decide(t, now);
	if (t->open && t->cur->start > now + slack) {
		tally_restart(t, now);
		return 1;
	}
	tally_advance(t, now - slack);
	return 0;
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

/* Where a packet at sec counts: first packet, next interval, late. */
static struct counts *
tally_place(struct tally *t, int64_t sec)
{
	struct counts *oldest;
	int64_t target;

	if (!t->open && interval_valid(sec)) {
		tally_open(t, sec);
		return t->cur;
	}
	if (!t->open)
		tally_open(t, 0);
	oldest = t->prev_open ? t->prev : t->cur;
	if (!interval_valid(sec) || sec < oldest->start) {
		oldest->t.late++;
		return oldest;
	}
	if (sec < t->cur->start)
		return t->prev;
	if (sec < t->cur->start + t->len)
		return t->cur;
	target = interval_start(sec, t->len);
	if (target == t->cur->start + t->len)
		tally_step(t, target);
	else
		tally_jump(t, target);
	return t->cur;
}

static int
tally_near(int64_t a, int64_t b, int64_t gap)
{
	return a - b <= gap && b - a <= gap;
}

/* Count a packet as tally_packet() does once its class is known. */
static void
tally_count(struct tally *t, int64_t sec, const struct pkt *pk)
{
	struct counts *c;

	if ((c = tally_slow(t, sec, pk)) != NULL)
		counts_add(c, pk);
}

/*
 * Keep a packet whose frame is about to go: its addresses are copied into
 * addr, where the kept packet points.
 */
static void
tally_keep(struct pkt *to, uint8_t addr[2][16], const struct pkt *from)
{
	size_t len = from->family == 4 ? 4 : 16;

	*to = *from;
	if (from->src == NULL || from->dst == NULL) {
		to->src = to->dst = NULL;
		return;
	}
	memmove(addr[0], from->src, len);
	memmove(addr[1], from->dst, len);
	to->src = addr[0];
	to->dst = addr[1];
}

/* The oldest held first packet was an outlier. */
static void
tally_first_drop(struct tally *t)
{
	t->first_outliers++;
	t->first_sec[0] = t->first_sec[1];
	tally_keep(&t->first[0], t->first_addr[0], &t->first[1]);
	t->nfirst--;
}

/*
 * The oldest held first packet opens the intervals; one held after it goes
 * the usual way, a suspect if it lies beyond the gap, so that what comes
 * next decides it as it would any suspect.
 */
static void
tally_first_open(struct tally *t)
{
	int n = t->nfirst;

	t->nfirst = 0;
	counts_add(tally_place(t, t->first_sec[0]), &t->first[0]);
	if (n == 2)
		tally_count(t, t->first_sec[1], &t->first[1]);
}

/* Nothing more will decide: the oldest held packet opens. */
static void
tally_first_settle(struct tally *t)
{
	if (t->nfirst > 0)
		tally_first_open(t);
}

/*
 * The clock decides the held first packets: the first within the gap of
 * it opens the intervals, those before it are outliers; if none is, all
 * are, and the caller opens the interval of the clock.
 */
static void
tally_first_clock(struct tally *t, int64_t sec)
{
	while (t->nfirst > 0) {
		if (tally_near(t->first_sec[0], sec, t->max_gap)) {
			tally_first_open(t);
			return;
		}
		tally_first_drop(t);
	}
}

/*
 * A packet before any interval is open, with the outlier rule on: which
 * of the held packets does it confirm?  The oldest held one if it lies
 * within the gap of it (a second one held goes on as a suspect), else
 * the second one, the oldest being an outlier; if neither, the oldest is
 * an outlier and this packet is held in turn.
 */
static struct counts *
tally_first(struct tally *t, int64_t sec, const struct pkt *pk)
{
	if (!interval_valid(sec)) {
		/* An impossible timestamp tells nothing: as at the end. */
		tally_first_settle(t);
		tally_decide(t, sec);
		return tally_place(t, sec);
	}
	if (t->nfirst > 0 && tally_near(t->first_sec[0], sec, t->max_gap)) {
		tally_first_open(t);
		return tally_slow(t, sec, pk);
	}
	if (t->nfirst == 2 && tally_near(t->first_sec[1], sec, t->max_gap)) {
		tally_first_drop(t);
		tally_first_open(t);
		return tally_slow(t, sec, pk);
	}
	if (t->nfirst == 2)
		tally_first_drop(t);
	t->first_sec[t->nfirst] = sec;
	tally_keep(&t->first[t->nfirst], t->first_addr[t->nfirst], pk);
	t->nfirst++;
	return NULL;
}

/* Out of line: anything but a packet inside cur with nothing held. */
struct counts *
tally_slow(struct tally *t, int64_t sec, const struct pkt *pk)
{
	if (!t->open && t->max_gap != 0)
		return tally_first(t, sec, pk);
	tally_decide(t, sec);
	if (tally_far(t, sec)) {
		t->suspect = 1;
		t->held_sec = sec;
		tally_keep(&t->held, t->held_addr, pk);
		tally_fast(t);
		return NULL;
	}
	return tally_place(t, sec);
}

int
tally_monitored(const struct tally *t, const struct pkt *pk)
{
	if (pk->family == 4)
		return prefixes_match4(t->monitor, pk->dst);
	return prefixes_match6(t->monitor, pk->dst);
}

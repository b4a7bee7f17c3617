/*
 * `teiten-aggregator rebuild` while the daemon serves DATADIR: the
 * command asks the daemon (request number in DATADIR/rebuild, then
 * SIGUSR2), which derives both trees again beside the live ones as a
 * catch-up (rrdq_rebuild_ask) and swaps them in, writing final intervals
 * all the while.  The command waits for DATADIR/rebuilt to report its
 * request (or a later one) done or failed, showing the progress on a
 * terminal.
 */
#ifndef TEITEN_REBUILD_LIVE_H
#define TEITEN_REBUILD_LIVE_H

#include "dirlock.h"

/*
 * Ask the holder of DATADIR's lock, a daemon, to rebuild it and wait;
 * requests go one at a time (DATADIR/rebuild.lock).  Returns 0 once
 * done; 1, with one line on standard error, if it failed, could not be
 * asked (the holder is a rebuild, or a daemon still starting) or stopped
 * before it was done.
 */
int rebuild_live(const char *datadir, const struct dirlock_holder *);

#endif

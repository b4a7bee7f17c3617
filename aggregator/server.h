/*
 * The aggregator's network side: accepts sensors on one TCP address,
 * authenticates them (man/teiten-protocol.7), hands their records to the
 * ingest, and acknowledges each record only after an archive commit begun
 * after its append has made it durable.  Commits run on their own thread
 * (committer.h), one at a time; the records that arrive while one runs
 * share the next, begun as soon as it ends.  The archive is used from the
 * loop's thread alone, the commit thread touching only its batch; that
 * thread starts with the first commit, so the caller may fork (daemon(3))
 * after server_new().
 * Unknown sensors, bad MACs, replays, garbage, oversized frames and clients
 * that stall are logged, counted and disconnected; the others go on.
 * A client's cost is bounded: it must authenticate within auth_timeout
 * seconds of connecting, it is not read while its unread acks exceed a
 * watermark, and a full table makes room by closing the oldest client that
 * has not authenticated.
 */
#ifndef TEITEN_SERVER_H
#define TEITEN_SERVER_H

#include <sys/resource.h>

#include <stdint.h>

#include <event2/event.h>

#include "archive.h"
#include "fleet.h"
#include "ingest.h"
#include "keyfile.h"
#include "metrics.h"

struct server;

struct server_stats {
	uint64_t accepted, refused; /* connections */
	uint64_t unknown_sensor, bad_mac, bad_frame, timeouts, too_many;
	uint64_t evicted; /* unauthenticated, closed to make room */
	uint64_t paused; /* times a client was not read for unread acks */
	uint64_t revoked; /* sessions ended by a key removed or changed */
	uint64_t replaced; /* sessions closed for a newer one of the sensor */
	uint64_t commits;
};

struct server *
server_new(struct event_base *, const char *listen, struct ingest *,
    struct archive *, unsigned auth_timeout, char *err, size_t errlen);
void server_free(struct server *);
/*
 * The connections an open file limit of nofile leaves room for beside the
 * descriptors the archive, the RRD writer and libevent need; the table
 * holds that many until server_set_max_conns() says otherwise.
 */
size_t server_conns_allowed(rlim_t nofile);
/*
 * At most n connections at once: when the table is full, the oldest
 * connection that has not authenticated is closed to make room, and
 * with none such the new connection is refused (counted as too_many).
 */
void server_set_max_conns(struct server *, size_t n);
/* Connections open now, authenticated or not, and the most allowed. */
void server_conns(const struct server *, size_t *open, size_t *max);
/*
 * Replace the keys (SIGHUP), taking ownership; sessions whose key was
 * removed or changed are ended.  Returns how many.
 */
size_t server_set_keys(struct server *, struct keyring *);
/* Seconds each archive commit (its fsyncs) took, since start. */
const struct metrics_hist *server_fsync(const struct server *);
void server_stats(const struct server *, struct server_stats *);
/* Sessions and records are told to f (borrowed; NULL: to nobody). */
void server_set_fleet(struct server *, struct fleet *);

#endif

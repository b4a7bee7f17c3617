/*
 * Sends spooled records to the aggregator over one TCP connection: the
 * handshake (with a PROOF frame after it when the first record is over
 * FRAME_MAX_PREAUTH), then records in interval order with up to a window of them
 * unacknowledged; each leaves the spool only when acknowledged.  On any
 * failure the connection is dropped and retried with backoff, resending
 * from the oldest record.  A record that cannot be decoded, that carries
 * another sensor's id, or that the aggregator rejects or refuses for good
 * is set aside in the spool and the next one goes; one refused because the
 * sensor has too many intervals open waits, on the same connection, and
 * goes again.  The sender borrows the spool and event base.
 */
#ifndef TEITEN_SENDER_H
#define TEITEN_SENDER_H

#include <stdint.h>

#include <event2/event.h>

#include "frame.h"
#include "spool.h"

struct sender;

struct sender *sender_new(struct event_base *, const char *host,
    const char *port, const char *id, const uint8_t psk[FRAME_KEY],
    struct spool *, void (*drained)(void *), void *arg);
void sender_free(struct sender *);
/* Call drained (with arg) whenever nothing is spooled or in flight. */
void sender_set_drained(struct sender *, void (*drained)(void *), void *);
/*
 * Call gave_up (with arg) after seconds without an acknowledgement from
 * the aggregator, counted from now; each acknowledgement starts the count
 * again, and a wait the aggregator asked for (too many open intervals) is
 * not counted.  0 seconds: never.
 */
void sender_set_give_up(struct sender *, unsigned seconds,
    void (*gave_up)(void *), void *arg);
/* New records are in the spool: connect or send. */
void sender_kick(struct sender *);
struct sender_stats {
	uint64_t stored, dup; /* acknowledged */
	uint64_t rejected; /* the aggregator found the record invalid */
	uint64_t refused[REFUSE_REASONS]; /* by reason; REFUSE_OPEN retried */
	uint64_t unreadable; /* could not be read or decoded from the spool */
	uint64_t foreign; /* in the spool, but of another sensor id */
	uint64_t sent; /* record frames sent, each resend counted again */
};

void sender_stats(const struct sender *, struct sender_stats *);
/* 1 while a session with the aggregator is authenticated, else 0. */
int sender_connected(const struct sender *);
/* A new key: drop the connection, if any, and connect again with it. */
void sender_rekey(struct sender *, const uint8_t psk[FRAME_KEY]);

#endif

/*
 * Sends spooled records to the aggregator over one TCP connection: the
 * handshake, then records in interval order with up to a window of them
 * unacknowledged; each leaves the spool only when acknowledged.  On any
 * failure the connection is dropped and retried with backoff, resending
 * from the oldest record.  The sender borrows the spool and event base.
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
/* New records are in the spool: connect or send. */
void sender_kick(struct sender *);
/* Records acknowledged as stored, duplicate, rejected. */
void sender_stats(const struct sender *, uint64_t *stored, uint64_t *dup,
    uint64_t *rejected);

#endif

/*
 * One sensor's counts for one interval, and their binary encoding, the
 * same on the wire, in the sensor's spool and in the aggregator's archive
 * (man/teiten-protocol.7).  record_decode() trusts nothing: every length,
 * key and order is checked, and the keyed totals must equal the sums of
 * their entries.
 * A record owns its entries array and its sketches; record_clear() frees
 * them.
 */
#ifndef TEITEN_RECORD_H
#define TEITEN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "hll.h"
#include "proto.h"

/*
 * Version 1 carries packet counts; version 2 adds, per keyed entry and
 * for the whole interval, sketches of the distinct source and target
 * addresses (common/hll.h), hashed with the fleet's sketch key, whose id
 * the record names so that only sketches of one key are merged.
 */
#define RECORD_VERSION 2
#define RECORD_KEYID 8
#define RECORD_ID_MAX 64

/* Totals carried by every record, in encoding order. */
enum record_total {
	RT_TCP,
	RT_UDP,
	RT_ICMP,
	RT_ICMP6,
	RT_FRAGMENT,
	RT_OTHER,
	RT_NONIP,
	RT_MALFORMED,
	RT_UNMONITORED,
	RT_TCP_SYN,
	RT_TCP_SYNACK,
	RT_TCP_RST,
	RT_TCP_OTHER,
	RT_LATE,
	RT_CAPTURE_DROPS,
	RT_SPOOL_DROPS, /* records the sensor's spool had to discard */
	RT_COUNT
};

struct record_entry {
	uint8_t proto; /* enum proto */
	uint16_t key;
	uint64_t packets;
	/* Version 2: distinct sources and targets, owned by the record. */
	struct hll *src, *dst;
};

struct record {
	char sensor[RECORD_ID_MAX + 1];
	int64_t start;
	uint32_t len;
	uint64_t naddrs; /* monitored addresses; 0 if unknown */
	uint64_t totals[RT_COUNT];
	/*
	 * Sketches (version 2) when sketch_p is not 0: every entry has both,
	 * of precision sketch_p, and so have all_src and all_dst, the
	 * interval's distinct sources and targets over all keys.
	 */
	unsigned sketch_p;
	uint8_t sketch_keyid[RECORD_KEYID];
	struct hll *all_src, *all_dst;
	/* Sorted by proto, then key: at most KEYIDX_COUNT (keyidx.h). */
	struct record_entry *entries;
	size_t nentries, cap;
};

void record_init(struct record *);
void record_clear(struct record *);
/*
 * Append an entry; the caller adds them in order.  Its sketches start
 * NULL: a version-2 writer sets them (the record then owns them).
 */
struct record_entry *
record_add(struct record *, enum proto, uint16_t key, uint64_t n);
/* Sensor ids: 1 to 64 of [A-Za-z0-9._-]. */
int record_valid_id(const char *);
const char *record_total_name(enum record_total);

/* Bytes record_encode() needs at most for this record. */
size_t record_encoded_max(const struct record *);
/*
 * Encode into buf: version 1 if sketch_p is 0, else version 2, whose
 * sketches must all be there and of precision sketch_p (fatalx if not).
 * Returns bytes written, or 0 if cap is below record_encoded_max().
 */
size_t record_encode(const struct record *, uint8_t *buf, size_t cap);
/*
 * Decode len bytes, version 1 or 2, into r (whose old entries and
 * sketches are freed).  Returns 0, or -1 with a static reason in *why;
 * either way r is the caller's to record_clear().
 */
int record_decode(struct record *, const uint8_t *buf, size_t len,
    const char **why);

#endif

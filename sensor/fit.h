/*
 * A record the sensor can always send: one whose encoding would pass the
 * frame limit (FRAME_MAX_PAYLOAD) has every sketch folded one precision
 * lower (hll_fold: as if built there, error 1.04 / sqrt(2^p)) until it
 * fits; if it does not fit even at HLL_P_MIN it loses its sketches and
 * goes as version 1.  Under the 32 MiB frame limit that last step is
 * never needed: a record of every key (KEYIDX_COUNT) with every sketch at
 * its largest fits at precision 7 (tests/unit/test_fit.c).
 */
#ifndef TEITEN_FIT_H
#define TEITEN_FIT_H

#include <stddef.h>

#include "record.h"

enum fit_result {
	FIT_AS_IS, /* fits as it is */
	FIT_FOLDED, /* sketches folded to a lower r->sketch_p */
	FIT_UNSKETCHED, /* sketches dropped: version 1 */
};

/*
 * Make record_encode(r) take at most max bytes (max at least what a
 * version-1 record can take; else only sketches are shed).
 */
enum fit_result fit_record(struct record *r, size_t max);
/*
 * Bytes record_encode(r) takes at most: exact for the sketches, an upper
 * bound for the rest (a few bytes per entry over).
 */
size_t fit_size(const struct record *r);

#endif

/*
 * Text output of the sensor: the per-key lines of doc/CONTRACTS.md
 * contract 3 on one stream, and the human-readable totals on another.
 */
#ifndef TEITEN_REPORT_H
#define TEITEN_REPORT_H

#include <stdio.h>

#include "counts.h"

/*
 * "<start>\t<proto>\t<key>\t<packets>" per non-zero key, sorted; with
 * sources set (and sketches on), "\t<sources>\t<targets>" after it: the
 * estimated distinct source and target addresses, rounded.
 */
void report_lines(FILE *, struct counts *, int sources);
/* One line of totals, prefixed with label. */
void report_totals(FILE *, const char *label, const struct totals *);

#endif

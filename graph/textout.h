/*
 * Text that teiten-graph writes: strings escaped for HTML, JSON and CSV
 * (RFC 4180), and the fields of one ranked key
 * as `teiten-graph top --json` and the site's exports give them.
 */
#ifndef TEITEN_TEXTOUT_H
#define TEITEN_TEXTOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "window.h"

void html_text(FILE *, const char *);
void json_text(FILE *, const char *); /* with its quotes */
void csv_text(FILE *, const char *); /* quoted only when it must be */
/*
 * A number for JSON or CSV, %.17g so that it reads back exactly.  JSON
 * has no inf or NaN and teiten never computes one from sane data: a
 * non-finite v is refused (-1, nothing written) rather than printed.
 */
int out_number(FILE *, double v);
/*
 * "rank": rank, "key": "tcp/445", "service": "...", "avg": ..., "share":
 * ..., "sources": ..., "targets": ... for ranked key i, or -1, nothing
 * written, when avg or share is not finite.  Distinct counts are whole
 * numbers, null where unknown (no sketches).
 */
int top_json_fields(FILE *, const struct window *, size_t i, size_t rank);
/* A distinct count rounded to a whole number, "-" when unknown. */
const char *number_text(double v, char *buf, size_t len);
/* v[i] as a whole number, or JSON null / an empty CSV field. */
void json_count(FILE *, const double *v, size_t i);
void csv_count(FILE *, const double *v, size_t i);
/* number_text() of v[i], "-" when v is NULL. */
const char *count_text(const double *v, size_t i, char *buf, size_t len);

#endif

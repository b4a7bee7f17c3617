/*
 * Strict number parsing for options and config values: the whole string
 * must be a decimal number within [min, max]; no sign, no trailing junk.
 */
#ifndef TEITEN_PARSE_H
#define TEITEN_PARSE_H

#include <stdint.h>

int parse_u64(const char *, uint64_t min, uint64_t max, uint64_t *);
int parse_bool(const char *, int *);

#endif

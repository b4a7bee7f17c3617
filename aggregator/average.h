/*
 * What an interval's average is (doc/CONTRACTS.md contract 4): per key,
 * the packets of the records of the sensors that reported the interval,
 * summed, divided by how many reported it; each sensor's health beside.
 * The caller adds each sensor's record once; the job it gets back is its
 * own.
 */
#ifndef TEITEN_AVERAGE_H
#define TEITEN_AVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "rrdw.h"
#include "sumtab.h"

/* An interval's sums so far (held inline by the caller; fields private). */
struct average {
	uint32_t n; /* records added: the sensors that reported */
	struct sumtab sums;
	struct rrd_health *health;
	size_t nhealth, hcap;
};

void average_init(struct average *);
void average_free(struct average *);
/* One sensor's record; a sum that saturates at 2^64 - 1 is logged. */
void average_add(struct average *, const struct record *);
/* The memory it holds beside the struct itself. */
size_t average_bytes(const struct average *);
/* The averages as a job for interval start of length len, by key index. */
struct rrd_job *
average_job(const struct average *, int64_t start, uint32_t len);

#endif

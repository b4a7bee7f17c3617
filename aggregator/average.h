/*
 * What an interval's average is (doc/CONTRACTS.md contract 4): per key,
 * the packets of the records of the sensors that reported the interval,
 * summed, divided by how many reported it; each sensor's health beside.
 * Beside the averages, the union of the sensors' sketches (contract 5):
 * per key the fleet's distinct sources and targets, and its distinct
 * sources over all keys, from the records whose sketches are kept.
 * The caller adds each sensor's record once; the job it gets back is its
 * own.
 */
#ifndef TEITEN_AVERAGE_H
#define TEITEN_AVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hll.h"
#include "record.h"
#include "rrdw.h"
#include "sketchtab.h"
#include "sumtab.h"

/* An interval's sums so far (held inline by the caller; fields private). */
struct average {
	uint32_t n; /* records added: the sensors that reported */
	uint32_t sketched; /* of which their sketches merged */
	struct sumtab sums;
	struct sketchtab sk;
	struct hll *all_src, *all_dst; /* over all keys; NULL until one came */
	size_t all_bytes; /* held by them */
	struct rrd_health *health;
	struct rrd_sensor_keys *sens; /* beside health, same order */
	size_t nhealth, hcap;
	size_t sens_bytes; /* held by sens' arrays */
};

void average_init(struct average *);
void average_free(struct average *);
/*
 * One sensor's record; a sum that saturates at 2^64 - 1 is logged.  With
 * sketches set and a record of version 2, its sketches are merged (the
 * caller has checked their key); else its counts alone are used.
 */
void average_add(struct average *, const struct record *, int sketches);
/* The memory it holds beside the struct itself, sketches included. */
size_t average_bytes(const struct average *);
/*
 * The averages as a job for interval start of length len, by key index,
 * with the distinct counts; the sketches and each sensor's own counts
 * (sorted by id) move into the job, so that the
 * average holds none after (free it next).
 */
struct rrd_job *average_job(struct average *, int64_t start, uint32_t len);

#endif

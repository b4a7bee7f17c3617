/*
 * What the sensor exports on its metrics address (metrics.h): packets by
 * class over the run, capture drops, the spool and the sender.  Served
 * from the event loop: live, all along; in a replay (-r), only while the
 * records are sent, after the file is read.
 */
#ifndef TEITEN_SENSMETRICS_H
#define TEITEN_SENSMETRICS_H

#include "metrics.h"

/* A metrics_fill_fn; arg is the struct sensor (sensor.h). */
void sensmetrics_fill(struct metrics_out *, void *arg);

#endif

/*
 * teiten-sensor -t: the configuration and what it names (capture source,
 * filter, user, key file, spool) checked without opening the capture or
 * creating anything.
 */
#ifndef TEITEN_SENSOR_CHECK_H
#define TEITEN_SENSOR_CHECK_H

struct sensor_conf;

/* Every problem as one line on standard error; returns how many. */
int check_config(const struct sensor_conf *);

#endif

/*
 * "teiten-aggregator keygen": a new sensor key, written to the sensor's
 * key file and printed as the line of the aggregator's keys file.
 */
#ifndef TEITEN_AGG_KEYGEN_H
#define TEITEN_AGG_KEYGEN_H

/* argv[0] is "keygen"; returns the exit status. */
int keygen_main(int argc, char **argv);

#endif

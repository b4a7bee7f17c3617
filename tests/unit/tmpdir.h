/*
 * Scratch directories for the unit tests: made fresh under /tmp for one
 * test and removed with everything in them, also when the test failed.
 */
#ifndef TEITEN_TEST_TMPDIR_H
#define TEITEN_TEST_TMPDIR_H

#include <stddef.h>

/* A new directory /tmp/teiten-<name>-XXXXXX, its path in buf; 0 or -1. */
int tmpdir_make(char *buf, size_t len, const char *name);
/* Remove dir and all it holds; 0 or -1. */
int tmpdir_remove(const char *dir);

#endif

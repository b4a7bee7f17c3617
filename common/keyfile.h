/*
 * Pre-shared keys.  A sensor's key file holds one key as 64 hex digits
 * (line breaks among them allowed, as "xxd -p" writes them); the
 * aggregator's keys file one "SENSOR_ID HEXKEY" per line ('#' comments).
 * Both must be regular files that others cannot read, as OpenSMTPD
 * requires of its secrets.  The keyring owns its entries; keyring_free()
 * accepts NULL.
 */
#ifndef TEITEN_KEYFILE_H
#define TEITEN_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct keyring;

int keyfile_read(const char *path, uint8_t key[FRAME_KEY], char *err,
    size_t errlen);
/*
 * A new key file at path holding key as one line of hex, mode 0600 from
 * the moment it exists.  An existing file is an error unless replace is
 * set; then a new file is renamed over it.  Returns 0, or -1 with one
 * line in err (and no file left behind).
 */
int keyfile_create(const char *path, const uint8_t key[FRAME_KEY], int replace,
    char *err, size_t errlen);
struct keyring *keyring_load(const char *path, char *err, size_t errlen);
void keyring_free(struct keyring *);
size_t keyring_count(const struct keyring *);
/* The key of a sensor, or NULL if it is unknown. */
const uint8_t *keyring_find(const struct keyring *, const char *id);
/* The i-th sensor id, in sorted order. */
const char *keyring_id(const struct keyring *, size_t i);

#endif

/*
 * How keys are shown: "tcp/445", the service name from the system's
 * services database, and a colour that is the same for a key in every
 * graph.  Strings are written into caller buffers or are static.
 */
#ifndef TEITEN_KEYNAME_H
#define TEITEN_KEYNAME_H

#include <stddef.h>
#include <stdint.h>

/* "tcp/445", "icmp/8" */
void key_label(uint32_t idx, char *buf, size_t len);
/* Parse "tcp/445"; returns -1 if invalid. */
int key_parse(const char *s, uint32_t *idx);
/* "microsoft-ds", an ICMP type name, or "" when unknown. */
const char *key_service(uint32_t idx);
/* A graph's title for one key: "tcp/445 microsoft-ds", or the label. */
void key_title(uint32_t idx, char *buf, size_t len);
/*
 * Colours come from a palette of KEY_PALETTE; each key has a default slot
 * (fixed for the usual hot keys, hashed for the rest).  A caller drawing
 * several keys together may move a key to another slot to keep lines apart.
 */
#define KEY_PALETTE 16
unsigned key_colour_slot(uint32_t idx);
const char *key_palette(unsigned slot); /* "#RRGGBB" */

#endif

/* Key files and the aggregator's keyring; see keyfile.h. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keyfile.h"
#include "record.h"
#include "xmalloc.h"

struct keyring_entry {
	char id[RECORD_ID_MAX + 1];
	uint8_t key[FRAME_KEY];
};

struct keyring {
	struct keyring_entry *v;
	size_t n, cap;
};

/* Opens path for reading if it is a regular file others cannot read. */
static FILE *
keyfile_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return NULL;
	}
	if (st.st_mode & (S_IRWXO | S_IWGRP)) {
		snprintf(err, errlen,
		    "%s: readable or writable by others "
		    "(mode %03o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
		fclose(f);
		return NULL;
	}
	return f;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s &&
	    (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int
keyfile_read(const char *path, uint8_t key[FRAME_KEY], char *err, size_t errlen)
{
	char line[256];
	FILE *f;
	int rc = -1;

	if ((f = keyfile_open(path, err, errlen)) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL)
		snprintf(err, errlen, "%s: empty", path);
	else if (frame_key_from_hex(trim(line), key) == -1)
		snprintf(err, errlen, "%s: not a key of 64 hex digits", path);
	else
		rc = 0;
	fclose(f);
	return rc;
}

static int
keyring_cmp(const void *a, const void *b)
{
	return strcmp(((const struct keyring_entry *)a)->id,
	    ((const struct keyring_entry *)b)->id);
}

static int
keyring_parse_line(struct keyring *kr, char *line, char *why, size_t len)
{
	char *id, *hex, *save = NULL;
	struct keyring_entry *e;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	id = strtok_r(line, " \t", &save);
	hex = strtok_r(NULL, " \t", &save);
	if (hex == NULL || strtok_r(NULL, " \t", &save) != NULL) {
		snprintf(why, len, "expected \"SENSOR_ID HEXKEY\"");
		return -1;
	}
	if (!record_valid_id(id)) {
		snprintf(why, len, "bad sensor id \"%.64s\"", id);
		return -1;
	}
	if (kr->n == kr->cap) {
		kr->cap = kr->cap ? kr->cap * 2 : 16;
		kr->v = xreallocarray(kr->v, kr->cap, sizeof(*kr->v));
	}
	e = &kr->v[kr->n];
	snprintf(e->id, sizeof(e->id), "%s", id);
	if (frame_key_from_hex(hex, e->key) == -1) {
		snprintf(why, len, "key of %s is not 64 hex digits", id);
		return -1;
	}
	kr->n++;
	return 0;
}

struct keyring *
keyring_load(const char *path, char *err, size_t errlen)
{
	struct keyring *kr;
	char line[512], why[128];
	size_t i;
	int lineno = 0;
	FILE *f;

	if ((f = keyfile_open(path, err, errlen)) == NULL)
		return NULL;
	kr = xcalloc(1, sizeof(*kr));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto fail;
		}
		if (keyring_parse_line(kr, line, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	if (kr->n > 0)
		qsort(kr->v, kr->n, sizeof(*kr->v), keyring_cmp);
	for (i = 1; i < kr->n; i++)
		if (strcmp(kr->v[i - 1].id, kr->v[i].id) == 0) {
			snprintf(err, errlen, "%s: sensor %s listed twice",
			    path, kr->v[i].id);
			keyring_free(kr);
			return NULL;
		}
	return kr;
fail:
	fclose(f);
	keyring_free(kr);
	return NULL;
}

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	if (kr->v != NULL)
		sodium_memzero(kr->v, kr->cap * sizeof(*kr->v));
	free(kr->v);
	free(kr);
}

size_t
keyring_count(const struct keyring *kr)
{
	return kr->n;
}

const uint8_t *
keyring_find(const struct keyring *kr, const char *id)
{
	struct keyring_entry k, *e;

	if (kr->n == 0 || strlen(id) > RECORD_ID_MAX)
		return NULL;
	snprintf(k.id, sizeof(k.id), "%s", id);
	e = bsearch(&k, kr->v, kr->n, sizeof(*kr->v), keyring_cmp);
	return e != NULL ? e->key : NULL;
}

const char *
keyring_id(const struct keyring *kr, size_t i)
{
	return i < kr->n ? kr->v[i].id : NULL;
}

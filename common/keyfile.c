/* Key files and the aggregator's keyring; see keyfile.h. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"
#include "record.h"
#include "xmalloc.h"

/* More than a key and its blanks could hold: not a key file. */
#define KEYFILE_READ_MAX 4096

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

/*
 * The key's 64 hex digits may be spread over lines, as "xxd -p" wraps
 * them at 60; blanks and line breaks apart, the file holds those digits
 * and nothing else, so a file of any other shape cannot be read as a key.
 */
static int
keyfile_hex(FILE *f, char hex[FRAME_KEY * 2 + 1])
{
	size_t n = 0, seen = 0;
	int ch;

	while ((ch = getc(f)) != EOF && seen++ < KEYFILE_READ_MAX) {
		if (isspace(ch))
			continue;
		if (!isxdigit(ch) || n == FRAME_KEY * 2)
			return -1;
		hex[n++] = (char)ch;
	}
	hex[n] = '\0';
	return ch == EOF && n == FRAME_KEY * 2 ? 0 : -1;
}

int
keyfile_read(const char *path, uint8_t key[FRAME_KEY], char *err, size_t errlen)
{
	char hex[FRAME_KEY * 2 + 1];
	FILE *f;
	int rc = -1;

	if ((f = keyfile_open(path, err, errlen)) == NULL)
		return -1;
	if (keyfile_hex(f, hex) == -1 || frame_key_from_hex(hex, key) == -1) {
		if (ferror(f))
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		else
			snprintf(err, errlen,
			    "%s: not a key of 64 hex digits; make one with "
			    "\"teiten-aggregator keygen SENSOR_ID -o %s\"",
			    path, path);
	} else
		rc = 0;
	sodium_memzero(hex, sizeof(hex));
	fclose(f);
	return rc;
}

/* Writes the key's line to fd and makes it durable; 0 or -1 (errno). */
static int
keyfile_put(int fd, const uint8_t key[FRAME_KEY])
{
	char line[FRAME_KEY * 2 + 2];
	size_t off = 0, len;
	ssize_t n;
	int rc = 0;

	sodium_bin2hex(line, sizeof(line), key, FRAME_KEY);
	len = strlen(line);
	line[len++] = '\n';
	/* umask may have taken bits; the owner needs exactly read and write. */
	if (fchmod(fd, 0600) == -1)
		rc = -1;
	while (rc == 0 && off < len) {
		if ((n = write(fd, line + off, len - off)) == -1) {
			if (errno != EINTR)
				rc = -1;
			continue;
		}
		off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) == -1)
		rc = -1;
	sodium_memzero(line, sizeof(line));
	return rc;
}

int
keyfile_create(const char *path, const uint8_t key[FRAME_KEY], int replace,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	const char *made = path;
	int fd, saved;

	/* O_EXCL: never an existing file, nor one a symbolic link points to. */
	if (replace) {
		if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
		    (int)sizeof(tmp)) {
			snprintf(err, errlen, "%s: name too long", path);
			return -1;
		}
		fd = mkstemp(tmp);
		made = tmp;
	} else
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? "; give --force to replace it" : "");
		return -1;
	}
	if (keyfile_put(fd, key) == -1) {
		saved = errno;
		(void)close(fd);
	} else if (close(fd) == -1 || (replace && rename(tmp, path) == -1))
		saved = errno;
	else
		return 0;
	(void)unlink(made);
	snprintf(err, errlen, "%s: %s", path, strerror(saved));
	return -1;
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

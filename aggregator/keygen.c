/* Making a sensor key; see keygen.h. */
#include <sys/random.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "frame.h"
#include "keyfile.h"
#include "keygen.h"
#include "optdoc.h"
#include "record.h"
#include "xmalloc.h"

/* The one list of options: getopt's tables and --help come from it. */
static const struct optdoc keygen_opts[] = {
    {"fleet-sketch", no_argument, 'S', NULL,
	"the fleet's sketch key instead (default sketch.key)", 0},
    {"force", no_argument, 'F', NULL, "replace an existing key file", 0},
    {"help", no_argument, 'h', NULL, "print this help and exit", 0},
    {"output", required_argument, 'o', "keyfile",
	"write the key here (default sensor-id.key)", 0},
    OPTDOC_END,
};

static void
keygen_usage(FILE *f)
{
	fprintf(f,
	    "usage: teiten-aggregator keygen [--force] [-o keyfile] "
	    "sensor-id\n"
	    "       teiten-aggregator keygen --fleet-sketch [--force] "
	    "[-o keyfile]\n");
}

/* The kernel's generator, and nothing else: a key must never be weak. */
static void
keygen_random(uint8_t *p, size_t n)
{
	ssize_t got;

	while (n > 0) {
		if ((got = getrandom(p, n, 0)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "getrandom");
		}
		p += got;
		n -= (size_t)got;
	}
}

/*
 * The fleet's sketch key: one file copied to every sensor and to the
 * aggregator (which checks records' key id against it); nothing on
 * stdout, since it goes in no keys file.
 */
static int
keygen_sketch(int argc, char *path, int force)
{
	uint8_t key[FRAME_KEY];
	char why[512];
	int rc;

	if (optind != argc) {
		keygen_usage(stderr);
		free(path);
		return 1;
	}
	if (path == NULL)
		path = xstrdup("sketch.key");
	keygen_random(key, sizeof(key));
	rc = keyfile_create(path, key, force, why, sizeof(why));
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		fprintf(stderr,
		    "wrote %s (mode 600), the fleet's sketch key: copy it "
		    "to the sketch_key_file of every sensor and of the "
		    "aggregator\n",
		    path);
	else
		warnx("%s", why);
	free(path);
	return rc == 0 ? 0 : 1;
}

int
keygen_main(int argc, char **argv)
{
	struct option long_opts[sizeof(keygen_opts) / sizeof(keygen_opts[0])];
	char short_opts[2 * sizeof(keygen_opts) / sizeof(keygen_opts[0]) + 1];
	uint8_t key[FRAME_KEY];
	char hex[FRAME_KEY * 2 + 1], why[512], *path = NULL;
	int ch, force = 0, sketch = 0, rc;

	optdoc_getopt(keygen_opts, long_opts,
	    sizeof(long_opts) / sizeof(long_opts[0]), short_opts,
	    sizeof(short_opts));
	while (
	    (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1)
		switch (ch) {
		case 'F':
			force = 1;
			break;
		case 'h':
			keygen_usage(stdout);
			optdoc_print(stdout, keygen_opts, 0);
			return 0;
		case 'o':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'S':
			sketch = 1;
			break;
		default:
			keygen_usage(stderr);
			return 1;
		}
	if (sketch)
		return keygen_sketch(argc, path, force);
	if (optind != argc - 1) {
		keygen_usage(stderr);
		free(path);
		return 1;
	}
	if (!record_valid_id(argv[optind]))
		errx(1, "sensor id \"%s\": use 1 to 64 of A-Z a-z 0-9 . _ -",
		    argv[optind]);
	if (path == NULL) {
		path = xmalloc(strlen(argv[optind]) + 5);
		sprintf(path, "%s.key", argv[optind]);
	}
	keygen_random(key, sizeof(key));
	rc = keyfile_create(path, key, force, why, sizeof(why));
	if (rc == 0) {
		sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
		printf("%s %s\n", argv[optind], hex);
		sodium_memzero(hex, sizeof(hex));
		if (fflush(stdout) == EOF || ferror(stdout)) {
			snprintf(why, sizeof(why),
			    "standard output: %s (the key is in %s)",
			    strerror(errno), path);
			rc = -1;
		}
	}
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		fprintf(stderr,
		    "wrote %s (mode 600), the sensor's key_file; add the "
		    "line printed on standard output to the aggregator's "
		    "keys file, then send the aggregator SIGHUP\n",
		    path);
	else
		warnx("%s", why);
	free(path);
	return rc == 0 ? 0 : 1;
}

/*
 * Calls graph_keys or graph_sensors (graph/graph.h) from the command
 * line, for graph_test.py: the drawing code alone, apart from the
 * planning of teiten-graph site that picks the keys and windows:
 *
 *   graph_driver keys DATADIR STEP SPAN END OUT TITLE KEY...
 *   graph_driver sensors DATADIR STEP SPAN END OUT
 *
 * SPAN is day|week|month|quarter|year, END a Unix time, KEY like tcp/445.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "keyname.h"
#include "parse.h"
#include "span.h"
#include "xmalloc.h"

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: graph_driver keys DATADIR STEP SPAN END OUT TITLE KEY...\n"
	    "       graph_driver sensors DATADIR STEP SPAN END OUT\n");
	exit(2);
}

/* argv: OUT TITLE KEY... */
static int
keys(const char *datadir, uint32_t step, const struct span *sp, int argc,
    char **argv, char *errbuf, size_t errlen)
{
	size_t i, n = (size_t)argc - 2;
	uint32_t *idx;
	int rc;

	idx = xreallocarray(NULL, n + 1, sizeof(*idx)); /* n may be 0 */
	for (i = 0; i < n; i++)
		if (key_parse(argv[2 + i], &idx[i]) == -1)
			errx(2, "bad key \"%s\"", argv[2 + i]);
	rc = graph_keys(datadir, step, sp, idx, NULL, n, argv[1], argv[0],
	    errbuf, errlen);
	free(idx);
	return rc;
}

int
main(int argc, char **argv)
{
	char errbuf[1024];
	struct span sp;
	uint64_t step, end;
	int kind, rc;

	if (argc < 7)
		usage();
	if (parse_u64(argv[3], 1, 86400, &step) == -1)
		errx(2, "bad step \"%s\"", argv[3]);
	if ((kind = span_from_name(argv[4])) == -1)
		errx(2, "bad span \"%s\"", argv[4]);
	if (parse_u64(argv[5], 0, INT64_MAX, &end) == -1)
		errx(2, "bad end \"%s\"", argv[5]);
	span_make((enum span_kind)kind, (int64_t)end, &sp);
	if (strcmp(argv[1], "sensors") == 0 && argc == 7)
		rc = graph_sensors(argv[2], (uint32_t)step, &sp, argv[6],
		    errbuf, sizeof(errbuf));
	else if (strcmp(argv[1], "keys") == 0 && argc >= 8)
		rc = keys(argv[2], (uint32_t)step, &sp, argc - 6, argv + 6,
		    errbuf, sizeof(errbuf));
	else
		usage();
	if (rc == -1)
		errx(1, "%s", errbuf);
	return 0;
}

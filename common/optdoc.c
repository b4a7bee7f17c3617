/* Options and their help from one table; see optdoc.h. */
#include <stdlib.h>
#include <string.h>

#include "optdoc.h"

/* A longer option and argument pushes its help to the right alone. */
#define OPTDOC_COLUMN 26

void
optdoc_getopt(const struct optdoc *d, struct option *o, size_t n, char *s,
    size_t slen)
{
	size_t no = 0, ns = 0;

	for (; d->val != 0; d++) {
		if (d->name != NULL) {
			if (no + 1 >= n)
				abort();
			o[no].name = d->name;
			o[no].has_arg = d->has_arg;
			o[no].flag = NULL;
			o[no].val = d->val;
			no++;
		}
		if (d->val > 255)
			continue;
		if (ns + 3 > slen)
			abort();
		s[ns++] = (char)d->val;
		if (d->has_arg == required_argument)
			s[ns++] = ':';
	}
	memset(&o[no], 0, sizeof(o[no]));
	s[ns] = '\0';
}

int
optdoc_takes(const struct optdoc *o, unsigned cmd)
{
	return o->cmds == 0 || (o->cmds & cmd) != 0;
}

static void
optdoc_line(FILE *f, const struct optdoc *o)
{
	char head[80];

	if (o->val <= 255 && o->name != NULL)
		snprintf(head, sizeof(head), "-%c, --%s", o->val, o->name);
	else if (o->val <= 255)
		snprintf(head, sizeof(head), "-%c", o->val);
	else
		snprintf(head, sizeof(head), "    --%s", o->name);
	if (o->arg != NULL)
		snprintf(head + strlen(head), sizeof(head) - strlen(head),
		    " %s", o->arg);
	fprintf(f, "  %-*s  %s\n", OPTDOC_COLUMN, head, o->help);
}

void
optdoc_print(FILE *f, const struct optdoc *d, unsigned cmd)
{
	fputs("\noptions:\n", f);
	for (; d->val != 0; d++)
		if (optdoc_takes(d, cmd))
			optdoc_line(f, d);
}

const struct optdoc *
optdoc_find(const struct optdoc *d, int ch)
{
	for (; d->val != 0; d++)
		if (d->val == ch)
			return d;
	return NULL;
}

const char *
optdoc_name(const struct optdoc *o, char *buf, size_t len)
{
	if (o->name != NULL)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", o->val);
	return buf;
}

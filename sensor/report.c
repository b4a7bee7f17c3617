/* Formatting of interval lines and totals; see report.h. */
#include <inttypes.h>
#include <string.h>

#include "report.h"

struct line_ctx {
	FILE *out;
	struct counts *c;
	int sources;
	char prefix[32]; /* "<start>\t", the same on every line */
	size_t prefixlen;
};

/* Decimal digits of v at the end of buf; returns where they begin. */
static char *
fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* Append v's digits and the character after to w; returns the end. */
static char *
put_u64(char *w, uint64_t v, char after)
{
	char num[24], *s = fmt_u64(num + sizeof(num), v);

	memcpy(w, s, (size_t)(num + sizeof(num) - s));
	w += num + sizeof(num) - s;
	*w++ = after;
	return w;
}

static void
report_line(enum proto p, unsigned key, uint64_t n, void *arg)
{
	struct line_ctx *ctx = arg;
	char buf[128], *w = buf;
	const char *name = proto_name(p);
	uint64_t src, dst;
	size_t len;

	memcpy(w, ctx->prefix, ctx->prefixlen);
	w += ctx->prefixlen;
	len = strlen(name);
	memcpy(w, name, len);
	w += len;
	*w++ = '\t';
	w = put_u64(w, key, '\t');
	if (ctx->sources) {
		counts_distinct(ctx->c, keyidx(p, (uint16_t)key), &src, &dst);
		w = put_u64(w, n, '\t');
		w = put_u64(w, src, '\t');
		w = put_u64(w, dst, '\n');
	} else
		w = put_u64(w, n, '\n');
	fwrite(buf, 1, (size_t)(w - buf), ctx->out);
}

void
report_lines(FILE *out, struct counts *c, int sources)
{
	struct line_ctx ctx;

	ctx.out = out;
	ctx.c = c;
	ctx.sources = sources;
	snprintf(ctx.prefix, sizeof(ctx.prefix), "%" PRId64 "\t", c->start);
	ctx.prefixlen = strlen(ctx.prefix);
	counts_foreach(c, report_line, &ctx);
}

void
report_totals(FILE *out, const char *label, const struct totals *t)
{
	int i;

	fprintf(out, "%s: seen %" PRIu64 " counted %" PRIu64, label,
	    counts_seen(t), counts_keyed(t));
	for (i = 0; i < CLASS_COUNT; i++) {
		fprintf(out, " %s %" PRIu64, classify_class_name(i),
		    t->classes[i]);
		if (i != CLASS_TCP)
			continue;
		fputs(" (", out);
		for (int k = 0; k < TCPK_COUNT; k++)
			fprintf(out, "%s%s %" PRIu64, k ? " " : "",
			    classify_tcpk_name(k), t->tcpk[k]);
		fputs(")", out);
	}
	fprintf(out,
	    " late %" PRIu64 " drops %" PRIu64 " outliers %" PRIu64 "\n",
	    t->late, t->drops, t->outliers);
}

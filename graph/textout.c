/* Escaping and formatting for teiten-graph's outputs; see textout.h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "keyname.h"
#include "textout.h"

void
html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
			break;
		}
}

void
json_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* RFC 4180: quoted when it holds a comma, quote or line break. */
void
csv_text(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int
out_number(FILE *f, double v)
{
	if (!isfinite(v))
		return -1;
	fprintf(f, "%.17g", v);
	return 0;
}

const char *
number_text(double v, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

const char *
count_text(const double *v, size_t i, char *buf, size_t len)
{
	return number_text(v != NULL ? v[i] : NAN, buf, len);
}

void
json_count(FILE *f, const double *v, size_t i)
{
	if (v == NULL || !isfinite(v[i]))
		fputs("null", f);
	else
		fprintf(f, "%.0f", v[i]);
}

void
csv_count(FILE *f, const double *v, size_t i)
{
	if (v != NULL && isfinite(v[i]))
		fprintf(f, "%.0f", v[i]);
}

int
top_json_fields(FILE *f, const struct window *w, size_t i, size_t rank)
{
	double avg = w->mean[i], share = window_share(w, i);
	char label[32];

	/* Checked first, so that a refused row writes nothing. */
	if (!isfinite(avg) || !isfinite(share))
		return -1;
	key_label(w->idx[i], label, sizeof(label));
	fprintf(f, "\"rank\": %zu, \"key\": \"%s\", \"service\": ", rank,
	    label);
	json_text(f, key_service(w->idx[i]));
	fputs(", \"avg\": ", f);
	(void)out_number(f, avg);
	fputs(", \"share\": ", f);
	(void)out_number(f, share);
	fputs(", \"sources\": ", f);
	json_count(f, w->sources, i);
	fputs(", \"targets\": ", f);
	json_count(f, w->targets, i);
	return 0;
}

/* Prometheus text exposition and its HTTP server; see metrics.h. */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "hostport.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

/*
 * A scraper sends one short GET; anything larger, or slower than this, is
 * not one, and costs us no more than these bounds.
 */
#define METRICS_MAX_HEADERS 8192
#define METRICS_MAX_BODY 1024
#define METRICS_TIMEOUT 10 /* seconds */
#define METRICS_BACKLOG 16
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_out {
	struct evbuffer *buf;
	char *text; /* metrics_out_text()'s copy */
};

struct metrics {
	struct evhttp *http;
	metrics_fill_fn fill;
	void *arg;
};

void
metrics_hist_init(struct metrics_hist *h, const double *bound, size_t n)
{
	if (n >= METRICS_HIST_MAX)
		fatalx("histogram with %zu bounds", n);
	memset(h, 0, sizeof(*h));
	h->bound = bound;
	h->nbound = n;
}

void
metrics_hist_observe(struct metrics_hist *h, double v)
{
	size_t i = 0;

	while (i < h->nbound && v > h->bound[i])
		i++;
	h->count[i]++;
	h->n++;
	h->sum += v;
}

/* Label values and help texts: only these characters are escaped. */
static void
metrics_escape(struct evbuffer *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else if (*s == '"' && quote)
			evbuffer_add(b, "\\\"", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

void
metrics_head(struct metrics_out *o, const char *name, enum metrics_type t,
    const char *help)
{
	static const char *types[] = {"counter", "gauge", "histogram"};

	evbuffer_add_printf(o->buf, "# HELP %s ", name);
	metrics_escape(o->buf, help, 0);
	evbuffer_add_printf(o->buf, "\n# TYPE %s %s\n", name, types[t]);
}

/* name{a="x",b="y"} with le="bound" last when le is not NULL. */
static void
metrics_series(struct metrics_out *o, const char *name, const char *suffix,
    const char *const *labels, const char *le)
{
	const char *sep = "{";

	evbuffer_add_printf(o->buf, "%s%s", name, suffix);
	for (; labels != NULL && labels[0] != NULL; labels += 2) {
		evbuffer_add_printf(o->buf, "%s%s=\"", sep, labels[0]);
		metrics_escape(o->buf, labels[1] ? labels[1] : "", 1);
		evbuffer_add(o->buf, "\"", 1);
		sep = ",";
	}
	if (le != NULL) {
		evbuffer_add_printf(o->buf, "%sle=\"%s\"", sep, le);
		sep = ",";
	}
	if (sep[0] == ',')
		evbuffer_add(o->buf, "}", 1);
}

void
metrics_u64(struct metrics_out *o, const char *name, const char *const *labels,
    uint64_t v)
{
	metrics_series(o, name, "", labels, NULL);
	evbuffer_add_printf(o->buf, " %" PRIu64 "\n", v);
}

/* Go's strconv as Prometheus parses it: NaN, +Inf, -Inf, else %g. */
static void
metrics_number(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, "%sInf", v > 0 ? "+" : "-");
	else
		snprintf(buf, len, "%.17g", v);
}

void
metrics_f64(struct metrics_out *o, const char *name, const char *const *labels,
    double v)
{
	char num[64];

	metrics_number(num, sizeof(num), v);
	metrics_series(o, name, "", labels, NULL);
	evbuffer_add_printf(o->buf, " %s\n", num);
}

void
metrics_histogram(struct metrics_out *o, const char *name,
    const char *const *labels, const struct metrics_hist *h)
{
	char le[64];
	uint64_t cum = 0;
	size_t i;

	/* Buckets are cumulative in the exposition. */
	for (i = 0; i <= h->nbound; i++) {
		cum += h->count[i];
		if (i < h->nbound)
			snprintf(le, sizeof(le), "%g", h->bound[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		metrics_series(o, name, "_bucket", labels, le);
		evbuffer_add_printf(o->buf, " %" PRIu64 "\n", cum);
	}
	metrics_series(o, name, "_sum", labels, NULL);
	metrics_number(le, sizeof(le), h->sum);
	evbuffer_add_printf(o->buf, " %s\n", le);
	metrics_series(o, name, "_count", labels, NULL);
	evbuffer_add_printf(o->buf, " %" PRIu64 "\n", h->n);
}

struct metrics_out *
metrics_out_new(void)
{
	struct metrics_out *o = xcalloc(1, sizeof(*o));

	if ((o->buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	return o;
}

const char *
metrics_out_text(struct metrics_out *o)
{
	size_t len = evbuffer_get_length(o->buf);

	free(o->text);
	o->text = xmalloc(len + 1);
	if (evbuffer_copyout(o->buf, o->text, len) != (ev_ssize_t)len)
		fatalx("evbuffer_copyout failed");
	o->text[len] = '\0';
	return o->text;
}

void
metrics_out_free(struct metrics_out *o)
{
	if (o == NULL)
		return;
	evbuffer_free(o->buf);
	free(o->text);
	free(o);
}

/* GET /metrics; 404 for any other path, 405 for any other method. */
static void
metrics_on_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct metrics_out o;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(hdr, "Allow", "GET, HEAD");
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if ((o.buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_SERVUNAVAIL, NULL);
		return;
	}
	o.text = NULL;
	m->fill(&o, m->arg);
	evhttp_add_header(hdr, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", o.buf);
	evbuffer_free(o.buf);
}

/* Resolved and bound as the aggregator's listen address is (server.c). */
static struct evconnlistener *
metrics_listen(struct event_base *base, const char *addr, char *err,
    size_t errlen)
{
	struct evconnlistener *lis;
	struct addrinfo *res;

	if (hostport_passive("metrics", addr, &res, err, errlen) == -1)
		return NULL;
	lis = evconnlistener_new_bind(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    METRICS_BACKLOG, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (lis == NULL)
		snprintf(err, errlen, "cannot listen on %s for metrics: %s",
		    addr, strerror(errno));
	return lis;
}

struct metrics *
metrics_new(struct event_base *base, const char *addr, metrics_fill_fn fill,
    void *arg, char *err, size_t errlen)
{
	struct evconnlistener *lis;
	struct metrics *m;

	if ((lis = metrics_listen(base, addr, err, errlen)) == NULL)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->fill = fill;
	m->arg = arg;
	if ((m->http = evhttp_new(base)) == NULL ||
	    evhttp_bind_listener(m->http, lis) == NULL)
		fatalx("cannot set up the metrics server");
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT);
	/* Every method reaches the callback, which answers 405. */
	evhttp_set_allowed_methods(m->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
		EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(m->http, metrics_on_request, m);
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	/* Frees the bound listener and any connection still open. */
	evhttp_free(m->http);
	free(m);
}

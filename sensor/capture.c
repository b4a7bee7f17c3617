/* libpcap set-up for live and offline capture; see capture.h. */
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "log.h"

/*
 * Settings are applied before pcap_activate(), which is the call that
 * fails on a missing interface or missing privileges; its message names
 * the interface, so it goes to the caller as is.
 */
pcap_t *
capture_open_live(const struct capture_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	int rc;

	if ((p = pcap_create(o->iface, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return NULL;
	}
	if (pcap_set_snaplen(p, (int)o->snaplen) != 0 ||
	    pcap_set_promisc(p, o->promisc) != 0 ||
	    pcap_set_buffer_size(p, (int)o->bufsize) != 0 ||
	    pcap_set_timeout(p, o->timeout_ms) != 0 ||
	    pcap_set_immediate_mode(p, 0) != 0) {
		snprintf(err, errlen, "%s: cannot configure capture", o->iface);
		goto fail;
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		if (rc == PCAP_ERROR && pcap_geterr(p)[0] != '\0')
			snprintf(err, errlen, "%s: %s", o->iface,
			    pcap_geterr(p));
		else if (rc == PCAP_ERROR_NO_SUCH_DEVICE ||
		    rc == PCAP_ERROR_PERM_DENIED)
			snprintf(err, errlen, "%s: %s (%s)", o->iface,
			    pcap_statustostr(rc), pcap_geterr(p));
		else
			snprintf(err, errlen, "%s: %s", o->iface,
			    pcap_statustostr(rc));
		goto fail;
	}
	if (rc > 0)
		log_warnx("%s: %s: %s", o->iface, pcap_statustostr(rc),
		    pcap_geterr(p));
	/* A dark sensor counts what arrives, not what its host sends. */
	if (o->inbound_only && pcap_setdirection(p, PCAP_D_IN) == -1) {
		snprintf(err, errlen, "%s: cannot capture inbound only: %s",
		    o->iface, pcap_geterr(p));
		goto fail;
	}
	if (pcap_setnonblock(p, 1, ebuf) == -1) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		goto fail;
	}
	if (pcap_get_selectable_fd(p) == -1) {
		snprintf(err, errlen, "%s: no selectable descriptor", o->iface);
		goto fail;
	}
	return p;
fail:
	pcap_close(p);
	return NULL;
}

pcap_t *
capture_open_file(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	if ((p = pcap_open_offline(path, ebuf)) == NULL) {
		/* libpcap's message usually names the file already. */
		if (strstr(ebuf, path) != NULL)
			snprintf(err, errlen, "%s", ebuf);
		else
			snprintf(err, errlen, "%s: %s", path, ebuf);
	}
	return p;
}

int
capture_set_filter(pcap_t *p, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (expr == NULL || expr[0] == '\0')
		return 0;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(err, errlen, "filter \"%s\": %s", expr,
		    pcap_geterr(p));
		return -1;
	}
	if (pcap_setfilter(p, &prog) == -1) {
		snprintf(err, errlen, "filter \"%s\": %s", expr,
		    pcap_geterr(p));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}

/*
 * The reader must see the file exactly as libpcap does, so what libpcap
 * made of the header (link type, snapshot length) is checked against the
 * reader's own reading of it, and the filter is compiled on p itself.
 */
struct pcapfile *
capture_open_direct(pcap_t *p, const char *expr)
{
	const struct pcapfile_hdr *h;
	struct bpf_program prog;
	struct pcapfile *pf;
	FILE *f;

	if ((f = pcap_file(p)) == NULL ||
	    (pf = pcapfile_open_fd(fileno(f))) == NULL)
		return NULL;
	h = pcapfile_header(pf);
	if (h->dlt != pcap_datalink(p) ||
	    (int)h->snapshot != pcap_snapshot(p) ||
	    h->swapped != pcap_is_swapped(p))
		goto fail;
	if (expr != NULL && expr[0] != '\0') {
		/* capture_set_filter() compiled it already on p: it compiles. */
		if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1)
			goto fail;
		pcapfile_set_filter(pf, &prog);
	}
	return pf;
fail:
	pcapfile_close(pf);
	return NULL;
}

/* What capture_read() hands to its pcap callback. */
struct capture_sink {
	classify_fn classify;
	struct tally *tally;
	int64_t offset;
	pcap_t *p;
	pcapfile_progress_fn progress; /* or NULL */
	void *progress_arg;
	uint64_t records;
};

/* Bytes of the file libpcap has taken, or UINT64_MAX if unknown. */
static void
capture_progress(struct capture_sink *k)
{
	FILE *f = pcap_file(k->p);
	long off = f != NULL ? ftell(f) : -1;

	k->progress(k->progress_arg, off >= 0 ? (uint64_t)off : UINT64_MAX,
	    k->records);
}

static void
capture_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture_sink *k = (struct capture_sink *)user;
	struct pkt pk;

	k->classify(bytes, h->caplen, &pk);
	tally_packet(k->tally, h->ts.tv_sec + k->offset, &pk);
	if ((++k->records & (PCAPFILE_PROGRESS_EVERY - 1)) == 0 &&
	    k->progress != NULL)
		capture_progress(k);
}

/*
 * For a file, one pcap_dispatch() with no count reads to the end, as
 * pcap_loop() would; live, it reads one buffer and returns 0 when nothing
 * is ready.
 */
int
capture_read(pcap_t *p, classify_fn classify, struct tally *t, int64_t offset)
{
	return capture_read_file(p, classify, t, offset, NULL, NULL);
}

int
capture_read_file(pcap_t *p, classify_fn classify, struct tally *t,
    int64_t offset, pcapfile_progress_fn progress, void *arg)
{
	struct capture_sink k = {classify, t, offset, p, progress, arg, 0};
	int rc;

	rc = pcap_dispatch(p, -1, capture_packet, (u_char *)&k);
	if (progress != NULL)
		capture_progress(&k);
	return rc;
}

int
capture_drops(pcap_t *p, struct capture_drops *last, uint64_t *drops)
{
	struct pcap_stat st;

	if (pcap_stats(p, &st) == -1)
		return -1;
	*drops = (uint64_t)(uint32_t)(st.ps_drop - last->kernel) +
	    (uint32_t)(st.ps_ifdrop - last->iface);
	last->kernel = st.ps_drop;
	last->iface = st.ps_ifdrop;
	return 0;
}

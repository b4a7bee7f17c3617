/* The sensor's -t; see check.h. */
#include <net/if.h>

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "check.h"
#include "frame.h"
#include "keyfile.h"
#include "options.h"
#include "preflight.h"
#include "privdrop.h"
#include "sketchkey.h"

#include <sodium.h>

static int
check_source(const struct sensor_conf *c, char *err, size_t errlen)
{
	pcap_t *p;

	if (c->iface != NULL) {
		if (strcmp(c->iface, "any") == 0 ||
		    if_nametoindex(c->iface) != 0)
			return 0;
		snprintf(err, errlen, "interface %s: %s", c->iface,
		    strerror(errno));
		return -1;
	}
	/* Standard input cannot be read twice. */
	if (strcmp(c->file, "-") == 0)
		return 0;
	if ((p = capture_open_file(c->file, err, errlen)) == NULL)
		return -1;
	pcap_close(p);
	return 0;
}

/*
 * The link type is known once the capture is open, which -t does not do:
 * the expression is compiled for Ethernet, what nearly every sensor has.
 */
static int
check_filter(const struct sensor_conf *c, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p;
	int rc = 0;

	if (c->filter == NULL || c->filter[0] == '\0')
		return 0;
	if ((p = pcap_open_dead(DLT_EN10MB, (int)c->snaplen)) == NULL) {
		snprintf(err, errlen, "filter \"%s\": cannot compile",
		    c->filter);
		return -1;
	}
	if (pcap_compile(p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(err, errlen, "filter \"%s\": %s", c->filter,
		    pcap_geterr(p));
		rc = -1;
	} else
		pcap_freecode(&prog);
	pcap_close(p);
	return rc;
}

/* What privdrop() will do at start, without doing it. */
static int
check_user(const struct sensor_conf *c, char *err, size_t errlen)
{
	return privdrop_plan(c->user, err, errlen) == -1 ? -1 : 0;
}

static int
check_key(const struct sensor_conf *c, char *err, size_t errlen)
{
	uint8_t key[FRAME_KEY];
	int rc;

	rc = keyfile_read(c->key_file, key, err, errlen);
	sodium_memzero(key, sizeof(key));
	return rc;
}

static int
check_sketch_key(const struct sensor_conf *c, char *err, size_t errlen)
{
	struct sketchkey k;
	int rc;

	rc = sketchkey_load(c->sketch_key_file, &k, err, errlen);
	sketchkey_clear(&k);
	return rc;
}

int
check_config(const struct sensor_conf *c)
{
	char err[1024];
	int problems = 0;

#define CHECK(expr) preflight_note((expr), err, &problems)
	CHECK(check_source(c, err, sizeof(err)));
	CHECK(check_filter(c, err, sizeof(err)));
	CHECK(check_user(c, err, sizeof(err)));
	if (c->metrics != NULL)
		CHECK(preflight_metrics(c->metrics, err, sizeof(err)));
	if (c->sketch_key_file != NULL)
		CHECK(check_sketch_key(c, err, sizeof(err)));
	if (c->aggregator != NULL) {
		CHECK(check_key(c, err, sizeof(err)));
		/* The default spool's folder of spools may be made too. */
		CHECK(preflight_dir(c->spool_dir, c->spool_base ? 2 : 1, err,
		    sizeof(err)));
	}
#undef CHECK
	return problems;
}

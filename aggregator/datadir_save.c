/*
 * The writes of DATADIR's markers (datadir.h), apart from the layout and
 * the reads so that only the daemon links them: teiten-graph reads
 * DATADIR and the linker holds it to that.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "datadir.h"
#include "log.h"

/* One line of text, replacing the marker's whole file durably. */
static int
marker_save_text(const char *datadir, enum datadir_marker m, const char *text)
{
	char path[DATADIR_PATH_MAX], tmp[DATADIR_PATH_MAX + 8], buf[128];
	int fd, n, rc = -1;

	datadir_marker_path(datadir, m, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "%s\n", text);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		goto out;
	if (write(fd, buf, (size_t)n) == n && fsync(fd) == 0 &&
	    rename(tmp, path) == 0)
		rc = 0;
	close(fd);
	if (rc == -1)
		(void)unlink(tmp);
out:
	if (rc == -1)
		log_warn("%s", path);
	return rc;
}

static int
marker_save(const char *datadir, enum datadir_marker m, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return marker_save_text(datadir, m, buf);
}

int
datadir_save_zone(const char *datadir, const char *zone)
{
	return marker_save_text(datadir, DATADIR_TIMEZONE, zone);
}

int
datadir_save_last_final(const char *datadir, int64_t v)
{
	return marker_save(datadir, DATADIR_LAST_FINAL, v);
}

int
datadir_save_generation(const char *datadir, int64_t v)
{
	return marker_save(datadir, DATADIR_GENERATION, v);
}

int
datadir_save_catchup(const char *datadir, int64_t start)
{
	return marker_save(datadir, DATADIR_CATCHUP, start);
}

int
datadir_clear_catchup(const char *datadir)
{
	char path[DATADIR_PATH_MAX];

	datadir_marker_path(datadir, DATADIR_CATCHUP, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

int
datadir_save_step(const char *datadir, uint32_t step)
{
	return marker_save(datadir, DATADIR_STEP, step);
}

int
datadir_save_rebuild(const char *datadir, int64_t id)
{
	return marker_save(datadir, DATADIR_REBUILD, id);
}

int
datadir_save_rebuilt(const char *datadir, const struct datadir_rebuilt *r)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "%" PRId64 " %s %" PRIu64 " %" PRIu64, r->id,
	    datadir_rebuilt_state(r->state), r->done, r->total);
	return marker_save_text(datadir, DATADIR_REBUILT, buf);
}

/*
 * Runs a fuzz target over a corpus without libFuzzer, so that every build
 * replays the corpus as an ordinary test.  Arguments are files or
 * directories of files.
 */
#include <dirent.h>
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
replay_file(const char *path)
{
	uint8_t *buf;
	size_t n;
	long size;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		err(1, "%s", path);
	if (fseek(f, 0, SEEK_END) == -1 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1)
		err(1, "%s", path);
	if ((buf = malloc(size ? (size_t)size : 1)) == NULL)
		err(1, "malloc");
	n = fread(buf, 1, (size_t)size, f);
	if (ferror(f))
		err(1, "%s", path);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 1;
}

static int
replay_path(const char *path)
{
	struct dirent *de;
	struct stat st;
	char sub[4096];
	DIR *d;
	int n = 0;

	if (stat(path, &st) == -1)
		err(1, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if ((d = opendir(path)) == NULL)
		err(1, "%s", path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		n += replay_path(sub);
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	int i, n = 0;

	if (argc < 2)
		errx(1, "usage: %s corpus-file-or-dir ...", argv[0]);
	for (i = 1; i < argc; i++)
		n += replay_path(argv[i]);
	printf("%d inputs replayed\n", n);
	return n > 0 ? 0 : 1;
}

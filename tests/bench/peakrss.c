/*
 * Run a command and print its peak resident set size on stderr, as the
 * last line "peakrss KIB".  bench_sensor.py cannot ask the kernel itself:
 * a child forked from Python starts with Python's high-water mark as its
 * own, while one forked from this small program starts near zero.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <err.h>
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	pid_t pid;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: peakrss command [argument ...]\n");
		return 1;
	}
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		err(127, "%s", argv[1]);
	}
	if (wait4(pid, &status, 0, &ru) == -1)
		err(1, "wait4");
	fprintf(stderr, "peakrss %ld\n", ru.ru_maxrss);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

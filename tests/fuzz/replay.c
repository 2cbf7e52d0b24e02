// SPDX-License-Identifier: GPL-2.0-only
/*
 * Corpus replay without libFuzzer: runs one harness over every file of its committed corpus
 * (tests/fuzz/corpus/<target>/, the seeds and every crash found so far) or over the files and
 * directories given as arguments. Prints the unit-test lines tests/run.py collects; a broken
 * promise or a sanitizer report ends the process, which run.py reports as a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET (the harness name) must be defined"
#endif

/* Run the harness on one file; returns 0 or -errno if it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

/* A file, or every regular file of a directory. Returns the number of inputs run or -errno. */
static int replay_path(const char *path)
{
	struct dirent *de;
	struct stat st;
	int count = 0;
	DIR *d;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return replay_file(path) ? -EIO : 1;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char file[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (stat(file, &st) || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(file)) {
			closedir(d);
			return -EIO;
		}
		count++;
	}
	closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	const char *def = "tests/fuzz/corpus/" FUZZ_TARGET;
	int total = 0;

	for (int i = argc > 1 ? 1 : 0; i < (argc > 1 ? argc : 1); i++) {
		const char *path = argc > 1 ? argv[i] : def;
		int n = replay_path(path);

		if (n <= 0) {
			fprintf(stderr, "cannot replay %s: %s\n", path,
				n ? strerror(-n) : "no inputs there");
			printf("FAIL fuzz_replay/%s\n0 passed, 1 failed\n", FUZZ_TARGET);
			return 1;
		}
		total += n;
	}
	fprintf(stderr, "%d inputs replayed\n", total);
	printf("PASS fuzz_replay/%s\n1 passed, 0 failed\n", FUZZ_TARGET);
	return 0;
}

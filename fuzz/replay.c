// SPDX-License-Identifier: MIT
/*
 * Runs the fuzz target once on each file given, or on each file in each
 * directory given, without libFuzzer: the seed corpus and every input that
 * once crashed it, in every build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as in libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "dc-fuzz-replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	do {
		if (len == cap) {
			uint8_t *p = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!p) {
				fclose(f);
				free(buf);
				return 1;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int replay_dir(const char *dir, DIR *d, int *n)
{
	struct dirent *de;
	char path[4096];
	int err = 0;

	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		err |= replay(path);
		(*n)++;
	}
	closedir(d);
	return err;
}

int main(int argc, char **argv)
{
	int i, n = 0, err = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);

		if (d) {
			err |= replay_dir(argv[i], d, &n);
			continue;
		}
		err |= replay(argv[i]);
		n++;
	}
	if (!err)
		printf("dc-fuzz-replay: %d inputs, no crash\n", n);
	return err;
}

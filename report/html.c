// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_err.h"
#include "out.h"
#include "page_html.h"

#define DATA_MARK "/*DC_DATA*/"

/* The JSON inside a script element: "<" as \u003c so no "</script>" ends it early. */
static int put_json(FILE *f, const struct dc_buf *json)
{
	size_t i, from = 0;

	for (i = 0; i < json->len; i++) {
		if (json->p[i] != '<')
			continue;
		fwrite(json->p + from, 1, i - from, f);
		fputs("\\u003c", f);
		from = i + 1;
	}
	fwrite(json->p + from, 1, json->len - from, f);
	return 0;
}

int out_html(const char *path, const struct dc_buf *json)
{
	const char *mark = strstr(page_html, DATA_MARK);
	size_t n = strlen(path);
	char *tmp = malloc(n + 8);
	FILE *f = NULL;
	int fd, err = 0;

	if (!tmp || !mark) {
		free(tmp);
		return -ENOMEM;
	}
	/* Written aside and renamed, so FILE is never a half-written page. */
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".XXXXXX", 8);
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = dc_err(-errno, "%s: %s", path, strerror(errno));
		free(tmp);
		return err;
	}
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		err = -ENOMEM;
		goto out;
	}
	fwrite(page_html, 1, mark - page_html, f);
	put_json(f, json);
	fputs(mark + strlen(DATA_MARK), f);
	if (fflush(f) || ferror(f) || fsync(fileno(f)))
		err = dc_err(-EIO, "%s: %s", path, strerror(errno));
	if (fclose(f) && !err)
		err = dc_err(-EIO, "%s: %s", path, strerror(errno));
	if (!err && rename(tmp, path))
		err = dc_err(-errno, "%s: %s", path, strerror(errno));
out:
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

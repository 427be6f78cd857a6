/* SPDX-License-Identifier: MIT */
/* The report's output formats. */
#ifndef DC_OUT_H
#define DC_OUT_H

#include <stdio.h>

#include "agg.h"
#include "dc_buf.h"

struct out_opts {
	enum dim by;
	size_t top; /* 0: all */
	char **inputs;
	int ninputs;
};

int out_text(FILE *f, const struct agg *a, const struct out_opts *o);
int out_csv(FILE *f, const struct agg *a, const struct out_opts *o);
/* The whole report as one JSON document; @html adds the timeline rows. */
int out_json(struct dc_buf *b, const struct agg *a, const struct out_opts *o, bool html);
/* Writes the self-contained page to @path, around the JSON of out_json(). */
int out_html(const char *path, const struct dc_buf *json);

#endif

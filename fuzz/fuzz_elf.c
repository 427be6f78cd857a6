// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what the explorer reads from an ELF file: headers,
 * program headers, symbol tables with GNU versions, aliases, build-id,
 * .gnu_debuglink, USDT notes and their argument specs, and DWARF
 * prototypes with the captures they propose. See docs/explore.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dc_buf.h"
#include "dc_dwarf.h"
#include "dc_elf.h"
#include "dc_err.h"
#include "dc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void prototypes(struct dc_elf *e)
{
	struct dc_dwarf *d;
	size_t i;

	if (dc_dwarf__open(e, &d))
		return;
	for (i = 0; i < e->nsites; i++) {
		const struct dc_func *fn = &e->funcs[e->site_funcs[e->sites[i].first]];
		struct dc_buf b = { 0 };
		struct dc_proto p;
		struct dc_hint h;

		if (dc_dwarf__proto(d, fn->addr, &p))
			continue;
		dc_proto_format(&p, fn->name, &b);
		dc_proto_hint(&p, false, &h);
		dc_buf_free(&b);
		dc_proto_free(&p);
	}
	dc_dwarf__close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_usdt_arg args[16];
	struct dc_elf *e;
	/* libelf wants a mutable image; the fuzzer's input is not. */
	void *image = malloc(size ? size : 1);
	size_t i;

	if (!image)
		return 0;
	memcpy(image, data, size);
	if (dc_elf__open_mem(image, size, "fuzz", &e) == 0) {
		dc_elf__type_name(e);
		if (dc_elf__load_funcs(e) == 0 && dc_elf__sites(e) == 0) {
			for (i = 0; i < e->nfuncs; i++)
				dc_elf__find(e, e->funcs[i].name);
			prototypes(e);
		}
		if (dc_elf__load_usdt(e) == 0)
			for (i = 0; i < e->nusdt; i++)
				dc_usdt_args(e->usdt[i].args, args, 16);
		dc_elf__close(e);
	}
	dc_err_clear();
	free(image);
	return 0;
}

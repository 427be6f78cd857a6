// SPDX-License-Identifier: MIT
/*
 * A custom hook for the tests: write(2) as a span named by the config's
 * first event, fsync(2) as a point named by its second. Files come from
 * the descriptor table the generated openat probe keeps.
 */
SEC("tracepoint/syscalls/sys_enter_write")
int hook_write_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct dc_frame *f = dc_hook_begin(DC_HOOK_ID(0));

	if (!f)
		return 0;
	f->args[0] = (int)ctx->args[0];
	f->args[1] = ctx->args[2];
	dc_cap_handle(f, DC_NS_FD, (int)ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int hook_write_exit(struct trace_event_raw_sys_exit *ctx)
{
	dc_hook_end(DC_HOOK_ID(0), ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fsync")
int hook_fsync(struct trace_event_raw_sys_enter *ctx)
{
	struct dc_frame *f = dc_hook_point(DC_HOOK_ID(1));

	if (!f)
		return 0;
	f->args[0] = (int)ctx->args[0];
	dc_cap_handle(f, DC_NS_FD, (int)ctx->args[0]);
	dc_emit_point(f);
	return 0;
}

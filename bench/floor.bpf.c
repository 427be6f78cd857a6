// SPDX-License-Identifier: MIT
/*
 * Programs that do nothing, for the per-call floor: the cost of the probe
 * hits themselves, with no work of datacrumbs' own (bench/floor.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("uprobe")
int floor_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int floor_exit(void *ctx)
{
	return 0;
}

SEC("tracepoint")
int floor_sys_enter(void *ctx)
{
	return 0;
}

SEC("tracepoint")
int floor_sys_exit(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int floor_raw_enter(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int floor_raw_exit(void *ctx)
{
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * The library test_fault_traced.py replaces on disk while it is traced:
 * two builds that differ in DCF_BUILD, so the new file differs in content.
 */
__attribute__((visibility("default"), noinline)) long dcf_call(long n)
{
	return n + DCF_BUILD;
}

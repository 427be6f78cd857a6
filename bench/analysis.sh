#!/bin/bash
# SPDX-License-Identifier: MIT
# Memory and time of datacrumbs-report and datacrumbs-merge on large traces.
#
#   bench/analysis.sh BUILD_DIR [SIZE_MIB]
#
# Writes a synthetic multi-rank trace of SIZE_MIB compressed (default 1024)
# with bench/mktrace, then measures, with GNU time, the peak resident memory
# and the elapsed time of: zcat (the cost of decompression alone), the report
# in text, JSON and HTML form, and a merge of a tenth of it with --mem 64.
# Prints one Markdown table row per run.
set -euo pipefail

build=${1:?usage: bench/analysis.sh BUILD_DIR [SIZE_MIB]}
size=${2:-1024}
work=${TMPDIR:-/tmp}/datacrumbs-bench-analysis
mkdir -p "$work"
trace=$work/trace-${size}m.pfw.gz
small_size=$(( size >= 10 ? size / 10 : 1 ))
small=$work/trace-${small_size}m.pfw.gz

[ -s "$trace" ] || "$build/bench/mktrace" -o "$trace" -s "$size" >/dev/null
[ -s "$small" ] || "$build/bench/mktrace" -o "$small" -s "$small_size" -r 16 >/dev/null

measure() {
	local what=$1 input=$2
	shift 2
	/usr/bin/time -o "$work/time.out" -f '%e %M' "$@" >/dev/null 2>"$work/stderr.out"
	local out secs kib
	out=$(tail -1 "$work/time.out")
	secs=${out% *} kib=${out#* }
	local mib=$(( $(stat -c %s "$input") >> 20 ))
	printf '| %s | %s MiB | %s s | %s MiB |\n' "$what" "$mib" "$secs" $((kib / 1024))
}

echo "| run | input (compressed) | elapsed | peak RSS |"
echo "| --- | --- | --- | --- |"
measure "zcat > /dev/null" "$trace" zcat "$trace"
measure "datacrumbs-report" "$trace" "$build/report/datacrumbs-report" "$trace"
measure "datacrumbs-report --by file --json" "$trace" \
	"$build/report/datacrumbs-report" --by file --json "$trace"
measure "datacrumbs-report --html" "$trace" \
	"$build/report/datacrumbs-report" --html "$work/report.html" "$trace"
rm -f "$work/merged.pfw.gz"
measure "datacrumbs-merge --mem 64" "$small" \
	"$build/merge/datacrumbs-merge" --mem 64 -T "$work" -o "$work/merged.pfw.gz" "$small" "$small"
echo
echo "events: $(zcat "$trace" | grep -c '"ph":"X"') calls in $trace," \
	"$(( $(zcat "$trace" | wc -c) >> 20 )) MiB uncompressed"

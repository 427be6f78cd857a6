#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/run --smoke: every bench runs at tiny sizes and prints sane tables,
so the benchmarks do not rot. The figures themselves are the bench's
business (bench/RESULTS.md), not a test's; what is checked is that each
bench ran, its rows are there with positive figures, the I/O bench saw every
call it made, and the sections replace their old version in the results
file while hand-written text stays. Skips, after checking what did run,
when a peer the bench compares against is not installed (bench/setup)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import BUILD, SOURCE, check, need_bpf, run, skip, tmpdir  # noqa: E402

HAND = "Hand-written notes stay where they are.\n"


def sections(text):
    """{name: body} of the sections bench/run printed."""
    return dict(re.findall(r"<!-- bench/run (\S+) -->\n(.*?)<!-- end bench/run \1 -->", text,
                           re.S))


def rows(body):
    """The data rows of the Markdown tables in @body, as lists of cells."""
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in body.splitlines()
            if line.startswith("|") and not re.match(r"\|\s*-", line)][1:]


def numbers(row):
    return [float(c.rstrip("%").split()[0]) for c in row
            if re.fullmatch(r"[-+]?[0-9.]+( (KiB|MiB|s))?%?", c)]


def main():
    need_bpf()
    setup = subprocess.run([os.path.join(SOURCE, "bench", "setup"), "--check"],
                           capture_output=True, text=True)
    results = os.path.join(tmpdir(), "RESULTS.md")
    with open(results, "w") as f:
        f.write("# Results\n\n<!-- bench/run explore -->\nstale\n<!-- end bench/run explore -->\n"
                "\n" + HAND)
    status, out, err = run([sys.executable, os.path.join(SOURCE, "bench", "run"), "--smoke",
                            "--build", BUILD, "--results", results], timeout=1100)
    failed = re.findall(r"^## .*\n\nFAILED: .*(?:\n.+)*", out, re.M)
    check(status == 0, "bench/run --smoke failed (%d): %s%s" % (status, "\n".join(failed), err))
    got = sections(out)
    # A bench not in the tree yet is no missing peer.
    left_out = [x for x in re.findall(r"^## (.*)\n\nleft out: (.*)$", out, re.M)
                if not x[1].endswith(("is not in this tree", "size"))]
    expect = {"explore", "generate", "config_cost", "io", "writer", "writer_e2e", "analysis"}
    if os.path.exists(os.path.join(SOURCE, "bench", "percall.py")):
        expect.add("percall")
    check(expect <= set(got) | ({"io"} if left_out else set()),
          "sections %s, left out %s" % (sorted(got), left_out))
    for name, body in got.items():
        check("- Machine: kernel " in body and "load average" in body, "%s: no machine" % name)
        check("- Command: `bench/run --smoke`" in body, "%s: no command" % name)
    for name in ("explore", "generate", "config_cost", "analysis", "io", "writer_e2e"):
        if name in got:
            r = rows(got[name])
            check(r and all(numbers(x) and min(numbers(x)[:1]) >= 0 for x in r),
                  "%s rows: %s" % (name, r))
    check(re.search(r"^64 +KiB +1 +[0-9]+ ", got["writer"], re.M), "writer: %s" % got["writer"])
    check(len(rows(got["analysis"])) == 5, "analysis rows %s" % rows(got["analysis"]))
    if "io" in got:
        io = rows(got["io"])
        variants = [r[2] for r in io if r[0] == "POSIX loop"]
        check(variants[:3] == ["base", "profile", "trace"], "io variants %s" % variants)
        for r in io:
            if r[0] == "POSIX loop" and r[2] != "base":
                # 200 calls at each level, and the loader's and stdout's few.
                seen, made = (int(v) for v in r[-1].split(" / "))
                check(made == 400 and 400 <= seen <= 420, "io %s: %s" % (r[2], r[-1]))
    with open(results) as f:
        text = f.read()
    check("stale" not in text and HAND in text, "results file:\n" + text)
    check(sections(text).keys() == got.keys(), "results file sections %s" % sections(text).keys())
    missing = setup.stdout.strip() if setup.returncode else ""
    if ("io" in got and "| bpftrace |" not in got["io"]) or left_out or missing:
        skip("the benches ran, but peers are missing: %s %s" % (missing, left_out))
    print("ok: bench/run --smoke ran %s" % ", ".join(sorted(got)))


if __name__ == "__main__":
    main()

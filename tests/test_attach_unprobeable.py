#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attaching a set with offsets the kernel's uprobes refuse (tests/libdcbad.c):
they are skipped and reported, everything else in the same uprobe_multi link
attaches and traces exactly, --strict fails in one line, and what was
learned is cached per build-id: the next run skips them without a search,
and a corrupt, unsafe or planted cache file is handled safely."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (EXPLORE, RUN, calls, check, generate, need_bpf, only_trace,  # noqa: E402
                    run, tmpdir)

LIB = os.environ.get("DC_BADLIB", "")
WORKLOAD = os.environ.get("DC_BADPROBE_WORKLOAD", "")
GOOD = {"dcb_plain": 3, "dcb_plain2": 5}
# In config order, which is the order skips are reported in.
BAD = ["dcb_lock", "dcb_cs", "dcb_ds", "dcb_es", "dcb_ss", "dcb_vex", "dcb_branch16", "dcb_hlt"]
REASON = {"dcb_lock": "lock prefix", "dcb_cs": "segment prefix", "dcb_ds": "segment prefix",
          "dcb_es": "segment prefix", "dcb_ss": "segment prefix", "dcb_vex": "cannot single-step",
          "dcb_branch16": "16-bit branch", "dcb_hlt": "cannot single-step"}


def explore():
    status, out, err = run([EXPLORE, "--json", "--no-prototypes", LIB])
    check(status == 0, "explore failed: " + err)
    doc = json.loads(out)
    return doc["target"]["build_id"], {f["name"]: f["offset"] for f in doc["functions"]}


def trace(work, env, *opts, status=0):
    """Runs the workload under datacrumbs-run; returns (stderr lines, events or None)."""
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    os.mkdir(out)
    code, stdout, err = run([RUN, *opts, "-o", out, os.path.join(work, "bad.bpf.o"), "--",
                             WORKLOAD], env=env, timeout=60)
    check(code == status, "exit status %d, want %d: %s" % (code, status, err))
    if status:
        check(os.listdir(out) == [], "a failed run left %s" % os.listdir(out))
        return err.strip().splitlines(), None
    check(stdout.strip() == "39", "workload printed %r" % stdout)
    return err.strip().splitlines(), only_trace(out)


def check_events(events, good):
    """Exactly @good's calls, from one process, and nothing of the skipped functions."""
    spans = calls(events)
    counts = {}
    for e in spans:
        counts[e["name"]] = counts.get(e["name"], 0) + 1
    check(counts == good, "calls %s, want %s" % (counts, good))
    check(len({(e["pid"], e["tid"]) for e in spans}) == 1, "calls from several threads")
    check(all(e["dur"] >= 0 and e["cat"] == "BAD" for e in spans), "bad call events")


def skipped(lines):
    """{name: reason} of the '  name: reason' lines after the warning."""
    out = {}
    for line in lines:
        if line.startswith("  ") and ": " in line:
            name, why = line.strip().split(": ", 1)
            out[name] = why
    return out


def stat_line(lines):
    found = [ln for ln in lines if "unprobeable offsets:" in ln]
    check(len(found) == 1, "no unprobeable-offsets line in %s" % lines)
    return found[0]


def links(lines):
    found = [ln for ln in lines if "uprobe_multi links" in ln]
    check(len(found) == 1, "no attach line in %s" % lines)
    return int(found[0].split(" uprobe_multi links")[0].rsplit("(", 1)[1])


def main():
    need_bpf()
    check(LIB and WORKLOAD, "DC_BADLIB and DC_BADPROBE_WORKLOAD must be set")
    work = tmpdir()
    build_id, offsets = explore()
    check(build_id and all(n in offsets for n in BAD + list(GOOD)), "explore: %s" % offsets)
    with open(os.path.join(work, "bad.yaml"), "w") as f:
        f.write("module: bad\nprobes:\n  - kind: uprobe\n    cat: BAD\n    binary: %s\n"
                "    functions: [%s]\n" % (LIB, ", ".join(["dcb_plain"] + BAD + ["dcb_plain2"])))
    generate([os.path.join(work, "bad.yaml")], os.path.join(work, "bad.bpf.o"))
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
    env.pop("DATACRUMBS_ATTACH_DECODE", None)
    cache = os.path.join(work, "cache", "datacrumbs", "attach-" + build_id)

    # First run: the count, the first five with their reasons, a pointer to --verbose.
    lines, events = trace(work, env)
    warn = [ln for ln in lines if "could not attach" in ln]
    check(warn == ["datacrumbs-run: warning: 8 of 10 probes could not attach "
                   "(--verbose lists all); first:"], "warning: %s" % lines)
    first = skipped(lines)
    check(list(first) == BAD[:5], "listed %s, want %s" % (list(first), BAD[:5]))
    for name, why in first.items():
        check(REASON[name] in why and "cache" not in why, "%s: reason %r" % (name, why))
    check_events(events, GOOD)
    with open(cache) as f:
        saved = f.read().splitlines()
    check(saved[0] == "datacrumbs-attach 1" and saved[1].startswith("kernel "), "cache %s" % saved)
    check(sorted(int(ln.split()[0], 16) for ln in saved[2:]) == sorted(offsets[n] for n in BAD),
          "cached offsets %s" % saved[2:])
    check(os.stat(cache).st_mode & 0o777 == 0o600, "cache file mode")

    # Second run: the cache says it all; --verbose lists every skip.
    lines, events = trace(work, env, "-v")
    check(any("attach cache: %s: 8 offsets known unprobeable" % LIB in ln for ln in lines),
          "cache not used: %s" % lines)
    check("0 found by reading their instruction, 0 refused by the kernel, 8 known from the "
          "attach cache" in stat_line(lines), stat_line(lines))
    listed = skipped(lines)
    check(list(listed) == BAD, "verbose listed %s" % list(listed))
    check(all(w.endswith("(known from the attach cache)") for w in listed.values()), listed)
    check(links(lines) == 2, "one entry and one return link")
    check_events(events, GOOD)

    # --strict: one line, non-zero, no trace.
    lines, _ = trace(work, env, "--strict", status=1)
    check(len(lines) == 1 and lines[0].startswith(
        "datacrumbs-run: 8 probes could not attach (first: dcb_lock: ") and
        "lock prefix" in lines[0], "strict: %s" % lines)

    # A corrupt cache is ignored (and replaced); the instructions are read again.
    for junk in (b"\x00\xff garbage\n", b"datacrumbs-attach 1\nkernel x\nzz -524 lock\n",
                 b"datacrumbs-attach 1\n" + saved[1].encode() + b"\n10 -524 nonsense\n"):
        with open(cache, "wb") as f:
            f.write(junk)
        lines, events = trace(work, env, "-v")
        check(any("ignoring the attach cache" in ln and "malformed" in ln for ln in lines),
              "corrupt cache %r not said: %s" % (junk, lines))
        check("8 found by reading their instruction" in stat_line(lines), stat_line(lines))
        check(skipped(lines).keys() == set(BAD), "skips with a corrupt cache")
        check_events(events, GOOD)
        with open(cache) as f:
            check(f.read().splitlines()[2:] == saved[2:], "cache not rewritten")
    # One that others may write is not trusted.
    os.chmod(cache, 0o666)
    lines, events = trace(work, env, "-v")
    check(any("not a private file" in ln for ln in lines), "writable cache used: %s" % lines)
    check_events(events, GOOD)

    # The cache is believed: a planted entry skips a function that could be probed.
    with open(cache, "w") as f:
        f.write("\n".join(saved[:2] + ["%x -524 kernel" % offsets["dcb_plain2"]]) + "\n")
    os.chmod(cache, 0o600)
    lines, events = trace(work, env, "-v")
    check(skipped(lines).get("dcb_plain2", "").endswith("(known from the attach cache)"),
          "planted entry not used: %s" % lines)
    check_events(events, {"dcb_plain": 3})

    # The kernel alone: with decoding off and the library mapped while probes
    # attach, it refuses the same offsets (so reading them agrees with it),
    # found by splitting the batch.
    os.unlink(cache)
    env["DATACRUMBS_ATTACH_DECODE"] = "0"
    holder = subprocess.Popen([WORKLOAD, "--hold"], stdin=subprocess.PIPE)
    try:
        lines, events = trace(work, env, "-v")
        check("0 found by reading their instruction, 8 refused by the kernel, 0 known" in
              stat_line(lines), stat_line(lines))
        listed = skipped(lines)
        check(list(listed) == BAD and all("ENOTSUPP" in w for w in listed.values()),
              "kernel refused %s" % listed)
        check(links(lines) > 2, "no split")
        check_events(events, GOOD)
        lines, events = trace(work, env, "-v")
        check("0 refused by the kernel, 8 known from the attach cache" in stat_line(lines),
              stat_line(lines))
        check(links(lines) == 2, "second run did not attach in one try: %s" % lines)
        check_events(events, GOOD)
    finally:
        holder.stdin.close()
        holder.wait()
    print("ok")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-report on crafted traces: exact statistics, the layer split in
both event orders, profile counters, ranks, output formats, and damaged or
hostile input (truncated and corrupt gzip members, bad lines, non-traces)."""
import csv
import gzip
import io
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import REPORT, check, report_json, run, tmpdir, write_pfw  # noqa: E402

T0 = 1_700_000_000_000_000
HH = "00000000000000aa"


def meta(name, pid, args):
    return {"id": 0, "name": name, "cat": "dftracer", "pid": pid, "tid": pid, "ph": "M", "args": args}


def x(name, cat, pid, tid, ts, dur, level, **args):
    a = {"hhash": HH}
    a.update(args)
    a["level"] = level
    return {"id": 0, "name": name, "cat": cat, "pid": pid, "tid": tid, "ts": ts, "dur": dur,
            "ph": "X", "args": a}


def stack(pid, tid, t, fh):
    """H5Dwrite [0,100) > MPI_File_write_at [10,90) > pwrite [15,75) > pwrite64 [20,70),
    innermost first, as a trace written when calls end lists them."""
    return [x("pwrite64", "SYSCALL", pid, tid, t + 20, 50, 3, fhash=fh, fd=3, size=4096, offset=0, ret=4096),
            x("pwrite", "POSIX", pid, tid, t + 15, 60, 2, fhash=fh, fd=3, size=4096, offset=0, ret=4096),
            x("MPI_File_write_at", "MPIIO", pid, tid, t + 10, 80, 1, fhash=fh),
            x("H5Dwrite", "HDF5", pid, tid, t, 100, 0, fhash=fh)]


def layers(doc):
    return {l["name"]: (l["total_us"], l["self_us"], l["calls"]) for l in doc["layers"]}


def groups(doc):
    return {(g.get("layer"), g["name"]): g for g in doc["groups"]}


def test_stack_split(work):
    """The split of time into layers, from events in end order on one thread
    and in start order on another, and a read with its system call."""
    fa, fb = "000000000000f001", "000000000000f002"
    lines = [meta("HH", 10, {"name": "node1", "value": HH}),
             meta("FH", 10, {"name": "/data/a.h5", "value": fa}),
             meta("FH", 10, {"name": "/data/b.h5", "value": fb}),
             meta("process_name", 10, {"name": "app"}),
             meta("PR", 10, {"name": "rank", "value": 0}),
             meta("PR", 11, {"name": "rank", "value": 1})]
    for i in range(10):
        t = T0 + i * 1000
        lines += stack(10, 10, t, fa)
        lines += list(reversed(stack(11, 12, t, fb)))
        lines += [x("read", "SYSCALL", 10, 10, t + 502, 6, 1, fhash=fa, fd=3, size=100, ret=40),
                  x("read", "POSIX", 10, 10, t + 500, 10, 0, fhash=fa, fd=3, size=100, ret=40)]
    path = os.path.join(work, "stack.pfw.gz")
    write_pfw(path, lines, per_member=7)
    doc, err = report_json([path], "--by", "function", "--top", "0")
    check(err == "", "unexpected warnings: " + err)
    got = layers(doc)
    want = {"HDF5": (2000, 400, {"MPIIO": 1600}),
            "MPIIO": (1600, 400, {"POSIX": 1200}),
            "POSIX": (1300, 240, {"SYSCALL": 1060}),
            "SYSCALL": (1060, 1060, {})}
    check(got == want, "layer split %s, want %s" % (got, want))
    check([l["name"] for l in doc["layers"]] == ["HDF5", "MPIIO", "POSIX", "SYSCALL"],
          "layer order %s" % [l["name"] for l in doc["layers"]])
    check(doc["unattributed_us"] == 0, "unattributed %d" % doc["unattributed_us"])
    g = groups(doc)
    check(g[("POSIX", "pwrite")]["count"] == 20 and g[("POSIX", "pwrite")]["bytes"] == 20 * 4096,
          "pwrite %s" % g[("POSIX", "pwrite")])
    check(g[("POSIX", "read")]["bytes"] == 400 and g[("SYSCALL", "read")]["bytes"] == 400,
          "read bytes counted from ret")
    check(g[("MPIIO", "MPI_File_write_at")]["bytes"] == 0, "a call without size moved bytes")
    check(g[("HDF5", "H5Dwrite")]["p50_us"] == 100 and g[("HDF5", "H5Dwrite")]["mean_us"] == 100,
          "H5Dwrite p50 %s" % g[("HDF5", "H5Dwrite")])
    wall = 9 * 1000 + 510
    check(doc["wall_us"] == wall, "wall %d, want %d" % (doc["wall_us"], wall))
    check(abs(g[("HDF5", "H5Dwrite")]["wall_share"] - 2000 / wall) < 1e-6, "wall share")

    # Ranks from PR metadata; files by name.
    doc, _ = report_json([path], "--by", "rank")
    ranks = {r["name"]: (r["count"], r["total_us"]) for r in doc["groups"]}
    check(ranks == {"rank 0": (60, 3060), "rank 1": (40, 2900)}, "ranks %s" % ranks)
    doc, _ = report_json([path], "--by", "file")
    files = {f["name"]: f["count"] for f in doc["groups"]}
    check(files == {"/data/a.h5": 60, "/data/b.h5": 40}, "files %s" % files)
    doc, _ = report_json([path], "--by", "process")
    procs = {p["name"]: (p["pid"], p["rank"]) for p in doc["groups"]}
    check(procs == {"pid 10 app @node1": (10, 0), "pid 11 @node1": (11, 1)}, "processes %s" % procs)


def test_quantiles(work):
    """P50 and P99 against exact order statistics, within the documented error."""
    durs = list(range(1, 1001)) + [5] * 3000 + [123456] * 7
    lines = [x("op", "POSIX", 1, 1, T0 + i * 200000, d, 0) for i, d in enumerate(durs)]
    path = os.path.join(work, "q.pfw.gz")
    write_pfw(path, lines, per_member=500)
    doc, _ = report_json([path], "--by", "layer")
    g = doc["groups"][0]
    ordered = sorted(durs)
    for p, key in ((0.5, "p50_us"), (0.99, "p99_us")):
        rank = -(-len(ordered) * p // 1)
        exact = ordered[int(rank) - 1]
        got = g[key]
        if exact < 128:
            check(got == exact, "%s %d, exact %d" % (key, got, exact))
        else:
            check(abs(got - exact) <= exact / 128, "%s %d, exact %d: off by more than 1/128" %
                  (key, got, exact))
    check(g["min_us"] == 1 and g["max_us"] == 123456, "min/max %s" % g)
    check(g["count"] == len(durs) and g["total_us"] == sum(durs), "count/total %s" % g)
    hist = doc["layers"][0]["histogram"]
    check(hist[0] == 0 and hist[1] == 1 and hist[3] == 4 + 3000 and sum(hist) == len(durs),
          "histogram %s" % hist[:12])


def test_profile_counters(work):
    """C events (DFTracer counters: no id, no dur, numeric args) add to their group."""
    lines = [{"name": "write", "cat": "POSIX", "pid": 5, "tid": 5, "ts": T0 + i * 1000, "ph": "C",
              "args": {"count": 10, "time": 500, "size": 40960}} for i in range(3)]
    lines.append(x("write", "POSIX", 5, 5, T0 + 5000, 70, 0, fd=1, size=100, ret=100))
    lines.append({"name": "read", "cat": "POSIX", "pid": 5, "tid": 5, "ts": T0 + 9000, "ph": "C",
                  "args": {"count": 4, "time": 40, "size": 0}})
    path = os.path.join(work, "prof.pfw.gz")
    write_pfw(path, lines)
    doc, _ = report_json([path], "--top", "0")
    g = groups(doc)
    w, r = g[("POSIX", "write")], g[("POSIX", "read")]
    check((w["count"], w["total_us"], w["bytes"], w["profiled_count"]) == (31, 1570, 122980, 30),
          "write %s" % w)
    check(w["p50_us"] == 70, "quantiles come from X events only: %s" % w)
    check((r["count"], r["total_us"], r["p50_us"]) == (4, 40, None), "read %s" % r)
    check(doc["events"]["counters"] == 4 and doc["events"]["calls"] == 1, "events %s" % doc["events"])
    status, out, err = run([REPORT, path])
    check(status == 0 and "4 profile counters" in out, "text report of counters: %s" % out)

    # datacrumbs-run's counters keep their hashes beside the args, which must
    # all be numbers; a hash in args still wins.
    fa, fb, hb = "000000000000fa01", "000000000000fb02", "00000000000000bb"
    lines = [meta("HH", 6, {"name": "node1", "value": HH}),
             meta("HH", 6, {"name": "node2", "value": hb}),
             meta("FH", 6, {"name": "/data/a", "value": fa}),
             meta("FH", 6, {"name": "/data/b", "value": fb}),
             {"name": "write", "cat": "POSIX", "pid": 6, "tid": 6, "ts": T0, "ph": "C",
              "hhash": HH, "fhash": fa, "args": {"count": 3, "time": 1.5, "bytes": 300,
                                                 "min": 0.25, "max": 1}},
             {"name": "write", "cat": "POSIX", "pid": 6, "tid": 7, "ts": T0, "ph": "C",
              "hhash": HH, "fhash": fa, "args": {"count": 2, "time": 2.5, "bytes": 20}},
             {"name": "read", "cat": "POSIX", "pid": 7, "tid": 7, "ts": T0, "ph": "C",
              "hhash": hb, "fhash": fb, "args": {"count": 5, "time": 4, "bytes": 50}},
             {"name": "read", "cat": "POSIX", "pid": 8, "tid": 8, "ts": T0, "ph": "C",
              "fhash": fb, "args": {"fhash": fa, "count": 1, "time": 1, "bytes": 7}}]
    path = os.path.join(work, "prof-top.pfw.gz")
    write_pfw(path, lines)
    doc, _ = report_json([path], "--by", "file", "-n", "0")
    g = {n: (v["count"], v["total_us"], v["bytes"]) for (_, n), v in groups(doc).items()}
    # Times are rounded to whole us per counter: 2 + 3 + 1.
    check(g == {"/data/a": (6, 6, 327), "/data/b": (5, 4, 50)}, "counters by file: %s" % g)
    doc, _ = report_json([path], "--by", "process", "-n", "0")
    hosts = sorted((v["name"], v["count"]) for v in doc["groups"])
    check(len(hosts) == 3 and any("node2" in n and c == 5 for n, c in hosts),
          "counters by process: %s" % hosts)


def test_formats(work):
    lines = [x("f%d" % (i % 7), "POSIX", 1, 1, T0 + i * 10, 1 + i % 13, 0, fd=3, size=10, ret=10)
             for i in range(700)]
    lines.append(x("odd,\"name\"", "POSIX", 1, 1, T0 + 99999, 1, 0))
    path = os.path.join(work, "fmt.pfw.gz")
    write_pfw(path, lines)
    doc, _ = report_json([path], "-n", "0")
    status, out, err = run([REPORT, "--csv", "-n", "0", path])
    check(status == 0, "csv: " + err)
    rows = list(csv.DictReader(io.StringIO(out)))
    check(len(rows) == len(doc["groups"]) == 8, "csv rows %d, json groups %d" % (len(rows), len(doc["groups"])))
    for r, g in zip(rows, doc["groups"]):
        check((r["layer"], r["function"], int(r["count"]), int(r["total_us"]), int(r["bytes"]),
               int(r["p50_us"])) == (g["layer"], g["name"], g["count"], g["total_us"], g["bytes"], g["p50_us"]),
              "csv %s != json %s" % (r, g))
    status, out, err = run([REPORT, "-n", "3", path])
    check(status == 0 and "top 3 of 8" in out, "text: %s" % out)
    table = out.splitlines()
    head = next(i for i, ln in enumerate(table) if ln.startswith("LAYER  "))
    check(table[head].split()[:3] == ["LAYER", "FUNCTION", "COUNT"], "header %r" % table[head])
    for ln, g in zip(table[head + 1:head + 4], doc["groups"]):
        check(ln.split()[:4] == ["POSIX", g["name"], str(g["count"]), "%.3f" % (g["total_us"] / 1e3)],
              "text row %r does not match %s" % (ln, g))
    check(table[head + 4] == "", "more than 3 rows: %r" % table[head + 4])
    for by in ("layer", "file", "process", "rank"):
        status, out, err = run([REPORT, "--by", by, path])
        check(status == 0 and ("By %s" % by) in out, "--by %s: %s" % (by, err))


def member_lines(data):
    """The complete lines a gzip member's bytes (maybe cut short) decode to."""
    d = zlib.decompressobj(31)
    text = d.decompress(data).decode()
    return text[:text.rfind("\n") + 1].splitlines() if "\n" in text else []


def test_damage(work):
    lines = [x("w", "POSIX", 1, 1, T0 + i, 1, 0) for i in range(499)]
    path = os.path.join(work, "trunc.pfw.gz")
    starts = write_pfw(path, lines, per_member=100, closing=False)
    size = os.path.getsize(path)
    cut = starts[-1] + (size - starts[-1]) * 2 // 3
    with open(path, "r+b") as f:
        last = f.read()[starts[-1]:cut]
        f.truncate(cut)
    expect = 399 + len(member_lines(last))
    check(399 < expect < 499, "the cut lost nothing, or everything")
    doc, err = report_json([path])
    check(doc["events"]["calls"] == expect, "truncated: %d events, want %d" % (doc["events"]["calls"], expect))
    check("truncated" in err and err.count("\n") == 1, "truncated warning: %r" % err)
    check(doc["events"]["damaged_files"] == 1 and doc["events"]["bad_lines"] == 0, "damage count %s" % doc["events"])

    # A member whose header is broken: it is skipped, the next ones are read.
    lines.append(x("w", "POSIX", 1, 1, T0 + 499, 1, 0))
    path = os.path.join(work, "corrupt.pfw.gz")
    starts = write_pfw(path, lines, per_member=100)
    with open(path, "r+b") as f:
        f.seek(starts[2] + 2)
        f.write(b"\x09")
    doc, err = report_json([path])
    check(doc["events"]["calls"] == 400, "corrupt: %d events" % doc["events"]["calls"])
    check("corrupt" in err, "corrupt warning: %r" % err)

    # Garbage after the last member.
    path = os.path.join(work, "tail.pfw.gz")
    write_pfw(path, lines)
    with open(path, "ab") as f:
        f.write(b"\x00garbage" * 10)
    doc, err = report_json([path])
    check(doc["events"]["calls"] == 500 and "not gzip" in err, "trailing garbage: %s %r" % (doc["events"], err))

    # The same trace, not compressed, with no closing bracket.
    path = os.path.join(work, "plain.pfw")
    with open(path, "w") as f:
        f.write("[\n" + "".join('{"name":"w","cat":"POSIX","pid":1,"tid":1,"ts":%d,"dur":1,"ph":"X"}\n' % i
                                for i in range(50)))
    doc, err = report_json([path])
    check(doc["events"]["calls"] == 50 and err == "", "plain: %s %r" % (doc["events"], err))


def test_bad_lines(work):
    good = [x("w", "POSIX", 1, 1, T0 + i, 1, 0) for i in range(20)]
    bad = ["not json at all",
           '{"name":"w","ph":"X","ts":1}',
           '{"name":"w","ph":5,"ts":1,"dur":1}',
           '{"name":"w","ph":"X","ts":"1","dur":1}',
           '{"name":"w","ph":"X","ts":1,"dur":1} trailing',
           '{"name":"w","cat":"POSIX","ph":"X","ts":1,',
           '{"name":"w","ph":"X","ts":1,"dur":1,"args":{"a":"\\ud800"}}',
           '{"name":"w","ph":"X","ts":1,"dur":-4}',
           '{"name":"w","ph":"X","ts":1,"dur":1,"pid":"p"}',
           '{"name":"w","ph":"X","ts":9223372036854775000,"dur":100000}',
           '{"name":"w","ph":"C","ts":-9223372036854775800,"args":{"count":1}}',
           '{"name":"w","ph":"X","ts":1,"dur":1e300}',
           "[" * 100000,
           '{"name":"' + "n" * (1 << 21) + '","ph":"X","ts":1,"dur":1}']
    lines = good[:10] + bad + good[10:]
    path = os.path.join(work, "bad.pfw.gz")
    write_pfw(path, lines, per_member=3)
    doc, err = report_json([path])
    check(doc["events"]["calls"] == 20, "good events %d" % doc["events"]["calls"])
    check(doc["events"]["bad_lines"] == len(bad), "bad lines %d, want %d" % (doc["events"]["bad_lines"], len(bad)))
    warn = err.splitlines()
    check(len(warn) == 4 and warn[-1].endswith("%d bad lines skipped" % len(bad)) and
          all(w.startswith("datacrumbs-report: warning: ") for w in warn), "warnings: %r" % err)
    check(":12: " in warn[0], "the first warning names the line: %r" % warn[0])


def test_errors(work):
    def one_line_error(argv, status, words):
        st, out, err = run([REPORT, *argv])
        check(st == status, "%s: status %d, want %d (%s)" % (argv, st, status, err))
        check(out == "" and len(err.splitlines()) == 1 and err.startswith("datacrumbs-report: "),
              "%s: stderr %r" % (argv, err))
        check(words in err, "%s: %r lacks %r" % (argv, err, words))

    text = os.path.join(work, "notes.txt")
    with open(text, "w") as f:
        f.write("hello, this is not a trace\n")
    binary = os.path.join(work, "random.bin")
    with open(binary, "wb") as f:
        f.write(os.urandom(4096).replace(b"\x1f\x8b", b"xx"))
    gz = os.path.join(work, "text.gz")
    with open(gz, "wb") as f:
        f.write(gzip.compress(b"a,b,c\n1,2,3\n"))
    for path in (text, binary, gz):
        one_line_error([path], 1, "not a DFTracer trace")
    one_line_error([os.path.join(work, "missing.pfw.gz")], 1, "No such file")
    one_line_error([work], 1, "is a directory")
    one_line_error(["--by", "color", text], 2, "--by must be")
    one_line_error(["--top", "x", text], 2, "--top")
    one_line_error(["--csv", "--json", text], 2, "exclude")
    one_line_error([], 2, "no trace given")
    one_line_error(["--html", os.path.join(work, "no", "such", "dir.html"),
                    os.path.join(work, "fmt.pfw.gz")], 1, "No such file")
    check(not os.path.exists(os.path.join(work, "no")), "html error left files")
    empty = os.path.join(work, "empty.pfw.gz")
    open(empty, "w").close()
    doc, err = report_json([empty])
    check(doc["events"]["calls"] == 0 and doc["groups"] == [], "empty trace: %s" % doc)


def main():
    work = tmpdir()
    for t in (test_stack_split, test_quantiles, test_profile_counters, test_formats, test_damage,
              test_bad_lines, test_errors):
        t(work)
        print("ok: " + t.__name__)


if __name__ == "__main__":
    main()

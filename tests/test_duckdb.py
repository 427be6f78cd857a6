#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real traces load in DuckDB (npm @duckdb/node-api, installed under the
build directory): read_json on the .pfw.gz gives a row per event with the
right types, and a query reproduces the report's per-function totals."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (BUILD, MERGE, check, read_trace, report_json, run, skip,  # noqa: E402
                    tmpdir, trace_workload)

QUERY_JS = r"""
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const con = await (await DuckDBInstance.create(':memory:')).connect();
  const src = `read_json('${process.argv[2].replace(/'/g, "''")}', format='newline_delimited', ignore_errors=true)`;
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
  const types = {};
  for (const r of await rows(`DESCRIBE SELECT * FROM ${src}`)) types[r.column_name] = r.column_type;
  const has = (f) => new RegExp(`[(, ]"?${f}"? `).test(types.args || '');
  // The report's rule: bytes are ret when the call has a size it could fill,
  // or is vectored (iovcnt).
  const bytes = `CASE WHEN args.ret > 0 AND (` +
    (has('size') ? `(args.size IS NOT NULL AND args.ret <= args.size)` : 'false') +
    (has('iovcnt') ? ` OR (args.size IS NULL AND args.iovcnt IS NOT NULL)` : '') +
    `) THEN args.ret ELSE 0 END`;
  const out = {
    types,
    by_ph: await rows(`SELECT ph, count(*) AS n FROM ${src} GROUP BY ph`),
    functions: await rows(`SELECT cat, name, count(*) AS count, sum(dur) AS total_us,
        sum(${bytes}) AS bytes FROM ${src} WHERE ph = 'X' GROUP BY cat, name`),
    ids: (await rows(`SELECT list(id ORDER BY id) AS ids FROM ${src} WHERE id IS NOT NULL`))[0].ids,
  };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
"""


def setup_duckdb():
    """Installs @duckdb/node-api under the build directory once; skips the
    test, saying why, when node, npm or the package cannot be had."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        skip("node and npm are needed for the DuckDB client (@duckdb/node-api)")
    where = os.path.join(BUILD, "npm-duckdb")
    os.makedirs(where, exist_ok=True)
    if not os.path.isdir(os.path.join(where, "node_modules", "@duckdb", "node-api")):
        try:
            p = subprocess.run([npm, "install", "--prefix", where, "--no-audit", "--no-fund",
                                "--no-save", "@duckdb/node-api"], capture_output=True, text=True,
                               timeout=600, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            skip("npm install @duckdb/node-api timed out")
        if p.returncode:
            lines = (p.stderr or p.stdout).strip().splitlines()
            skip("npm install @duckdb/node-api failed: %s" % (lines[-1] if lines else p.returncode))
    script = os.path.join(where, "query.js")
    with open(script, "w") as f:
        f.write(QUERY_JS)
    return node, script


def duckdb(node, script, trace):
    p = subprocess.run([node, script, trace], capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "DuckDB on %s failed: %s" % (trace, p.stderr))
    return json.loads(p.stdout)


def check_trace(node, script, trace):
    events = read_trace(trace)
    got = duckdb(node, script, trace)
    t = got["types"]
    for col, want in (("id", "BIGINT"), ("pid", "BIGINT"), ("tid", "BIGINT"), ("ts", "BIGINT"),
                      ("dur", "BIGINT"), ("name", "VARCHAR"), ("cat", "VARCHAR"), ("ph", "VARCHAR")):
        check(t.get(col) == want, "%s: column %s is %s, want %s" % (trace, col, t.get(col), want))
    check(t["args"].startswith("STRUCT("), "args is %s" % t["args"])
    # A field with negative and positive values (fd -1 of an anonymous mmap,
    # fd 3) is HUGEINT: DuckDB reads the two as BIGINT and UBIGINT.
    for field, want in (("hhash", ["VARCHAR"]), ("fhash", ["VARCHAR"]),
                        ("ret", ["BIGINT", "HUGEINT"]), ("level", ["BIGINT"]),
                        ("size", ["BIGINT"]), ("fd", ["BIGINT", "HUGEINT"])):
        check(any(("%s %s" % (field, w)) in t["args"] or ('"%s" %s' % (field, w)) in t["args"]
                  for w in want), "args.%s is not %s in %s" % (field, want, t["args"]))

    # One row per event. With ignore_errors, DuckDB turns the "[" and "]"
    # lines into empty rows, and the "[" swallows the line after it, the
    # start record; every call and counter is there.
    by_ph = {r["ph"]: int(r["n"]) for r in got["by_ph"]}
    want = {}
    for e in events:
        want[e["ph"]] = want.get(e["ph"], 0) + 1
    want["M"] -= 1
    want[None] = 3
    check(by_ph == want, "%s: rows per ph %s, want %s" % (trace, by_ph, want))
    ids = [int(i) for i in got["ids"]]
    check(ids == sorted(e["id"] for e in events if "id" in e and e["name"] != "start"),
          "%s: ids differ" % trace)

    doc, _ = report_json([trace], "--by", "function", "-n", "0")
    rep = {(g["layer"], g["name"]): (g["count"], g["total_us"], g["bytes"]) for g in doc["groups"]}
    sql = {(r["cat"], r["name"]): (int(r["count"]), int(r["total_us"]), int(r["bytes"]))
           for r in got["functions"]}
    check(rep == sql, "%s: DuckDB per-function totals differ from the report:\n%s\n%s" %
          (trace, sorted(sql.items()), sorted(rep.items())))
    return len(sql)


def main():
    work = tmpdir()
    traces, _ = trace_workload(work, runs=2)
    node, script = setup_duckdb()
    merged = os.path.join(work, "merged.pfw.gz")
    status, out, err = run([MERGE, "-o", merged, *traces])
    check(status == 0, "merge: " + err)
    for t in traces + [merged]:
        n = check_trace(node, script, t)
        print("ok: %s: %d functions match the report" % (os.path.basename(t), n))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-explore on ELF files the suite builds and on the system's
libraries: exact functions, versions, aliases and offsets against readelf,
DWARF prototypes and the captures they propose, separate debug files, USDT
probes, filters, the three output formats, library names and bad input."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import EXPLORE, GENERATE, check, run, tmpdir  # noqa: E402

LIB = os.environ["DC_TESTLIB"]
LIB_DBG = os.environ["DC_TESTLIB_DBG"]
LIB_STRIPPED = os.environ["DC_TESTLIB_STRIPPED"]
DEBUGFILE = os.environ["DC_TESTLIB_DEBUGFILE"]
USDT_PIE = os.environ["DC_USDT_PIE"]
USDT_NOPIE = os.environ["DC_USDT_NOPIE"]
USDT_LIB = os.environ["DC_USDT_LIB"]
# Tests choose the debug directories; the system's must not leak in.
NO_DEBUG_DIRS = {"DATACRUMBS_DEBUG_DIRS": "/nonexistent"}


def env_with(extra):
    env = dict(os.environ)
    env.update(extra)
    return env


def explore(args, extra_env=None):
    status, out, err = run([EXPLORE, *args], env=env_with(extra_env or NO_DEBUG_DIRS),
                           timeout=60)
    check(status == 0, "explore %s failed (%d): %s" % (args, status, err))
    check(err == "", "explore %s wrote to stderr: %r" % (args, err))
    return out


def explore_json(args, extra_env=None):
    out = explore(["--json", *args], extra_env)
    try:
        return json.loads(out)
    except ValueError as e:
        return check(False, "explore --json %s: not JSON: %s" % (args, e))


def readelf(args, path):
    p = subprocess.run(["readelf", "-W", *args, path], capture_output=True, text=True)
    check(p.returncode == 0, "readelf %s %s: %s" % (args, path, p.stderr))
    return p.stdout


def loads(path):
    """PT_LOAD segments as (vaddr, offset, filesz), from readelf."""
    segs = []
    for line in readelf(["-l"], path).splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            segs.append((int(f[2], 16), int(f[1], 16), int(f[4], 16)))
    return segs


def file_offset(segs, addr):
    off = [addr - v + o for v, o, n in segs if v <= addr < v + n]
    check(len(off) == 1, "readelf: 0x%x maps to %s" % (addr, off))
    return off[0]


def readelf_functions(path, table_args, mapped_by=None):
    """{(symbol as readelf spells it, file offset)} of defined functions, offsets
    through the program headers of @mapped_by (a debug file has no contents)."""
    segs = loads(mapped_by or path)
    want = set()
    for line in readelf(table_args, path).splitlines():
        f = line.split()
        if len(f) < 8 or f[3] not in ("FUNC", "IFUNC") or f[6] == "UND":
            continue
        value = int(f[1], 16)
        if value:
            want.add((f[7], file_offset(segs, value)))
    return want


def bare(symbol):
    return re.sub(r"@.*", "", symbol)


def all_names(doc):
    """{(name, version, default, offset, tables)} of every name the explorer lists."""
    names = set()
    for fn in doc["functions"]:
        for s in [fn] + fn["aliases"]:
            names.add((s["name"], s["version"], s["default_version"], fn["offset"],
                       tuple(s["tables"])))
    return names


def spelled(name, version, default):
    if not version:
        return name
    return name + ("@@" if default else "@") + version


def check_exact(path, extra_env=None, symtab_from=None):
    """Names and offsets equal readelf's, table by table."""
    doc = explore_json([path], extra_env)
    names = all_names(doc)
    dyn = {(spelled(n, v, d), off) for n, v, d, off, t in names if "dynsym" in t}
    want_dyn = readelf_functions(path, ["--dyn-syms"])
    check(dyn == want_dyn, "%s: .dynsym differs:\n only explorer: %s\n only readelf: %s" %
          (path, sorted(dyn - want_dyn), sorted(want_dyn - dyn)))
    check(doc["counts"]["symbols"]["dynsym"] == len(want_dyn), "%s: dynsym count %s != %d" %
          (path, doc["counts"]["symbols"], len(want_dyn)))
    # .symtab drops the version of default-versioned names: compare bare names.
    want_all = {(bare(s), off) for s, off in want_dyn}
    want_all |= {(bare(s), off) for s, off in
                 readelf_functions(symtab_from or path, ["--syms"], mapped_by=path)}
    got_all = {(n, off) for n, v, d, off, t in names}
    check(got_all == want_all, "%s: names differ:\n only explorer: %s\n only readelf: %s" %
          (path, sorted(got_all - want_all), sorted(want_all - got_all)))
    # One row per address.
    offsets = [fn["offset"] for fn in doc["functions"]]
    check(len(offsets) == len(set(offsets)), "%s: an address is listed twice" % path)
    check(doc["counts"]["function"] == len(offsets), "%s: count %s" % (path, doc["counts"]))
    check(doc["counts"]["function_names"] == len(names), "%s: names %s" % (path, doc["counts"]))
    return doc


def by_name(doc):
    return {fn["name"]: fn for fn in doc["functions"]}


def test_library():
    doc = check_exact(LIB)
    fns = by_name(doc)
    close = fns["dct_close"]
    check([a["name"] for a in close["aliases"]] == ["dct_close_alias"],
          "aliases of dct_close: %s" % close["aliases"])
    check("dct_close_alias" not in fns, "an alias has a row of its own")
    check(fns["dct_ifunc"]["ifunc"] and not fns["dct_open"]["ifunc"], "IFUNC flag")
    check([a["name"] for a in fns["dct_ifunc"]["aliases"]] == ["dct_pick"],
          "the IFUNC's resolver shares its address: %s" % fns["dct_ifunc"]["aliases"])
    check(fns["dct_weak"]["bind"] == "weak" and fns["dct_open"]["bind"] == "global" and
          fns["dct_local"]["bind"] == "local", "binding")
    check(fns["dct_local"]["tables"] == ["symtab"] and
          fns["dct_open"]["tables"] == ["dynsym", "symtab"], "tables")
    # Two versions of dct_versioned, each at the address of its implementation.
    v2 = fns["dct_versioned"]
    check(v2["version"] == "DCT_2.0" and v2["default_version"], "default version: %s" % v2)
    check([(a["name"], a["version"], a["default_version"]) for a in v2["aliases"]] ==
          [("dct_versioned_v2", "DCT_1.0", True)], "aliases of dct_versioned: %s" % v2)
    v1 = fns["dct_versioned_v1"]
    check([(a["name"], a["version"], a["default_version"]) for a in v1["aliases"]] ==
          [("dct_versioned", "DCT_1.0", False)], "the old version: %s" % v1)
    check(v1["offset"] != v2["offset"], "versions share an address")


def table_rows(out, header):
    lines = out.splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith(header + " ")]
    check(len(start) == 1, "no %s table in:\n%s" % (header, out))
    rows = []
    for line in lines[start[0] + 1:]:
        if line.startswith("#"):
            return lines[start[0]], rows, line
        rows.append(line)
    return check(False, "%s table has no count line" % header)


def test_table():
    out = explore(["-m", "^dct_", LIB])
    lines = out.splitlines()
    check(lines[0] == "# " + os.path.realpath(LIB), "first line: %r" % lines[0])
    check(lines[1].startswith("# shared object, from '%s' through path; build-id " % LIB),
          "second line: %r" % lines[1])
    head, rows, count = table_rows(out, "FUNCTION")
    cols = ["FUNCTION", "VERSION", "OFFSET", "SIZE", "TYPE", "BIND", "FROM", "ALIASES"]
    starts = [head.index(c) for c in cols]
    check(starts == sorted(starts) and head.split() == cols, "header: %r" % head)
    for row in rows:
        for c, s in zip(cols[1:], starts[1:]):
            check(row[s - 2:s] == "  " and row[s] != " ", "column %s not aligned in %r" % (c, row))
    doc = explore_json(["-m", "^dct_", LIB])
    check(count == "# %d functions (%d names)" % (len(rows), doc["counts"]["function_names"]),
          "count line %r for %d rows" % (count, len(rows)))
    check(len(rows) == len(doc["functions"]), "table and JSON differ")
    row = [r for r in rows if r.startswith("dct_versioned ")][0].split()
    fn = by_name(doc)["dct_versioned"]
    check(row == ["dct_versioned", "DCT_2.0", "0x%x" % fn["offset"], str(fn["size"]), "func",
                  "global", "dynsym+symtab", "dct_versioned_v2@@DCT_1.0"], "row: %s" % row)
    row = [r for r in rows if r.startswith("dct_versioned_v1 ")][0].split()
    check(row[1] == "DCT_1.0" and row[-1] == "dct_versioned@DCT_1.0", "row: %s" % row)
    row = [r for r in rows if r.startswith("dct_ifunc ")][0].split()
    check(row[4] == "ifunc" and row[-1] == "dct_pick", "row: %s" % row)
    check(count.startswith("# ") and out.endswith("# 0 USDT probes\n"),
          "no USDT count line:\n" + out)


def test_filters():
    def names(args):
        return [fn["name"] for fn in explore_json(["-t", "function", *args, LIB])["functions"]]

    check(names(["-m", "^dct_(read|write)$"]) == ["dct_read", "dct_write"], "match")
    # 8,100 elements once expanded, and 2,016 that match nothing: just under the limits.
    check(names(["-m", "^dct_(read|write){1}$", "-m", "(x{90}){90}", "-m",
                 "^dct_read(y?){1000}$"]) == ["dct_read", "dct_write"],
          "a pattern just under the limit")
    check(names(["-m", "^dct_read$", "-m", "^dct_open$"]) == ["dct_open", "dct_read"],
          "repeated match")
    got = names(["-m", "^dct_", "-x", "versioned|close", "-x", "^dct_local$", "-x", "^dct_[pmb]"])
    check(got == ["dct_calls_local", "dct_fast", "dct_ifunc", "dct_open", "dct_read",
                  "dct_scale", "dct_weak", "dct_write"], "exclude: %s" % got)
    # An alias that matches selects its address, shown under its preferred name.
    check(names(["-m", "^dct_close_alias$"]) == ["dct_close"], "match by alias")
    doc = explore_json(["-m", "^dct_", "-n", "3", LIB])
    check([fn["name"] for fn in doc["functions"]] == ["dct_bytriple", "dct_calls_local",
                                                       "dct_close"], "limit")
    check(doc["counts"]["function"] == 15 and doc["counts"]["function_shown"] == 3,
          "limit counts: %s" % doc["counts"])
    out = explore(["-m", "^dct_", "--limit", "2", LIB])
    check("# 15 functions, first 2 shown (" in out, "limit count line:\n" + out)
    doc = explore_json(["--kind", "usdt", USDT_PIE])
    check("functions" not in doc and len(doc["usdt"]) == 4, "kind usdt: %s" % doc.keys())
    doc = explore_json(["-t", "usdt", "-m", "^dctest:work", USDT_PIE])
    check([u["name"] for u in doc["usdt"]] == ["work_done", "work_start"], "usdt match")


def test_prototypes():
    doc = explore_json(["-p", "-m", "^dct_", LIB_DBG])
    check(doc["target"]["prototypes_from"] == os.path.realpath(LIB_DBG), "DWARF source")
    fns = by_name(doc)
    want = {
        "dct_open": ("int dct_open(const char *path, int flags)", {"path": 0, "flags": 1}, None),
        "dct_read": ("long int dct_read(int fd, void *buf, size_t n)", {"fd": 0, "n": 2},
                     "long"),
        "dct_scale": ("double dct_scale(double factor, int fd, long int n)",
                      {"fd": 0, "n": 1}, None),
        "dct_bytriple": ("long int dct_bytriple(int fd, struct dct_triple t, int after)",
                         {"fd": 0}, "long"),
        "dct_many": ("int dct_many(int a, int b, int c, int d, int e, int f, int g)",
                     {"a": 0, "b": 1, "c": 2, "d": 3}, None),
        "dct_pathname": ("int dct_pathname(const char *pathname, const char *mode, "
                         "unsigned int flags)", {"path": 0, "flags": 2}, None),
        "dct_weak": ("int dct_weak(void)", {}, None),
    }
    for name, (proto, args, ret) in want.items():
        fn = fns[name]
        check(fn["prototype"] == proto, "%s: prototype %r" % (name, fn["prototype"]))
        check(fn["capture"]["args"] == args, "%s: capture %s" % (name, fn["capture"]))
        check(fn["capture"].get("ret") == ret, "%s: ret %s" % (name, fn["capture"]))
    check([p["name"] for p in fns["dct_read"]["params"]] == ["fd", "buf", "n"] and
          fns["dct_read"]["returns"] == "long int", "params: %s" % fns["dct_read"]["params"])
    check("factor is in a floating-point register" in fns["dct_scale"]["capture"]["left_out"],
          "float note: %s" % fns["dct_scale"]["capture"])
    check("struct passed by value" in fns["dct_bytriple"]["capture"]["left_out"], "struct note")
    check(fns["dct_many"]["capture"]["left_out"] ==
          "e left out (at most 4 fields); f left out (at most 4 fields); "
          "g is past the 6 register arguments", "many: %s" % fns["dct_many"]["capture"])
    out = explore(["-p", "-m", "^dct_open$", LIB_DBG])
    head, rows, _ = table_rows(out, "FUNCTION")
    check(head.split()[-1] == "PROTOTYPE" and
          rows[0].endswith("  int dct_open(const char *path, int flags)"), "table: " + out)
    # Without -p the table and JSON do not read DWARF.
    check("prototype" not in by_name(explore_json(["-m", "^dct_open$", LIB_DBG]))["dct_open"],
          "DWARF read without -p")


def generate_check(cfg_text, name):
    work = tmpdir()
    cfg = os.path.join(work, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    status, out, err = run([GENERATE, "--check", "--list", cfg])
    check(status == 0, "generate rejects the explorer's YAML: %s\n%s" % (err, cfg_text))
    return out


def test_yaml():
    out = explore(["--yaml", "-m", "^dct_", LIB_DBG])
    names = re.findall(r"^      - (?:name: )?(\w+)", out, re.M)
    check(names == ["dct_bytriple", "dct_calls_local", "dct_close", "dct_fast", "dct_local",
                    "dct_many", "dct_open", "dct_pathname", "dct_read", "dct_scale",
                    "dct_versioned", "dct_versioned_v1", "dct_weak", "dct_write"],
          "yaml functions: %s" % names)
    check(re.search(r"^    #   dct_ifunc@@DCT_1\.0 at offset 0x[0-9a-f]+: an IFUNC", out, re.M),
          "IFUNC not reported:\n" + out)
    check("      - name: dct_open  # int dct_open(const char *path, int flags)\n"
          "        args: {path: 0, flags: 1}\n" in out, "dct_open capture:\n" + out)
    check("      - name: dct_many  # int dct_many(int a, int b, int c, int d, int e, int f, "
          "int g)\n        args: {a: 0, b: 1, c: 2, d: 3}\n        # not captured: " in out,
          "dct_many capture:\n" + out)
    listing = generate_check(out, "dct")
    # Each address once, and the generator took the captures as proposed.
    check("dctest-dbg: ok, 14 probes" in listing, "generate --check: " + listing)
    check(re.search(r"dct_read +\S+\+0x[0-9a-f]+ \[fd,n\]", listing) and
          re.search(r"dct_open +\S+\+0x[0-9a-f]+ \[flags\]", listing) and
          re.search(r"dct_many +\S+\+0x[0-9a-f]+ \[a,b,c,d\]", listing),
          "captures in the object:\n" + listing)
    # Without DWARF the config lists plain names.
    out = explore(["--yaml", "--no-prototypes", "-m", "^dct_(read|open)$", LIB_DBG])
    check(re.findall(r"^      - (.*)$", out, re.M) == ["dct_open", "dct_read"], "plain:\n" + out)
    # What the schema has no room for stays in comments.
    out = explore(["--yaml", USDT_NOPIE])
    check(re.search(r"^# USDT probes \(datacrumbs-generate has no usdt kind yet\):\n"
                    r"#   dctest:begin at offset 0x[0-9a-f]+, args: none\n", out, re.M),
          "usdt comments:\n" + out)
    generate_check(out, "usdt")


def test_debuglink():
    dbg = check_exact(LIB_DBG)
    stripped = check_exact(LIB_STRIPPED, symtab_from=DEBUGFILE)
    check(stripped["target"]["debug_file"] == os.path.realpath(DEBUGFILE), "debug file: %s" %
          stripped["target"])
    check(readelf(["-S"], LIB_STRIPPED).find(".symtab") < 0, "the stripped copy has .symtab")
    same = {(fn["name"], fn["offset"]) for fn in dbg["functions"]}
    check({(fn["name"], fn["offset"]) for fn in stripped["functions"]} == same,
          "stripped and unstripped differ")
    local = by_name(stripped)["dct_local"]
    check(local["tables"] == ["debug"] and local["bind"] == "local", "local: %s" % local)
    check(by_name(stripped)["dct_open"]["tables"] == ["dynsym", "debug"], "tables")
    doc = explore_json(["-p", "-m", "^dct_open$", LIB_STRIPPED])
    check(doc["target"]["prototypes_from"] == os.path.realpath(DEBUGFILE) and
          doc["functions"][0]["prototype"] == "int dct_open(const char *path, int flags)",
          "prototype through the debug file: %s" % doc)

    work = tmpdir()
    alone = os.path.join(work, "lib", "libdctest-stripped.so")
    os.makedirs(os.path.dirname(alone))
    shutil.copy(LIB_STRIPPED, alone)
    doc = explore_json([alone])
    check(doc["target"]["debug_file"] is None and "dct_local" not in by_name(doc),
          "a debug file found where there is none")
    # By build-id in a debug directory.
    build_id = doc["target"]["build_id"]
    by_id = os.path.join(work, "dbg", ".build-id", build_id[:2], build_id[2:] + ".debug")
    os.makedirs(os.path.dirname(by_id))
    shutil.copy(DEBUGFILE, by_id)
    doc = explore_json([alone], {"DATACRUMBS_DEBUG_DIRS": "/nonexistent:" +
                                 os.path.join(work, "dbg")})
    check(doc["target"]["debug_file"] == by_id and "dct_local" in by_name(doc),
          "build-id lookup: %s" % doc["target"])
    # By .gnu_debuglink under DIR/<the file's directory>/.
    linked = os.path.join(work, "dbg2") + os.path.dirname(alone)
    os.makedirs(linked)
    shutil.copy(DEBUGFILE, os.path.join(linked, "libdctest-stripped.debug"))
    doc = explore_json([alone], {"DATACRUMBS_DEBUG_DIRS": os.path.join(work, "dbg2")})
    check(doc["target"]["debug_file"] == os.path.join(linked, "libdctest-stripped.debug"),
          "debuglink in a debug directory: %s" % doc["target"])
    # A file by the right name whose CRC does not match is not taken.
    wrong = os.path.join(os.path.dirname(alone), ".debug", "libdctest-stripped.debug")
    os.makedirs(os.path.dirname(wrong))
    shutil.copy(LIB, wrong)
    doc = explore_json([alone])
    check(doc["target"]["debug_file"] is None, "CRC not checked: %s" % doc["target"])
    os.unlink(wrong)
    shutil.copy(DEBUGFILE, wrong)
    doc = explore_json([alone])
    check(doc["target"]["debug_file"] == wrong, ".debug/ next to the file: %s" % doc["target"])


def readelf_usdt(path):
    """[(provider, name, offset, semaphore offset or None, args)] from readelf -n."""
    segs = loads(path)
    base_sec = [int(line.split()[3], 16) for line in readelf(["-S"], path).splitlines()
                if " .stapsdt.base " in line]
    probes, cur = [], {}
    for line in readelf(["-n"], path).splitlines():
        m = re.search(r"Provider: (\S+)", line)
        if m:
            cur = {"provider": m.group(1)}
        m = re.search(r"Name: (\S+)", line)
        if m:
            cur["name"] = m.group(1)
        m = re.search(r"Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), Semaphore: (0x[0-9a-f]+)",
                      line)
        if m:
            loc, base, sem = (int(v, 16) for v in m.groups())
            if base and base_sec:
                loc += base_sec[0] - base
            cur["offset"] = file_offset(segs, loc)
            cur["sem"] = file_offset(segs, sem) if sem else None
        m = re.match(r"\s+Arguments: ?(.*)$", line)
        if m:
            probes.append((cur["provider"], cur["name"], cur["offset"], cur["sem"],
                           m.group(1).strip()))
    return sorted(probes)


def test_usdt():
    for path in (USDT_PIE, USDT_NOPIE, USDT_LIB):
        doc = explore_json(["-t", "usdt", path])
        got = sorted((u["provider"], u["name"], u["offset"], u["semaphore_offset"], u["args"])
                     for u in doc["usdt"])
        want = readelf_usdt(path)
        check(got == want and got, "%s: USDT differs:\n explorer %s\n readelf  %s" %
              (path, got, want))
    segs = loads(USDT_NOPIE)
    check(any(v != o for v, o, n in segs), "the non-PIE test executable maps code at its offset")
    check(doc["usdt"][0]["semaphore_offset"] is not None, "shared object semaphore")
    doc = explore_json(["-t", "usdt", "-m", "work_start", USDT_NOPIE])
    check(doc["usdt"][0]["arguments"] == [
        {"size": 4, "signed": True, "location": "%edi"},
        {"size": 8, "signed": True, "location": "%rsi"}], "arguments: %s" % doc["usdt"])
    check(explore_json([USDT_NOPIE])["target"]["type"] == "executable" and
          explore_json([USDT_PIE])["target"]["type"] == "PIE executable" and
          explore_json([LIB])["target"]["type"] == "shared object", "ELF types")
    out = explore(["-t", "usdt", USDT_NOPIE])
    head, rows, count = table_rows(out, "USDT")
    check(head.split() == ["USDT", "OFFSET", "SEMAPHORE", "ARGUMENTS"] and len(rows) == 4 and
          count == "# 4 USDT probes", "usdt table:\n" + out)


def test_executables():
    # Offsets through the program headers: PIE, and non-PIE where they differ from addresses.
    check_exact(os.environ["DC_WORKLOAD"])
    check_exact(USDT_PIE)
    doc = check_exact(USDT_NOPIE)
    fn = by_name(doc)["dct_guarded"]
    check(fn["address"] != fn["offset"], "non-PIE: address equals offset: %s" % fn)


def nm_count(path):
    p = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True)
    check(p.returncode == 0, "nm: " + p.stderr)
    return sum(1 for line in p.stdout.splitlines()
               if len(line.split()) == 3 and line.split()[1] in "TtWwiI")


def pkgconfig_libdirs(name):
    p = subprocess.run(["pkg-config", "--libs-only-L", name], capture_output=True, text=True)
    return [t[2:] for t in p.stdout.split()] if p.returncode == 0 else None


def test_system_libraries():
    for name in ("libc.so.6", "hdf5"):
        status, out, err = run([EXPLORE, "--json", "-t", "function", name], timeout=60)
        if name == "hdf5" and status != 0 and "not found" in err:
            print("note: HDF5 is not installed (libhdf5-dev); its count is not compared")
            continue
        check(status == 0, "explore %s: %s" % (name, err))
        doc = json.loads(out)
        path = doc["target"]["path"]
        dyn = sum(1 for fn in doc["functions"] for s in [fn] + fn["aliases"]
                  if "dynsym" in s["tables"])
        want = nm_count(path)
        check(dyn == want == doc["counts"]["symbols"]["dynsym"],
              "%s: %d functions in .dynsym, nm -D --defined-only says %d" % (path, dyn, want))
        want_dyn = readelf_functions(path, ["--dyn-syms"])
        got = {(spelled(s["name"], s["version"], s["default_version"]), fn["offset"])
               for fn in doc["functions"] for s in [fn] + fn["aliases"]
               if "dynsym" in s["tables"]}
        check(got == want_dyn, "%s: readelf --dyn-syms differs: %s / %s" %
              (path, sorted(got - want_dyn)[:5], sorted(want_dyn - got)[:5]))
        print("%s: %d functions in .dynsym, as nm and readelf say" % (path, dyn))


def test_names():
    first = explore(["-m", "^write$", "c"]).splitlines()
    check(first[0].startswith("# /") and "libc.so.6" in first[0], "resolved path: " + first[0])
    check(os.path.realpath(first[0][2:]) == first[0][2:], "path not canonical: " + first[0])
    check(first[1].startswith("# shared object, from 'c' through /etc/ld.so.cache"),
          "how: " + first[1])
    for name in ("libc.so.6", "libc", "libc.so"):
        out = explore(["-m", "^write$", name]).splitlines()
        check(out[0] == first[0], "%s resolves elsewhere: %s" % (name, out[0]))
    # hdf5 resolves as `cc $(pkg-config --libs hdf5)` would link it.
    dirs = pkgconfig_libdirs("hdf5")
    if dirs is None:
        print("note: no hdf5.pc; the pkg-config fallback is not checked")
    else:
        want = [os.path.realpath(os.path.join(d, "libhdf5.so")) for d in dirs
                if os.path.exists(os.path.join(d, "libhdf5.so"))][0]
        for name in ("hdf5", "libhdf5", "libhdf5.so"):
            doc = explore_json(["-t", "function", "-n", "1", name])
            check(doc["target"]["path"] == want and
                  doc["target"]["resolved_by"].startswith("pkg-config hdf5.pc in "),
                  "%s: %s, expected %s" % (name, doc["target"], want))
    p = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True)
    m = re.search(r"^\s+libmpi\.so\.40 \(libc6,x86-64\) => (\S+)$", p.stdout, re.M)
    if m:
        doc = explore_json(["-t", "function", "-n", "1", "libmpi.so.40"])
        check(doc["target"]["path"] == os.path.realpath(m.group(1)) and
              doc["target"]["resolved_by"] == "/etc/ld.so.cache", "libmpi.so.40: %s" % doc)
    else:
        print("note: no libmpi.so.40 (OpenMPI) here; not checked")
    # A versioned copy in LD_LIBRARY_PATH comes first, as the loader takes it.
    work = tmpdir()
    libs = os.path.join(work, "libs")
    os.mkdir(libs)
    shutil.copy(os.path.realpath(first[0][2:]), os.path.join(libs, "libc.so.6"))
    for name in ("c", "libc.so", "libc.so.6"):
        doc = explore_json(["-t", "function", "-n", "1", name],
                           dict(NO_DEBUG_DIRS, LD_LIBRARY_PATH=libs))
        check(doc["target"]["path"] == os.path.join(os.path.realpath(libs), "libc.so.6") and
              doc["target"]["resolved_by"] == "LD_LIBRARY_PATH", "%s: %s" % (name, doc["target"]))
    # A bare name that is no library but a file in the current directory.
    shutil.copy(LIB, os.path.join(work, "mylib"))
    p = subprocess.run([EXPLORE, "--json", "mylib"], cwd=work, capture_output=True, text=True,
                       env=env_with(NO_DEBUG_DIRS))
    check(p.returncode == 0 and json.loads(p.stdout)["target"]["path"] ==
          os.path.join(os.path.realpath(work), "mylib"), "file in cwd: " + p.stderr)


def one_line_error(args, what):
    status, out, err = run([EXPLORE, *args], timeout=10)
    check(status == 1, "%s: exit status %d" % (what, status))
    lines = err.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("datacrumbs-explore: "),
          "%s: error is not one line: %r" % (what, err))
    check(out == "", "%s: printed output: %r" % (what, out))
    return lines[0]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_bad_input():
    work = tmpdir()
    with open(LIB, "rb") as f:
        image = f.read()
    text = write(os.path.join(work, "text"), b"not an ELF file\n")
    check("not an ELF" in one_line_error([text], "text file"), "text file message")
    trunc = write(os.path.join(work, "trunc.so"), image[:200])
    check("truncated or corrupt" in one_line_error([trunc], "truncated ELF"), "truncated")
    half = write(os.path.join(work, "half.so"), image[:len(image) // 2])
    one_line_error([half], "half an ELF")
    elf32 = write(os.path.join(work, "elf32.so"), image[:4] + b"\x01" + image[5:])
    check("64-bit" in one_line_error([elf32], "32-bit ELF"), "32-bit message")
    big = write(os.path.join(work, "big.so"), image[:5] + b"\x02" + image[6:])
    check("little-endian" in one_line_error([big], "big-endian ELF"), "big-endian message")
    # Section headers pointing past the end of the file.
    corrupt = bytearray(image)
    corrupt[0x28:0x30] = (len(image) + 4096).to_bytes(8, "little")
    corrupt = write(os.path.join(work, "corrupt.so"), bytes(corrupt))
    check("corrupt" in one_line_error([corrupt], "corrupt ELF"), "corrupt message")
    obj = os.path.join(work, "x.o")
    subprocess.run(["cc", "-c", "-x", "c", "-", "-o", obj], input="int f(void){return 1;}\n",
                   text=True, check=True)
    check("not an executable or shared object" in one_line_error([obj], "object file"),
          "relocatable message")
    check("directory" in one_line_error([work], "directory"), "directory message")
    check("not a regular file" in one_line_error(["/dev/zero"], "/dev/zero"), "/dev/zero")
    fifo = os.path.join(work, "fifo")
    os.mkfifo(fifo)
    check("not a regular file" in one_line_error([fifo], "FIFO"), "FIFO message")
    check("not found" in one_line_error(["libno-such-library-dc.so"], "missing library"),
          "missing library message")
    check("not found" in one_line_error(["no-such-library-dc"], "missing name"), "missing name")
    check("No such file" in one_line_error([os.path.join(work, "absent.so")], "missing path"),
          "missing path message")
    one_line_error(["-m", "(", LIB], "bad regex")
    # Nested counts would make glibc's regcomp take minutes and gigabytes.
    check("more than 8192 elements" in one_line_error(["-m", "((a{99}){99}){99}", LIB],
                                                      "regex blowup"), "blowup message")
    # Chains of operators, or of parts that match nothing, are quadratic to compile.
    check("a repetition of a repetition" in one_line_error(["-m", "a" + "*" * 4000, LIB],
                                                           "stacked stars"), "stars message")
    check("more than 2048 elements that match nothing" in
          one_line_error(["-m", "(){8000}", LIB], "empty groups"), "empty message")
    check("more than 2048 elements that match nothing" in
          one_line_error(["-m", "^" * 1024, LIB], "anchors"), "anchors message")
    # glibc reads {,} as *, so it is a repetition too.
    check("a repetition of a repetition" in one_line_error(["-m", "a{,}?", LIB], "{,}?"),
          "{,} message")
    check("unknown kind" in one_line_error(["-t", "probe", LIB], "bad kind"), "kind message")
    check("--limit" in one_line_error(["-n", "0", LIB], "bad limit"), "limit message")
    one_line_error(["-n", "-3", LIB], "negative limit")
    one_line_error([LIB, LIB], "two files")
    one_line_error([], "nothing to explore")
    one_line_error(["-t", "syscall", LIB], "kernel kinds with a file")
    one_line_error(["-t", "usdt"], "usdt without a file")
    check("nothing to put in a config" in one_line_error(["-y", "-m", "^$", LIB], "empty yaml"),
          "empty config message")
    if os.geteuid() == 0 and shutil.which("setpriv"):
        locked = os.path.join(work, "locked.so")
        shutil.copy(LIB, locked)
        os.chmod(locked, 0)
        os.chmod(work, 0o755)
        status, out, err = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                EXPLORE, locked], timeout=10)
        check(status == 1 and "Permission denied" in err and len(err.splitlines()) == 1,
              "unreadable file: %d %r" % (status, err))
    else:
        print("note: the unreadable-file case needs root and setpriv; not run")


def main():
    test_library()
    test_table()
    test_filters()
    test_prototypes()
    test_yaml()
    test_debuglink()
    test_usdt()
    test_executables()
    test_system_libraries()
    test_names()
    test_bad_input()
    print("ok")


if __name__ == "__main__":
    main()

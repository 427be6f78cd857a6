#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-explore and datacrumbs-generate need no privilege.

As nobody, with no capabilities at all, in a directory nobody owns:
explore libc and the test libraries (the same output as root's), write a
config from the explorer's --yaml, and generate it and the bundled configs
into that directory with XDG_CACHE_HOME pointing there: the objects carry
the same manifests as root's, and the cache is created 0700 inside it.
"""
import os
import shutil
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (EXPLORE, GENERATE, SOURCE, check, elf_section, run, skip,  # noqa: E402
                    tmpdir, write_text)

NOBODY = 65534


def as_nobody(argv, home):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "env", "HOME=" + home,
            "XDG_CACHE_HOME=" + os.path.join(home, "cache"), *argv]


def main():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        skip("needs root and setpriv (util-linux) to drop to nobody")
    work = tmpdir()
    os.chmod(work, 0o755)
    home = os.path.join(work, "nobody")
    os.mkdir(home, 0o700)
    os.chown(home, NOBODY, NOBODY)
    root_home = os.path.join(work, "root")
    os.mkdir(root_home)

    status, out, err = run(as_nobody(["id", "-u"], home))
    check(status == 0 and out.strip() == str(NOBODY), "setpriv did not drop: %r %r" % (out, err))
    status, out, err = run(as_nobody(["grep", "^CapEff", "/proc/self/status"], home))
    check(out.split() == ["CapEff:", "0000000000000000"], "capabilities left: %r" % out)

    targets = ["libc.so.6"] + [os.environ[k] for k in ("DC_TESTLIB_DBG", "DC_TESTLIB_STRIPPED",
                                                      "DC_USDT_PIE") if os.environ.get(k)]
    for t in targets:
        status, mine, err = run(as_nobody([EXPLORE, "--json", t], home))
        check(status == 0, "explore %s as nobody: %s" % (t, err))
        status, roots, _ = run([EXPLORE, "--json", t])
        check(status == 0 and mine == roots, "explore %s: nobody's output differs from root's" % t)

    status, yaml, err = run(as_nobody([EXPLORE, "libc.so.6", "--match", "^p?(read|write)$",
                                       "--yaml"], home))
    check(status == 0 and "module:" in yaml, "explore --yaml as nobody: %s" % err)
    cfg = write_text(os.path.join(home, "mine.yaml"), yaml)
    os.chown(cfg, NOBODY, NOBODY)
    configs = [cfg, os.path.join(SOURCE, "configs/posix.yaml"),
               os.path.join(SOURCE, "configs/sys.yaml")]
    obj = os.path.join(home, "mine.bpf.o")
    status, _, err = run(as_nobody([GENERATE, "-q", "-o", obj, *configs], home))
    check(status == 0, "generate as nobody: %s" % err)
    st = os.stat(obj)
    check(st.st_uid == NOBODY, "the object is not nobody's")
    cache = os.path.join(home, "cache", "datacrumbs")
    check(os.path.isdir(cache) and stat.S_IMODE(os.stat(cache).st_mode) == 0o700 and
          os.stat(cache).st_uid == NOBODY, "cache %s: not a 0700 directory of nobody's" % cache)
    check(any(n.endswith(".o") for n in os.listdir(cache)), "nothing cached in %s" % cache)

    # Root, from its own empty cache, makes the same object description.
    ref = os.path.join(root_home, "mine.bpf.o")
    status, _, err = run(["env", "XDG_CACHE_HOME=" + os.path.join(root_home, "cache"), GENERATE,
                          "-q", "-o", ref, *configs])
    check(status == 0, "generate as root: %s" % err)
    man, ref_man = elf_section(obj, ".datacrumbs"), elf_section(ref, ".datacrumbs")
    check(man == ref_man, "nobody's manifest differs from root's")
    probes = [ln for ln in man.decode().splitlines() if ln.startswith("probe\t")]
    names = {ln.split("\t")[6] for ln in probes}
    check({"pread", "pwrite", "read", "write", "openat"} <= names, "probes %s" % sorted(names))
    print("ok: explored %d files and generated %d probes as nobody" % (len(targets), len(probes)))


if __name__ == "__main__":
    main()

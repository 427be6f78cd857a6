#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The content cache: generating an unchanged config again takes the object
from the cache (and gives the same bytes); a config with other names but the
same code shares the cached object yet gets its own manifest; a changed hook
misses; a cache directory others can write to is not used; a damaged entry
is compiled afresh."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import GENERATE, SOURCE, check, manifest, run, tmpdir, write_text  # noqa: E402

HIT = "compiled object taken from the cache"


def gen(env, cfg, out):
    status, stdout, err = run([GENERATE, "-v", "-o", out, cfg], env=env)
    check(status == 0, "generate %s: %s" % (cfg, err))
    return HIT in err


def main():
    work = tmpdir()
    cache = os.path.join(work, "cache")
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    libc = "module: %s\nprobes:\n  - kind: uprobe\n    cat: %s\n    binary: libc.so.6\n" \
        "    functions: [%s]\n"
    a = write_text(os.path.join(work, "a.yaml"), libc % ("a", "POSIX", "read, write, close"))
    # Other functions, same captures: the same C, so the same object.
    b = write_text(os.path.join(work, "b.yaml"), libc % ("b", "OTHER", "write, read, close"))
    objs = [os.path.join(work, n) for n in ("a1.o", "a2.o", "b.o")]
    check(not gen(env, a, objs[0]), "first generate hit the cache")
    entries = os.listdir(os.path.join(cache, "datacrumbs"))
    check(len(entries) == 1 and entries[0].endswith(".o"), "cache holds %s" % entries)
    check(os.stat(os.path.join(cache, "datacrumbs")).st_mode & 0o777 == 0o700, "cache mode")
    check(gen(env, a, objs[1]), "second generate of an unchanged config compiled again")
    with open(objs[0], "rb") as f, open(objs[1], "rb") as g:
        check(f.read() == g.read(), "cached object differs from the first")
    check(gen(env, b, objs[2]), "same code, other names: not taken from the cache")
    mb = manifest(objs[2])
    check([(p[4], p[5], p[6]) for p in mb] ==
          [("b", "OTHER", "write"), ("b", "OTHER", "read"), ("b", "OTHER", "close")],
          "b's manifest: %s" % mb)
    check([p[6] for p in manifest(objs[0])] == ["read", "write", "close"], "a's manifest")

    # A hook is part of the C: editing it must compile again.
    hook = os.path.join(work, "hook.bpf.c")
    with open(os.path.join(SOURCE, "tests", "hooks", "write_hook.bpf.c")) as f:
        write_text(hook, f.read())
    c = write_text(os.path.join(work, "c.yaml"), """module: c
probes:
  - kind: custom
    cat: HOOK
    source: hook.bpf.c
    functions:
      - name: w
        args: [fd, size]
      - name: s
        args: [fd]
""")
    out = os.path.join(work, "c.o")
    check(not gen(env, c, out), "new hook hit the cache")
    check(gen(env, c, out), "unchanged hook missed the cache")
    with open(hook, "a") as f:
        f.write("/* changed */\n")
    check(not gen(env, c, out), "changed hook hit the cache")

    # A damaged entry is not used, and is replaced.
    for e in os.listdir(os.path.join(cache, "datacrumbs")):
        write_text(os.path.join(cache, "datacrumbs", e), "garbage")
    check(not gen(env, a, objs[1]), "damaged entry used")
    check(gen(env, a, objs[1]), "damaged entry not replaced")

    # Others could plant objects in a directory they can write to.
    shared = os.path.join(work, "shared")
    os.makedirs(os.path.join(shared, "datacrumbs"))
    os.chmod(os.path.join(shared, "datacrumbs"), 0o777)
    env2 = dict(os.environ, XDG_CACHE_HOME=shared)
    status, _, err = run([GENERATE, "-v", "-o", objs[1], a], env=env2)
    check(status == 0 and "not caching" in err, "shared cache dir: %s" % err)
    check(not os.listdir(os.path.join(shared, "datacrumbs")), "wrote into a shared cache dir")
    print("ok")


if __name__ == "__main__":
    main()

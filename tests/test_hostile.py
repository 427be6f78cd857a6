#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile names cannot change the generated code's meaning.

A library is built whose symbol table holds names such as
`foo"); system("x` and `*/ int x; /*`, and whose USDT notes have a hostile
provider. Probing everything in it must:
- succeed, leaving those names out with a warning;
- render C byte-identical to that of the same library built with plain
  names only (so not one byte of C depends on a name);
- keep the hostile bytes out of the C and the manifest.
Hostile names written in a config are refused with a located error (see
bad-configs/), and a description full of C is ignored."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import GENERATE, check, elf_section, run, skip, tmpdir  # noqa: E402

HOSTILE = ['foo"); system("x', "*/ int x; /*", "a\nb", "#define SEC(x)", "ok`id`"]

LIB = r"""
#define EXPORT __attribute__((visibility("default"), noinline))
EXPORT int plain_open(const char *p) { return p ? 3 : -1; }
EXPORT long plain_read(int fd, void *b, unsigned long n) { return b ? (long)n + fd : -1; }
%s
/* USDT notes by hand: provider and name are whatever the file says. */
#define NOTE(provider, name)                                   \
	__asm__ volatile("990: nop\n"                           \
			 ".pushsection .note.stapsdt,\"?\",\"note\"\n" \
			 ".balign 4\n"                                 \
			 ".4byte 992f-991f, 994f-993f, 3\n"             \
			 "991: .asciz \"stapsdt\"\n"                    \
			 "992: .balign 4\n"                            \
			 "993: .8byte 990b, 0, 0\n"                     \
			 ".asciz \"" provider "\"\n"                     \
			 ".asciz \"" name "\"\n"                         \
			 ".asciz \"\"\n"                                \
			 "994: .balign 4\n"                            \
			 ".popsection\n")
EXPORT void plain_probe(void)
{
	NOTE("%s", "tick");
	NOTE("plain", "tock");
}
"""


def build(work, name, hostile):
    cc = shutil.which("cc") or shutil.which("gcc")
    objcopy = shutil.which("objcopy")
    if not cc or not objcopy:
        skip("needs cc and objcopy (build-essential)")
    extra = "".join("EXPORT int evil%d(void) { return %d; }\n" % (i, i)
                    for i in range(len(HOSTILE)))
    # The same provider length either way, so the notes' layout is the same.
    provider = 'p\\\\\\"v' if hostile else "plain"
    src = os.path.join(work, name + ".c")
    with open(src, "w") as f:
        f.write(LIB % (extra, provider))
    obj = os.path.join(work, name + ".o")
    subprocess.run([cc, "-O2", "-fPIC", "-c", src, "-o", obj], check=True)
    if hostile:
        # Argument vectors, no shell: the names arrive byte for byte.
        subprocess.run([objcopy] + ["--redefine-sym=evil%d=%s" % (i, h)
                                    for i, h in enumerate(HOSTILE)] + [obj], check=True)
    else:
        subprocess.run([objcopy] + ["--strip-symbol=evil%d" % i for i in range(len(HOSTILE))] +
                       [obj], check=False)
    so = os.path.join(work, "lib%s.so" % name)
    subprocess.run([cc, "-shared", "-o", so, obj], check=True)
    return so


def write_config(work, tag, so, kind, description="", match="."):
    cfg = os.path.join(work, tag + ".yaml")
    # JSON strings are YAML double-quoted scalars: any byte, escaped.
    with open(cfg, "w") as f:
        f.write("module: m\ndescription: %s\nprobes:\n  - kind: %s\n    cat: X\n"
                "    binary: %s\n    match: %s\n" % (description, kind, json.dumps(so),
                                                     json.dumps(match)))
    return cfg


def generate_all(work, tag, so, kind, description="", match="."):
    cfg = write_config(work, tag, so, kind, description, match)
    c = os.path.join(work, tag + ".c")
    out = os.path.join(work, tag + ".o")
    status, _, err = run([GENERATE, "--emit-c=" + c, "-o", out, cfg])
    check(status == 0, "%s: generate failed: %s" % (tag, err))
    with open(c, "rb") as f:
        return f.read(), elf_section(out, ".datacrumbs"), err


def main():
    work = tmpdir()
    evil = build(work, "evil", True)
    plain = build(work, "plain", False)
    out = subprocess.run(["nm", "-D", evil], capture_output=True, text=True).stdout
    check('foo"); system("x' in out, "the crafted library lacks its hostile names: %s" % out)

    for kind in ("uprobe", "usdt"):
        c_evil, man_evil, err = generate_all(work, kind + "-evil", evil, kind)
        c_plain, man_plain, _ = generate_all(work, kind + "-plain", plain, kind)
        check("left out: their names cannot be probe names" in err, "%s: no warning: %s" %
              (kind, err))
        check(c_evil == c_plain, "%s: the C depends on symbol names" % kind)
        for h in HOSTILE + ["system(", 'p\\"v']:
            check(h.encode() not in c_evil, "%s: %r reached the C" % (kind, h))
            check(h.encode() not in man_evil, "%s: %r reached the manifest" % (kind, h))
        if kind == "uprobe":
            names = sorted(line.split(b"\t")[6] for line in man_evil.splitlines()
                           if line.startswith(b"probe\t"))
            check(b"plain_open" in names and b"plain_read" in names, "plain names: %s" % names)

    # Strings a config may hold as it likes reach no C: a description, a
    # regular expression, and a binary path full of C and shell syntax.
    c_uprobe, _, _ = generate_all(work, "uprobe-ref", plain, "uprobe")
    c1, _, _ = generate_all(work, "desc", plain, "uprobe", "'*/ system(\"x\"); /*'")
    check(c1 == c_uprobe, "the description changed the C")
    c1, _, _ = generate_all(work, "regex", plain, "uprobe", match='"\\); system\\(x|.')
    check(c1 == c_uprobe, "the regular expression changed the C")
    odd = os.path.join(work, 'd"); system("x *', ' $(id)')
    os.makedirs(odd)
    shutil.copy(plain, odd)
    c1, man, _ = generate_all(work, "path", os.path.join(odd, os.path.basename(plain)),
                              "uprobe")
    check(c1 == c_uprobe, "the binary's path changed the C")
    check(b'system("x */' not in c1 and b'system("x */' in man,
          "the path is not only in the manifest")

    # A path with a newline or a tab could forge manifest records: refused,
    # in one line, and no object is written.
    for bad in ("n\nprobe", "t\tprobe"):
        odd = os.path.join(work, bad)
        os.mkdir(odd)
        shutil.copy(plain, odd)
        cfg = write_config(work, "ctl", os.path.join(odd, os.path.basename(plain)), "uprobe")
        out = os.path.join(work, "ctl.o")
        status, _, err = run([GENERATE, "-o", out, cfg])
        lines = err.strip().splitlines()
        check(status == 1 and len(lines) == 1 and "control characters" in lines[0],
              "a path with %r: status %d, %r" % (bad, status, err))
        check(not os.path.exists(out), "a path with %r: an object was written" % bad)
    print("ok")


if __name__ == "__main__":
    main()

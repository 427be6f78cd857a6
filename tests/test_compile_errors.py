#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A clang error is reported once, against what the user wrote: an error in
a custom hook names the hook's own file, line and column and the config
entry that included it; an error in generated code (here forced with a
broken template) names the config entry whose code it is. A hook that
defines no program is refused. No failure leaves an object behind. And
with --verify (as root), a program the kernel's verifier refuses is
reported against its config entry, with the verifier's reason, and not
written."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import BUILD, GENERATE, SOURCE, check, run, tmpdir  # noqa: E402

BAD_READ = ("SEC(\"tracepoint/syscalls/sys_enter_write\")\nint h(void *ctx)\n{\n"
            "\treturn *(int *)(long)bpf_get_prandom_u32();\n}\n")

CONFIG = """module: hk
probes:
  - kind: custom
    cat: C
    source: hook.bpf.c
    functions:
      - name: one
        args: [x]
      - two
"""

HOOKS = {
    # (hook text, line and column clang reports, words of its message)
    "syntax": ("SEC(\"tracepoint/syscalls/sys_enter_write\")\nint h(void *ctx)\n{\n"
               "\treturn nosuch_dc;\n}\n", (4, 9), "undeclared identifier 'nosuch_dc'"),
    "id": ("SEC(\"tracepoint/syscalls/sys_enter_write\")\nint h(void *ctx)\n{\n"
           "\tdc_hook_end(DC_HOOK_ID(2), 0);\n\treturn 0;\n}\n", (4, 14),
           "DC_HOOK_ID(i) takes a constant i below the number of events"),
}


def generate(cfg, out, env=None):
    status, _, err = run([GENERATE, "-o", out, cfg], env=env)
    check(status == 1, "%s: generate did not fail: %s" % (cfg, err))
    check(not os.path.exists(out), "%s: an object was left behind" % cfg)
    check(len(err.splitlines()) == 1, "not one line: %r" % err)
    return err.strip()


def main():
    work = tmpdir()
    cfg = os.path.join(work, "hk.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    hook = os.path.join(work, "hook.bpf.c")
    for name, (text, (line, col), words) in HOOKS.items():
        with open(hook, "w") as f:
            f.write(text)
        err = generate(cfg, os.path.join(work, name + ".o"))
        want = "datacrumbs-generate: %s:%d:%d: error: " % (hook, line, col)
        check(err.startswith(want) and words in err and
              err.endswith("(custom hook of %s:5:13)" % cfg), "%s: %s\nwant %s..." %
              (name, err, want))
    with open(hook, "w") as f:
        f.write("/* only a comment */\n")
    err = generate(cfg, os.path.join(work, "none.o"))
    check(err == "datacrumbs-generate: %s:5:13: %s defines no BPF program (a function with "
          "SEC)" % (cfg, hook), "empty hook: " + err)

    # A program the verifier refuses, with --verify: compiled, kept, reported.
    if os.geteuid() == 0:
        with open(hook, "w") as f:
            f.write(BAD_READ)
        out = os.path.join(work, "verify.o")
        status, _, err = run([GENERATE, "--verify", "-o", out, cfg])
        check(status == 1 and len(err.splitlines()) == 1 and err.startswith(
            "datacrumbs-generate: %s:5:13: the kernel's verifier rejects the program for this "
            "entry (h): " % cfg) and "invalid mem access" in err, "verifier: %r" % err)
        check(not os.path.exists(out), "an object the kernel refuses was written")
    else:
        print("note: --verify not tried: needs root")

    # Generated code that does not compile points at its config entry.
    data = os.path.join(work, "data")
    shutil.copytree(os.path.join(SOURCE, "templates"), os.path.join(data, "templates"))
    shutil.copy(os.path.join(BUILD, "templates", "vmlinux.h"), os.path.join(data, "templates"))
    tmpl = os.path.join(data, "templates", "syscall.bpf.c.in")
    with open(tmpl) as f:
        text = f.read()
    with open(tmpl, "w") as f:
        f.write(text.replace("\tdc_stamp(f);", "\tdc_stamp(f, broken);"))
    sys_cfg = os.path.join(work, "sys.yaml")
    with open(sys_cfg, "w") as f:
        f.write("module: s\nprobes:\n  - kind: syscall\n    cat: S\n    functions:\n"
                "      - read\n      - name: close\n        args: {fd: 0}\n")
    env = dict(os.environ, DATACRUMBS_DATADIR=data, XDG_CACHE_HOME=os.path.join(work, "c"))
    err = generate(sys_cfg, os.path.join(work, "sys.o"), env)
    check(err.startswith("datacrumbs-generate: %s:6:9: the code generated for this entry does "
                         "not compile: " % sys_cfg) and "broken" in err, "template: " + err)
    print("ok")


if __name__ == "__main__":
    main()

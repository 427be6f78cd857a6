#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bash completion for the five tools: options from each tool's --help,
values for --by, bundled config names, trace and object files, and the
command after datacrumbs-run's --."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (BUILD, EXPLORE, GENERATE, MERGE, REPORT, RUN, SOURCE, check, skip,  # noqa: E402
                    tmpdir)

SCRIPT = os.path.join(BUILD, "completions", "datacrumbs.bash")


def complete(words, cwd):
    """The candidates bash offers for the last of @words (a command line)."""
    path = os.pathsep.join(os.path.dirname(t) for t in (EXPLORE, GENERATE, RUN, REPORT, MERGE))
    env = dict(os.environ, PATH=path + os.pathsep + os.environ.get("PATH", ""),
               DATACRUMBS_DATADIR=SOURCE)
    line = " ".join("'%s'" % w for w in words)
    prog = """
source "$1"
words=(%s)
COMP_WORDS=("${words[@]}")
COMP_CWORD=$((${#words[@]} - 1))
COMP_LINE="${words[*]}"
_datacrumbs "${words[0]}" "${words[COMP_CWORD]}" "${words[COMP_CWORD - 1]}"
printf '%%s\\n' "${COMPREPLY[@]}"
""" % line
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog, "bash", SCRIPT],
                       capture_output=True, text=True, cwd=cwd, env=env, timeout=60)
    check(p.returncode == 0 and p.stderr == "", "%s: %s" % (words, p.stderr))
    return sorted(set(x for x in p.stdout.splitlines() if x))


def main():
    if not shutil.which("bash"):
        skip("bash is not installed")
    check(os.path.exists(SCRIPT), "%s was not built" % SCRIPT)
    work = tmpdir()
    for name in ("a.pfw.gz", "b.pfw", "notes.txt", "x.bpf.o", "mine.yaml"):
        open(os.path.join(work, name), "w").close()
    os.mkdir(os.path.join(work, "sub"))

    got = complete(["datacrumbs-report", "--b"], work)
    check(got == ["--by="], "report --b: %s" % got)
    got = complete(["datacrumbs-report", "--by", ""], work)
    check(got == ["file", "function", "layer", "process", "rank"], "report --by: %s" % got)
    got = complete(["datacrumbs-report", "-b", "f"], work)
    check(got == ["file", "function"], "report -b f: %s" % got)
    got = complete(["datacrumbs-report", ""], work)
    check(got == ["a.pfw.gz", "b.pfw", "sub"], "report files: %s" % got)
    got = complete(["datacrumbs-merge", "--"], work)
    for opt in ("--output=", "--mem=", "--tmpdir=", "--force", "--help"):
        check(opt in got, "merge: %s not in %s" % (opt, got))
    got = complete(["datacrumbs-generate", "p"], work)
    check("posix" in got, "generate bundled configs: %s" % got)
    got = complete(["datacrumbs-generate", "mi"], work)
    check(got == ["mine.yaml"], "generate yaml files: %s" % got)
    got = complete(["datacrumbs-generate", "--l"], work)
    check(got == ["--list"], "generate --l: %s" % got)
    got = complete(["datacrumbs-run", ""], work)
    check(got == ["sub", "x.bpf.o"], "run objects: %s" % got)
    got = complete(["datacrumbs-run", "--s"], work)
    check("--strict" in got, "run --s: %s" % got)
    got = complete(["datacrumbs-run", "--se"], work)
    check(got == ["--server"], "run --se: %s" % got)
    got = complete(["datacrumbs-run", "--cgroup", ""], work)
    check(got == ["sub"], "run --cgroup: %s" % got)
    got = complete(["datacrumbs-run", "--pid", str(os.getpid())], work)
    check(str(os.getpid()) in got, "run --pid: %s" % got)
    with open("/proc/self/comm") as f:
        comm = f.read().strip()
    got = complete(["datacrumbs-run", "--comm", comm[:3]], work)
    check(comm in got, "run --comm: %s" % got)
    got = complete(["datacrumbs-run", "x.bpf.o", "--", "datacrumbs-rep"], work)
    check("datacrumbs-report" in got, "run -- command: %s" % got)
    got = complete(["datacrumbs-explore", "--y"], work)
    check(got == ["--yaml"], "explore --y: %s" % got)
    got = complete(["datacrumbs-report", "--top", ""], work)
    check(got == [], "report --top offers %s" % got)
    print("ok: completion for all five tools")


if __name__ == "__main__":
    main()

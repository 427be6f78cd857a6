#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PR rank metadata: each traced process whose environment sets a rank
(OMPI_COMM_WORLD_RANK, PMI_RANK, SLURM_PROCID, FLUX_TASK_RANK, the first set
decides) gets one PR line with it; a value that is not a non-negative
integer, or no variable, gets none. Ranks set at exec count, as a launcher
sets them."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import LOOP, RUN, check, loop_config, need_bpf, only_trace, run, tmpdir  # noqa: E402

VARS = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID", "FLUX_TASK_RANK")

# (environment of a child, the rank its PR line must carry, or None for no line)
CHILDREN = [
    ({"OMPI_COMM_WORLD_RANK": "5", "PMI_RANK": "6", "SLURM_PROCID": "3"}, 5),
    ({"PMI_RANK": "7", "SLURM_PROCID": "3", "FLUX_TASK_RANK": "1"}, 7),
    ({"SLURM_PROCID": "12", "FLUX_TASK_RANK": "1"}, 12),
    ({"FLUX_TASK_RANK": "0"}, 0),
    ({"SLURM_PROCID": "2147483647"}, 2147483647),
    ({"SLURM_PROCID": "2147483648"}, None),
    ({"SLURM_PROCID": "-1"}, None),
    ({"SLURM_PROCID": "3x"}, None),
    ({"OMPI_COMM_WORLD_RANK": "", "SLURM_PROCID": "4"}, None),
    ({"OTHER_RANK": "9"}, None),
]

PARENT = """
import json, subprocess, sys
for env in json.loads(sys.argv[1]):
    subprocess.run([sys.argv[2], "-n", "3"], env=env, check=True)
"""


def ranks(events):
    """{pid: [rank, ...]} of the PR rank lines."""
    got = {}
    for e in events:
        if e["ph"] == "M" and e["name"] == "PR" and e["args"]["name"] == "rank":
            check(e["tid"] == e["pid"], "PR line on a thread: %s" % e)
            got.setdefault(e["pid"], []).append(e["args"]["value"])
    return got


def main():
    need_bpf()
    work = tmpdir()
    obj = loop_config(work)
    base = {k: v for k, v in os.environ.items() if k not in VARS}

    # The command itself, its rank inherited from the runtime's environment.
    out = os.path.join(work, "one")
    os.mkdir(out)
    code, text, err = run([RUN, "-q", "-o", out, obj, "--", LOOP, "-n", "3"],
                          env=dict(base, SLURM_PROCID="3"), timeout=60)
    check(code == 0, "run failed (%d): %s" % (code, err))
    pid = json.loads(text)["pid"]
    got = ranks(only_trace(out))
    check(got == {pid: [3]}, "PR ranks %s, want {%d: [3]}" % (got, pid))

    # Children of an unranked parent, each given its own environment at exec.
    out = os.path.join(work, "many")
    os.mkdir(out)
    envs = [dict(e) for e, _ in CHILDREN]
    code, text, err = run([RUN, "-q", "-o", out, obj, "--", sys.executable, "-c", PARENT,
                           json.dumps(envs), LOOP], env=base, timeout=60)
    check(code == 0, "run failed (%d): %s" % (code, err))
    pids = [json.loads(line)["pid"] for line in text.splitlines()]
    check(len(pids) == len(CHILDREN), "children said %r" % text)
    events = only_trace(out)
    got = ranks(events)
    want = {p: [r] for p, (_, r) in zip(pids, CHILDREN) if r is not None}
    check(got == want, "PR ranks %s, want %s" % (got, want))
    named = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    check(set(pids) <= named, "children not in the trace: %s" % (set(pids) - named))
    print("ok: %d ranked of %d processes" % (len(want), len(pids) + 1))


if __name__ == "__main__":
    main()

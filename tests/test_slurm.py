#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Slurm end to end: a single-node cluster (munged, slurmctld, slurmd, all
started here with a generated slurm.conf, no systemd) runs the bundled
prolog, task prolog and epilog. A job submitted with
--comment=datacrumbs:posix,sys gets a server-mode runtime on the node before
it starts; its tasks opt in through the task prolog's LD_PRELOAD. srun -n 2
of the rank workload must leave both ranks (SLURM_PROCID 0 and 1) in the
trace with their exact I/O, and nothing else; a job that does not ask gets
no server. Every daemon is killed at the end, also on failure."""
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (BUILD, GENERATE, RUN, calls, check, check_descend, check_ranks,  # noqa: E402
                    need_bpf, read_trace, run, skip, tmpdir, write_text)

DAEMONS = ("munged", "slurmctld", "slurmd", "srun", "sinfo")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, cond, seconds):
    deadline = time.monotonic() + seconds
    while not cond():
        check(time.monotonic() < deadline, "timed out waiting for " + what)
        time.sleep(0.2)


class Cluster:
    def __init__(self, work):
        self.work = work
        self.procs = []
        self.conf = os.path.join(work, "slurm.conf")
        os.environ["SLURM_CONF"] = self.conf

    def daemon(self, name, argv):
        log = open(os.path.join(self.work, "log", name + ".out"), "w")
        self.procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True))

    def hook(self, name, job_conf):
        """A wrapper that points the bundled hook at this build and cluster."""
        path = os.path.join(self.work, name)
        write_text(path, "#!/bin/sh\nexport DATACRUMBS_JOB_CONF=%s DATACRUMBS_JOB=%s\nexec %s\n" %
                   (shlex.quote(job_conf), shlex.quote(os.path.join(BUILD, "deploy/datacrumbs-job")),
                    shlex.quote(os.path.join(BUILD, "deploy/slurm", name))))
        os.chmod(path, 0o755)
        return path

    def start(self, job_conf):
        w = self.work
        for d in ("log", "state", "spool"):
            os.mkdir(os.path.join(w, d))
        key = os.path.join(w, "munge.key")
        with open(os.open(key, os.O_CREAT | os.O_WRONLY, 0o600), "wb") as f:
            f.write(os.urandom(1024))
        sock = os.path.join(w, "munge.sock")
        self.daemon("munged", ["munged", "--foreground", "--force", "--socket=" + sock,
                               "--key-file=" + key, "--pid-file=" + os.path.join(w, "munged.pid"),
                               "--seed-file=" + os.path.join(w, "munge.seed"),
                               "--log-file=" + os.path.join(w, "log/munged.log")])
        wait_for("munged's socket", lambda: os.path.exists(sock), 20)
        host = socket.gethostname().split(".")[0]
        write_text(self.conf, "\n".join([
            "ClusterName=dctest",
            "SlurmctldHost=%s(127.0.0.1)" % host,
            "SlurmctldPort=%d" % free_port(),
            "SlurmdPort=%d" % free_port(),
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            "AuthInfo=socket=" + sock,
            "StateSaveLocation=" + os.path.join(w, "state"),
            "SlurmdSpoolDir=" + os.path.join(w, "spool"),
            "SlurmctldPidFile=" + os.path.join(w, "slurmctld.pid"),
            "SlurmdPidFile=" + os.path.join(w, "slurmd.pid"),
            "SlurmctldLogFile=" + os.path.join(w, "log/slurmctld.log"),
            "SlurmdLogFile=" + os.path.join(w, "log/slurmd.log"),
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SwitchType=switch/none",
            "MpiDefault=none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/builtin",
            "ReturnToService=2",
            "JobCompType=jobcomp/none",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "PrologFlags=Alloc",
            "Prolog=" + self.hook("prolog", job_conf),
            "TaskProlog=" + self.hook("task-prolog", job_conf),
            "Epilog=" + self.hook("epilog", job_conf),
            "NodeName=%s NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN" % host,
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=5 State=UP",
        ]) + "\n")
        self.daemon("slurmctld", ["slurmctld", "-D", "-i", "-f", self.conf])
        self.daemon("slurmd", ["slurmd", "-D", "-f", self.conf])
        wait_for("the node to be idle", lambda: self.node_state() == "idle", 60)

    def node_state(self):
        status, out, _ = run(["sinfo", "-h", "-N", "-o", "%T"])
        return out.strip() if status == 0 else ""

    def stop(self):
        """Stops the daemons, then kills whatever still runs under this
        cluster's slurm.conf (slurmstepd, tasks, hooks and the servers they
        started in sessions of their own)."""
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        marker = ("SLURM_CONF=" + self.conf).encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if marker in env:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass


def srun(work, args):
    status, out, err = run(["srun", "-t", "2", "--chdir", work, *args], timeout=240)
    check(status == 0, "srun %s failed (%d): %s" % (args, status, err))
    return out


def main():
    missing = [d for d in DAEMONS if not shutil.which(d)]
    if missing:
        skip("no %s: install Debian's slurm-wlm and munge" % ", ".join(missing))
    need_bpf()
    status, out, _ = run([RUN, "--help"])
    if "--server" not in out:
        skip("datacrumbs-run has no server mode")
    client = os.environ.get("DC_CLIENT_LIB", "")
    check(os.path.exists(client), "no client library at %r" % client)
    prog = os.environ["DC_RANK_WORKLOAD"]
    work = tmpdir()
    os.chmod(work, 0o755)
    traces = os.path.join(work, "traces")
    rundir = os.path.join(work, "run")
    job_conf = write_text(os.path.join(work, "job.conf"), "".join(
        "%s=%s\n" % (k, shlex.quote(v)) for k, v in (
            ("DATACRUMBS_RUN", RUN), ("DATACRUMBS_GENERATE", GENERATE),
            ("DATACRUMBS_CLIENT", client), ("DATACRUMBS_RUNDIR", rundir),
            ("DATACRUMBS_OUTPUT", traces), ("DATACRUMBS_CACHE", os.path.join(work, "cache")),
            ("DATACRUMBS_WAIT", "60"))))
    cluster = Cluster(work)
    # meson's timeout sends SIGTERM: tear the cluster down then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    try:
        cluster.start(job_conf)
        data = os.path.join(work, "data")
        os.mkdir(data)
        out = srun(work, ["-n", "2", "--comment=datacrumbs:posix,sys", prog, data])
        logs = "".join(open(os.path.join(rundir, n)).read() for n in os.listdir(rundir)
                       if n.endswith(".log")) if os.path.isdir(rundir) else ""
        check(all(line.startswith("{") for line in out.splitlines()),
              "the job says:\n%s\nserver log:\n%s" % (out, logs))
        units = sorted((json.loads(line) for line in out.splitlines()), key=lambda u: u["rank"])
        check([u["rank"] for u in units] == [0, 1], "ranks reported: %s" % out)
        # The epilog stops the server, which finishes its traces; the epilog
        # then moves the server's log beside them.
        check(os.listdir(traces) and len(os.listdir(traces)) == 1,
              "expected one job directory in %s" % traces)
        jobdir = os.path.join(traces, os.listdir(traces)[0])
        wait_for("the epilog", lambda: os.path.exists(os.path.join(jobdir, "datacrumbs-run.log")),
                 90)
        wait_for("the node to be idle", lambda: cluster.node_state() == "idle", 60)
        with open(os.path.join(jobdir, "datacrumbs-run.log")) as f:
            log = f.read()
        files = sorted(n for n in os.listdir(jobdir) if n.endswith(".pfw.gz"))
        check(files, "no trace in %s; server log:\n%s" % (jobdir, log))
        events = [e for n in files for e in read_trace(os.path.join(jobdir, n))]
        pids = check_ranks(events, units)
        traced = {e["pid"] for e in calls(events)}
        check(pids <= traced, "traced pids %s, the ranks are %s" % (traced, pids))
        # Nothing else: a sanitizer runtime's helpers descend from the ranks.
        check_descend(events, pids)
        for n in files:
            end = [e for e in read_trace(os.path.join(jobdir, n)) if e["name"] == "end"]
            check(len(end) == 1 and end[0]["args"]["dropped_events"] == 0,
                  "%s: end record %s" % (n, end))
        check(not [n for n in os.listdir(rundir) if not n.endswith(".log")],
              "the epilog left %s" % os.listdir(rundir))

        # A job that does not ask runs without a server.
        out = srun(work, ["-n", "1", prog, os.path.join(work, "data")])
        check(json.loads(out)["rank"] == 0, "untraced job: %s" % out)
        check(len(os.listdir(traces)) == 1, "a job that did not ask was traced: %s" %
              os.listdir(traces))
    finally:
        cluster.stop()
    print("ok: %d events for ranks %s in %s" % (len(calls(events)), sorted(pids), files))


if __name__ == "__main__":
    main()

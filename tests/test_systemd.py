#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The systemd unit passes systemd-analyze verify as an instance (its
commands exist and are executable, its settings parse), and verify would
catch a unit whose server cannot start. Needs no running systemd."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import GENERATE, RUN, SOURCE, check, run, skip, tmpdir  # noqa: E402


def instance(work, name, bindir):
    """The template with its install paths pointing at @bindir, as @name."""
    with open(os.path.join(SOURCE, "deploy/systemd/datacrumbs@.service.in")) as f:
        text = f.read()
    for key, value in (("BINDIR", bindir), ("LIBDIR", "/usr/lib"), ("SYSCONFDIR", "/etc")):
        text = text.replace("@%s@" % key, value)
    check("@" not in text.replace("datacrumbs@", ""), "placeholder left in the unit")
    d = os.path.join(work, name.replace("@", "-"))
    os.mkdir(d)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def verify(path):
    return run(["systemd-analyze", "verify", "--man=no", "--recursive-errors=no", path])


def main():
    if not shutil.which("systemd-analyze"):
        skip("no systemd-analyze (Debian package systemd)")
    work = tmpdir()
    bindir = os.path.join(work, "bin")
    os.mkdir(bindir)
    for tool in (RUN, GENERATE):
        os.symlink(tool, os.path.join(bindir, os.path.basename(tool)))
    status, out, err = verify(instance(work, "datacrumbs@posix.service", bindir))
    check(status == 0, "verify failed (%d): %s%s" % (status, out, err))
    check("datacrumbs@" not in out + err, "verify warns about the unit: %s%s" % (out, err))
    # The same unit without its binaries must fail: verify really looks.
    status, out, err = verify(instance(work, "datacrumbs@sys.service", "/nonexistent"))
    check(status != 0 and "not executable" in err, "verify passed a unit without its "
          "binaries (%d): %s" % (status, err))
    print("ok: datacrumbs@.service verifies")


if __name__ == "__main__":
    main()

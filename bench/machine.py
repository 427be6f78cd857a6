# SPDX-License-Identifier: MIT
"""The machine a benchmark ran on, for the line above each table: these VMs
are shared, so the load average is part of the figure."""
import os
import platform


def describe():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join("%.1f" % v for v in os.getloadavg())
    return "kernel %s, %s, %d cores, load average %s" % (platform.release(), cpu,
                                                          os.cpu_count(), load)

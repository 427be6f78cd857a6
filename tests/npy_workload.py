# SPDX-License-Identifier: MIT
"""A model-like program for test_python.py: load two saved arrays, one
read whole (numpy.load) and one mapped (mmap_mode), then compute on them
for a while without touching a file. Prints one JSON line with how long
the compute phase took."""
import json
import os
import sys
import time

import numpy

COMPUTE_S = 0.5


def main():
    weights = numpy.load(os.path.join(sys.argv[1], "weights.npy"))
    table = numpy.load(os.path.join(sys.argv[1], "table.npy"), mmap_mode="r")
    x = numpy.asarray(table[:64], dtype=numpy.float64)
    t0 = time.monotonic()
    steps = 0
    while time.monotonic() - t0 < COMPUTE_S:
        x = numpy.tanh(x @ weights)
        steps += 1
    compute_us = int((time.monotonic() - t0) * 1e6)
    print(json.dumps({"pid": os.getpid(), "compute_us": compute_us, "steps": steps,
                      "sum": float(x.sum())}))


main()

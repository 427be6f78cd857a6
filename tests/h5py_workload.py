# SPDX-License-Identifier: MIT
"""h5py with known calls, for test_python.py: create a file with one
dataset written whole, close it, reopen it and read the dataset back.
Prints one JSON line of what it did."""
import json
import os
import sys
import threading

import h5py
import numpy

N = 50000


def main():
    path = os.path.join(sys.argv[1], "h5py.h5")
    data = numpy.arange(N, dtype=numpy.int64)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("data", shape=(N,), dtype="i8")
        d[...] = data
    with h5py.File(path, "r") as f:
        back = f["data"][...]
    if not numpy.array_equal(back, data):
        sys.exit(1)
    print(json.dumps({"pid": os.getpid(), "tid": threading.get_native_id(), "file": path,
                      "bytes": data.nbytes}))


main()

#!/usr/bin/env python3
"""libfsntfs (pip libfsntfs-python, module pyfsntfs) reading the same
WOF-compressed files of testdata/wof/wof.img that `cargo bench --bench wof`
reads: decoded MB/s, median of RUNS runs of at least 0.2 s each."""
import os
import statistics
import sys
import time

import pyfsntfs

RUNS = int(os.environ.get("VERSKEW_RUNS", "15"))
IMG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "wof", "wof.img")
vol = pyfsntfs.volume()
vol.open(IMG)
print("libfsntfs", pyfsntfs.get_version(), file=sys.stderr)
for name in ["mixed-xpress4k.bin", "mixed-xpress8k.bin", "mixed-xpress16k.bin", "mixed-lzx.bin"]:
    per = []
    for _ in range(RUNS):
        t, n = time.perf_counter(), 0
        while time.perf_counter() - t < 0.2:
            # A fresh entry each time: libfsntfs caches decoded data per entry.
            e = vol.get_file_entry_by_path("\\wof\\" + name)
            e.read_buffer(e.size)
            n += 1
        per.append((time.perf_counter() - t) / n)
    s = statistics.median(per)
    print("%-28s %9d %10.1f" % ("wof.img " + name, e.size, e.size / s / 1e6))

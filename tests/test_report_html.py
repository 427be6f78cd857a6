#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The --html page renders in headless Chromium without errors: its script
marks the body once everything is drawn, the DOM holds the tables, and a
screenshot shows a page that is not blank. The page loads nothing from the
network. Run on a crafted trace with hostile names, ranks and four layers,
and on a real trace where BPF is available."""
import os
import shutil
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import REPORT, check, run, skip, tmpdir, trace_workload, write_pfw  # noqa: E402

T0 = 1_700_000_000_000_000
HOSTILE = '/data/</script><script>window.__pwned=1</script> "q" & \u00e9\u6f22.h5'


def crafted(path):
    lines = [{"name": "HH", "cat": "dftracer", "pid": 1, "tid": 1, "ph": "M",
              "args": {"name": "node1", "value": "00000000000000aa"}},
             {"name": "FH", "cat": "dftracer", "pid": 1, "tid": 1, "ph": "M",
              "args": {"name": HOSTILE, "value": "000000000000f001"}}]
    for rank in range(3):
        pid = 10 + rank
        lines.append({"name": "PR", "cat": "dftracer", "pid": pid, "tid": pid, "ph": "M",
                      "args": {"name": "rank", "value": rank}})
        for i in range(200):
            t = T0 + i * 5000 + rank * 700
            for lv, (name, cat, off, dur) in enumerate((("H5Dwrite", "HDF5", 0, 900),
                                                         ("MPI_File_write_at", "MPIIO", 50, 800),
                                                         ("pwrite", "POSIX", 100, 600),
                                                         ("pwrite64", "SYSCALL", 120, 500))):
                lines.append({"name": name, "cat": cat, "pid": pid, "tid": pid, "ts": t + off,
                              "dur": dur + i, "ph": "X",
                              "args": {"hhash": "00000000000000aa", "fhash": "000000000000f001",
                                       "size": 4096, "ret": 4096, "level": lv}})
        lines.append({"name": "write", "cat": "POSIX", "pid": pid, "tid": pid, "ts": T0, "ph": "C",
                      "args": {"count": 5, "time": 50, "size": 100}})
    write_pfw(path, lines)


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    skip("Debian's chromium is not installed (apt-get install chromium)")


def browse(exe, work, page, *mode):
    profile = os.path.join(work, "profile-%d" % len(os.listdir(work)))
    argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--user-data-dir=" + profile, "--window-size=1280,1400", *mode, "file://" + page]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    check(p.returncode == 0, "chromium %s failed (%d): %s" % (mode, p.returncode, p.stderr[-2000:]))
    return p.stdout


def png_pixels(path):
    """Width, height and the distinct colors of an 8-bit RGB(A) PNG."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and ctype in (2, 6), "unexpected PNG format %d/%d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colors = set()
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:
            colors.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp * 2))
        prev = line
    return w, h, colors


def check_page(exe, work, trace, texts):
    page = os.path.join(work, os.path.basename(trace) + ".html")
    status, out, err = run([REPORT, "--html", page, trace])
    check(status == 0 and err == "", "report --html: %s" % err)
    with open(page, encoding="utf-8") as f:
        html = f.read()
    for bad in ("src=", "href=", "@import", "url(", "fetch(", "XMLHttpRequest"):
        check(bad not in html, "the page refers to something outside it: %s" % bad)
    dom = browse(exe, work, page, "--dump-dom")
    check('data-rendered="ok"' in dom, "the page did not finish rendering: %s" %
          dom[dom.find("dc-error"):][:300])
    check('<div id="dc-error"></div>' in dom, "the page shows an error")
    check("__pwned" not in dom.split("</script>")[-1] or "window.__pwned=1" not in dom.split('id="dc-data"')[0],
          "injected script")
    for t in texts:
        check(t in dom, "%r is not on the page" % t)
    shot = os.path.join(work, os.path.basename(trace) + ".png")
    browse(exe, work, page, "--screenshot=" + shot, "--hide-scrollbars")
    w, h, colors = png_pixels(shot)
    check((w, h) == (1280, 1400), "screenshot size %dx%d" % (w, h))
    check(len(colors) > 20, "the screenshot looks blank (%d colors)" % len(colors))
    return shot


def main():
    exe = chromium()
    work = tmpdir()
    trace = os.path.join(work, "crafted.pfw.gz")
    crafted(trace)
    esc = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    shot = check_page(exe, work, trace, [esc, "rank 2", "MPI_File_write_at", "HDF5", "MPIIO", "SYSCALL",
                                         "Top files", "Latency histograms"])
    print("ok: crafted trace rendered, screenshot %s" % shot)
    if os.geteuid() == 0 and os.path.exists("/sys/kernel/btf/vmlinux"):
        traces, units = trace_workload(work)
        shot = check_page(exe, work, traces[0], [units[0][0]["file"], "pread64", "POSIX"])
        print("ok: real trace rendered, screenshot %s" % shot)
    else:
        print("note: no BPF here, so only the crafted trace was rendered")


if __name__ == "__main__":
    main()

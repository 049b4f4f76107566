#!/usr/bin/env python3
"""Times verskew against the peer pipelines, alternating runs, and prints a
Markdown table (medians, ratios vs verskew). Before timing, checks that every
peer reports the same versions, control set, OS level, hotfixes and service
values as verskew, and warns on any mismatch.

Usage: run.py --verskew PATH --runs N [--peer-runs N] IMAGE [IMAGE ...]
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def peers_available():
    out = []
    for name, module, script in (
        ("tsk (fls+icat+pefile+reglookup)", None, "tsk_peer.py"),
        ("dissect.target + pefile", "dissect.target", "dissect_peer.py"),
        ("libfsntfs + libregf + pefile", "pyfsntfs", "fsntfs_peer.py"),
    ):
        if module:
            ok = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0
            if not ok:
                print(f"note: {module} is not installed; skipping {name}", file=sys.stderr)
                continue
        out.append((name, [sys.executable, os.path.join(HERE, script)]))
    return out


def verskew_view(verskew, image):
    """verskew's answer in the peers' shape (diagnose JSON + versions JSON)."""
    d = json.loads(subprocess.run([verskew, "diagnose", "--format", "json", image], capture_output=True, text=True).stdout)
    inst = d["installs"][0]
    rows = [json.loads(l) for l in subprocess.run([verskew, "versions", "--format", "json", image], capture_output=True, text=True).stdout.splitlines() if l.strip()]
    os_ = inst["os"]
    return {
        "system_root": inst["system_root"],
        "control_set": (inst.get("control_set") or {}).get("name"),
        "os": {"CurrentVersion": os_["version"], "CurrentBuildNumber": os_["build"], "CSDVersion": os_["service_pack"]},
        "hotfixes": sorted(h["id"].upper() for h in inst["hotfixes"]),
        "services": {s["name"]: {"ImagePath": s["image_path"], "ServiceDll": s["service_dll"]} for s in inst["services"]},
        "files": {r["path"]: ((r.get("version") or {}).get("file_version")) for r in rows if r["path"].lower().startswith(inst["system_root"].lower() + "\\system32\\inetsrv\\")},
    }


def compare(ref, other, name):
    bad = []
    for k in ("system_root", "control_set", "os", "hotfixes", "services"):
        if ref[k] != other.get(k):
            bad.append(f"{k}: verskew {ref[k]!r} vs {other.get(k)!r}")
    rf = {p.lower(): v for p, v in ref["files"].items()}
    of = {p.lower(): v for p, v in other.get("files", {}).items()}
    for p in sorted(set(rf) | set(of)):
        if rf.get(p, "missing") != of.get(p, "missing"):
            bad.append(f"{p}: verskew {rf.get(p, 'missing')} vs {of.get(p, 'missing')}")
    if bad:
        print(f"WARNING: {name} disagrees with verskew:", file=sys.stderr)
        for b in bad[:20]:
            print("  " + b, file=sys.stderr)
    return not bad, len(of)


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    el = time.perf_counter() - t
    if r.returncode not in (0, 1):
        raise SystemExit(f"{shlex.join(cmd)} failed with status {r.returncode}")
    return el


def timed_rss(cmd):
    """Wall time and peak RSS (KiB) of one process. RSS from /usr/bin/time
    (os.wait4 after a fork from Python would count Python's own pages)."""
    import tempfile
    with tempfile.NamedTemporaryFile("r") as out:
        t = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        el = time.perf_counter() - t
        return el, int(out.read().split()[-1])


def verskew_alone(verskew, images, runs):
    print(f"\n### verskew diagnose alone: wall time and peak RSS ({runs} alternating runs per image; wall of bare runs, RSS of runs under /usr/bin/time)\n")
    print("| image | median wall | min | max | median peak RSS | wall vs the first image |")
    print("|---|---|---|---|---|---|")
    res = {i: [] for i in images}
    for _ in range(runs):
        for i in images:
            cmd = [verskew, "diagnose", "--format", "json", i]
            # Wall time of a bare run; RSS from a second run under /usr/bin/time
            # (whose fork/exec would otherwise add ~5 ms to the wall time).
            res[i].append((timed(cmd), timed_rss(cmd)[1]))
    base = None
    for i in images:
        w = [x[0] for x in res[i]]
        m = statistics.median(w)
        base = base or m
        rss = statistics.median(x[1] for x in res[i]) / 1024
        print(f"| {human(i)} | {fmt(m)} | {fmt(min(w))} | {fmt(max(w))} | {rss:.1f} MiB | {m / base:.2f}× |")


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {model}, Linux {platform.release()}"


def human(image):
    size = os.path.getsize(image)
    unit = f"{size / 2**30:.1f} GiB sparse" if size >= 1 << 30 else f"{size / 2**20:.1f} MiB"
    return f"{os.path.basename(image)} ({unit})"


def fmt(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verskew", required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--large-runs", type=int, default=3, help="runs for images over 1 GiB")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    peers = peers_available()
    print(f"## verskew vs peers, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n")
    print(f"- machine: {machine()}; shared with other work, so runs alternate tool by tool and medians are quoted")
    print(f"- command: `{shlex.join(sys.argv)}` (via benches/peers.sh)")
    print(f"- job: find the system root, read SYSTEM (Select, control set, IIS services) and SOFTWARE (CurrentVersion, Hotfix), and the file version of every PE file in system32\\inetsrv; verskew does this and more (`verskew diagnose --format json`)\n")
    print("| image | tool | agrees with verskew | runs | median | min | max | ratio vs verskew (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for image in a.images:
        size = os.path.getsize(image)
        runs = a.runs if size < (1 << 30) else a.large_runs
        ref = verskew_view(a.verskew, image)
        tools = [("verskew diagnose --format json", [a.verskew, "diagnose", "--format", "json", image], "reference")]
        for name, cmd in peers:
            r = subprocess.run(cmd + [image], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"note: {name} failed on {image}: {r.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                tools.append((name, None, "failed: " + " ".join(r.stderr.strip().splitlines()[-1:])[:80]))
                continue
            ok, n = compare(ref, json.loads(r.stdout), name)
            tools.append((name, cmd + [image], f"yes ({n} files)" if ok else "**NO** (see stderr)"))
        times = {name: [] for name, cmd, _ in tools if cmd}
        for _ in range(runs):
            for name, cmd, _ in tools:
                if cmd:
                    times[name].append(timed(cmd))
        base = statistics.median(times[tools[0][0]])
        label = human(image)
        for name, cmd, agree in tools:
            if not cmd:
                print(f"| {label} | {name} | {agree} | 0 | - | - | - | - |")
                continue
            t = times[name]
            m = statistics.median(t)
            print(f"| {label} | {name} | {agree} | {len(t)} | {fmt(m)} | {fmt(min(t))} | {fmt(max(t))} | {m / base:.1f}× |")
        sys.stdout.flush()
    verskew_alone(a.verskew, a.images, max(a.runs, 10))


if __name__ == "__main__":
    main()

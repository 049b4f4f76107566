#!/usr/bin/env python3
"""Fills a mounted (ntfs-3g) volume with a realistic Windows tree for the
large-image benchmark (see benches/make-large-image.sh).

The tree is generated deterministically (seeded RNG) as one ordered list and
created in two halves (--part 1, --part 2), so a caller can copy something in
between and have it land in the middle of the MFT.

Layout, for --count N:
  \\WINNT\\system32          ~3,000 DLLs + 300 EXEs, \\drivers 400 SYS, \\inf, \\Fonts, \\Help
  \\Program Files\\...        vendors/products, ~20% PE files, the rest data
  \\Documents and Settings\\  users with My Documents, Application Data and
                            Temporary Internet Files (many small files)
PE files are copies of the seed's real (version-resourced) DLLs padded with an
overlay to 4 KiB-256 KiB; other files are 0-32 KiB of pseudo-random bytes
(about a third small enough to be resident in the MFT record).
"""

import argparse
import os
import random
import sys
import time


def pe_templates(seed_tree):
    out = []
    for dirpath, _, names in os.walk(seed_tree):
        for n in sorted(names):
            if n.lower().endswith((".dll", ".exe")):
                with open(os.path.join(dirpath, n), "rb") as f:
                    data = f.read()
                if data[:2] == b"MZ":
                    out.append(data)
    if not out:
        sys.exit("populate: no PE files under " + seed_tree)
    return out


def plan(count, rng):
    """[(path, kind, size)] in creation order; kind 'pe' or 'data'."""
    items = []
    sys32 = "WINNT/system32"
    for i in range(3000):
        items.append((f"{sys32}/sys{i:04d}.dll", "pe", rng.randint(4, 256) << 10))
    for i in range(300):
        items.append((f"{sys32}/prog{i:03d}.exe", "pe", rng.randint(8, 512) << 10))
    for i in range(400):
        items.append((f"{sys32}/drivers/drv{i:03d}.sys", "pe", rng.randint(4, 128) << 10))
    for i in range(1200):
        items.append((f"WINNT/inf/oem{i:04d}.inf", "data", rng.randint(200, 20000)))
    for i in range(300):
        items.append((f"WINNT/Fonts/font{i:03d}.ttf", "data", rng.randint(1000, 32000)))
    for i in range(800):
        items.append((f"WINNT/Help/topic{i:03d}.hlp", "data", rng.randint(500, 32000)))
    base = len(items)
    rest = max(count - base, 0)
    # A quarter in Program Files, the rest in user profiles.
    pf = rest // 4
    n = 0
    vendor = 0
    while n < pf:
        vendor += 1
        for prod in range(rng.randint(1, 4)):
            d = f"Program Files/Vendor{vendor:04d}/Product{prod}"
            for sub in ("", "/bin", "/data", "/help"):
                for k in range(rng.randint(5, 60)):
                    if n >= pf:
                        break
                    if sub in ("", "/bin") and rng.random() < 0.5:
                        ext = rng.choice(("dll", "exe", "ocx"))
                        items.append((f"{d}{sub}/m{k:03d}.{ext}", "pe", rng.randint(4, 256) << 10))
                    else:
                        items.append((f"{d}{sub}/f{k:03d}.dat", "data", small(rng)))
                    n += 1
    users = rest - pf
    n = 0
    user = 0
    while n < users:
        user += 1
        home = f"Documents and Settings/user{user:04d}"
        for folder in ("My Documents", "Application Data/App", "Local Settings/Temporary Internet Files/Content.IE5"):
            for sub in range(rng.randint(1, 20)):
                for k in range(rng.randint(10, 150)):
                    if n >= users:
                        break
                    items.append((f"{home}/{folder}/D{sub:03d}/file{k:04d}.txt", "data", small(rng)))
                    n += 1
    return items


def small(rng):
    # About a third resident (< ~700 bytes), the rest 1-32 KiB.
    if rng.random() < 0.33:
        return rng.randint(0, 600)
    return rng.randint(1024, 32 << 10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--seed-tree", required=True)
    ap.add_argument("--count", type=int, default=300000)
    ap.add_argument("--part", type=int, choices=(1, 2), required=True)
    a = ap.parse_args()
    rng = random.Random(20260101)
    items = plan(a.count, rng)
    half = len(items) // 2
    todo = items[:half] if a.part == 1 else items[half:]
    pes = pe_templates(a.seed_tree)
    noise = random.Random(7).randbytes(64 << 10)
    made = set()
    t0 = time.time()
    for i, (rel, kind, size) in enumerate(todo):
        path = os.path.join(a.root, rel)
        d = os.path.dirname(path)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        with open(path, "wb") as f:
            if kind == "pe":
                body = pes[i % len(pes)]
                f.write(body)
                pad = max(size - len(body), 0)
                while pad:
                    chunk = min(pad, len(noise))
                    f.write(noise[:chunk])
                    pad -= chunk
            else:
                off = (i * 4099) % (len(noise) - (32 << 10) - 1)
                f.write(noise[off:off + size])
        if i and i % 20000 == 0:
            el = time.time() - t0
            print(f"populate: part {a.part}: {i}/{len(todo)} files, {i / el:.0f} files/s", file=sys.stderr)
    el = time.time() - t0
    print(f"populate: part {a.part}: {len(todo)} files in {el:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

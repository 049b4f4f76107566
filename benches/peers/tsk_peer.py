#!/usr/bin/env python3
"""The job done with The Sleuth Kit: `fls -r -p` to find the files, `icat` to
extract them to a temporary folder, pefile for the versions and reglookup for
the registry values. Usage: tsk_peer.py IMAGE"""

import csv
import io
import os
import re
import subprocess
import sys
import tempfile
from urllib.parse import unquote

from common import SERVICES, is_pe_name, pe_version, result


def run(*args):
    return subprocess.run(args, check=True, capture_output=True).stdout


def ntfs_offsets(image):
    """Sector offsets of NTFS volumes: 0 for a bare volume, else from mmls."""
    with open(image, "rb") as f:
        boot = f.read(512)
    if boot[3:11] == b"NTFS    ":
        return [0]
    out = subprocess.run(["mmls", image], capture_output=True, text=True).stdout
    offs = []
    for line in out.splitlines():
        m = re.match(r"\s*\d+:\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)", line)
        if m and re.search(r"NTFS|0x07|Basic data", m.group(4), re.I):
            offs.append(int(m.group(1)))
    return offs


def reg(hive, prefix):
    """{(key path, value name): value} below `prefix` (reglookup CSV)."""
    out = run("reglookup", "-H", "-p", prefix, hive).decode("utf-8", "replace")
    vals = {}
    for row in csv.reader(io.StringIO(out)):
        if len(row) < 3:
            continue
        path, typ, value = row[0], row[1], row[2]
        if typ == "KEY":
            vals[(path, None)] = ""
            continue
        key, _, name = path.rpartition("/")
        vals[(key.lower(), unquote(name).lower())] = unquote(value)  # reglookup %XX-escapes
    return vals


def main():
    image = sys.argv[1]
    for off in ntfs_offsets(image):
        o = ["-o", str(off)] if off else []
        listing = run("fls", "-r", "-p", *o, image).decode("utf-8", "replace")
        entries = {}
        for line in listing.splitlines():
            # "r/r 64-128-2:\tWINNT/system32/inetsrv/w3svc.dll"; deleted: "r/r * 70..."
            m = re.match(r"(\S)/\S\s+(\*\s+)?(\d+)(?:-\d+-\d+)?(?:\(realloc\))?:\t(.*)", line)
            if not m or m.group(2) or m.group(1) != "r":
                continue
            entries[m.group(4).lower()] = (int(m.group(3)), m.group(4))
        roots = sorted({p.split("/")[0] for p in entries if re.fullmatch(r"[^/]+/system32/config/system", p)})
        with tempfile.TemporaryDirectory() as tmp:
            for root_l in roots:
                root = entries[f"{root_l}/system32/config/system"][1].split("/")[0]

                def extract(path_l):
                    inode, _ = entries[path_l]
                    dest = os.path.join(tmp, str(inode))
                    with open(dest, "wb") as f:
                        subprocess.run(["icat", *o, image, str(inode)], check=True, stdout=f)
                    return dest

                system = extract(f"{root_l}/system32/config/system")
                software = extract(f"{root_l}/system32/config/software")
                sel = reg(system, "/Select")
                current = int(sel.get(("/select", "current"), "0x1"), 16)
                cs = "ControlSet%03d" % current
                svc = reg(system, f"/{cs}/Services")
                services = {}
                for s in SERVICES:
                    base = f"/{cs}/services/{s}".lower()
                    if (base, "imagepath") in svc or any(k[0] == base for k in svc):
                        services[s] = {
                            "ImagePath": svc.get((base, "imagepath")),
                            "ServiceDll": svc.get((base + "/parameters", "servicedll")),
                        }
                cv = reg(software, "/Microsoft/Windows NT/CurrentVersion")
                base = "/microsoft/windows nt/currentversion"
                os_info = {k: cv.get((base, k.lower())) for k in ("CurrentVersion", "CurrentBuildNumber", "CSDVersion")}
                hot = set()
                for key, _ in cv:
                    m = re.fullmatch(r"/microsoft/windows nt/currentversion/hotfix/([^/]+)", key, re.I)
                    if m:
                        hot.add(m.group(1).upper())
                files = {}
                prefix = f"{root_l}/system32/inetsrv/"
                for path_l, (inode, path) in entries.items():
                    if path_l.startswith(prefix) and "/" not in path_l[len(prefix):] and is_pe_name(path_l):
                        with open(extract(path_l), "rb") as f:
                            files["\\" + path.replace("/", "\\")] = pe_version(f.read())
                result("tsk", "\\" + root, cs, os_info, hot, services, files)
                return


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The job done with dissect.target: `Target.open` (loader, volume system,
NTFS via dissect.ntfs, registry via dissect.regf) and pefile for versions.
Usage: dissect_peer.py IMAGE"""

import sys

from dissect.target import Target

from common import SERVICES, is_pe_name, pe_version, result


def value(key, name):
    try:
        return key.value(name).value
    except Exception:
        return None


def main():
    t = Target.open(sys.argv[1])
    sysvol = t.fs.path("sysvol")
    for root in sorted(sysvol.iterdir()):
        if not root.joinpath("system32", "config", "SYSTEM").exists():
            continue
        reg = t.registry
        current = value(reg.key(r"HKLM\SYSTEM\Select"), "Current") or 1
        cs = "ControlSet%03d" % current
        services = {}
        for s in SERVICES:
            try:
                k = reg.key(rf"HKLM\SYSTEM\{cs}\Services\{s}")
            except Exception:
                continue
            try:
                dll = value(reg.key(rf"HKLM\SYSTEM\{cs}\Services\{s}\Parameters"), "ServiceDll")
            except Exception:
                dll = None
            services[s] = {"ImagePath": value(k, "ImagePath"), "ServiceDll": dll}
        cv = reg.key(r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion")
        os_info = {k: value(cv, k) for k in ("CurrentVersion", "CurrentBuildNumber", "CSDVersion")}
        try:
            hot = {k.name.upper() for k in reg.key(r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Hotfix").subkeys()}
        except Exception:
            hot = set()
        files = {}
        for f in root.joinpath("system32", "inetsrv").iterdir():
            if f.is_file() and is_pe_name(f.name):
                rel = "\\" + "\\".join(f.parts[1:]) if f.parts[0] == "sysvol" else str(f)
                files[rel] = pe_version(f.read_bytes())
        result("dissect", "\\" + root.name, cs, os_info, hot, services, files)
        return


if __name__ == "__main__":
    main()

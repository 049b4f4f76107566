#!/usr/bin/env python3
"""The job done with libyal: libfsntfs-python (NTFS), libregf-python
(hives) and pefile. Bare NTFS volumes only (libfsntfs opens a volume, not a
partitioned disk). Usage: fsntfs_peer.py IMAGE"""

import io
import sys

import pyfsntfs
import pyregf

from common import SERVICES, is_pe_name, pe_version, result


def read(entry):
    size = entry.get_size()
    return entry.read_buffer(size) if size else b""


def value(key, name):
    if key is None:
        return None
    v = key.get_value_by_name(name)
    if v is None:
        return None
    t = v.get_type()
    if t in (1, 2):  # REG_SZ, REG_EXPAND_SZ
        return v.get_data_as_string()
    if t == 4:
        return v.get_data_as_integer()
    return v.get_data()


def hive(data):
    r = pyregf.file()
    r.open_file_object(io.BytesIO(data))
    return r


def main():
    vol = pyfsntfs.volume()
    vol.open(sys.argv[1])
    root_dir = vol.get_root_directory()
    for i in range(root_dir.get_number_of_sub_file_entries()):
        top = root_dir.get_sub_file_entry(i)
        name = top.get_name()
        if not top.has_directory_entries_index() or name.startswith("$"):
            continue
        sysf = vol.get_file_entry_by_path(f"\\{name}\\system32\\config\\SYSTEM")
        if sysf is None:
            continue
        system = hive(read(sysf))
        software = hive(read(vol.get_file_entry_by_path(f"\\{name}\\system32\\config\\SOFTWARE")))
        current = value(system.get_key_by_path(r"\Select"), "Current") or 1
        cs = "ControlSet%03d" % current
        services = {}
        for s in SERVICES:
            k = system.get_key_by_path(rf"\{cs}\Services\{s}")
            if k is None:
                continue
            p = system.get_key_by_path(rf"\{cs}\Services\{s}\Parameters")
            services[s] = {"ImagePath": value(k, "ImagePath"), "ServiceDll": value(p, "ServiceDll")}
        cv = software.get_key_by_path(r"\Microsoft\Windows NT\CurrentVersion")
        os_info = {k: value(cv, k) for k in ("CurrentVersion", "CurrentBuildNumber", "CSDVersion")}
        hk = software.get_key_by_path(r"\Microsoft\Windows NT\CurrentVersion\Hotfix")
        hot = {hk.get_sub_key(j).get_name().upper() for j in range(hk.get_number_of_sub_keys())} if hk else set()
        files = {}
        inetsrv = vol.get_file_entry_by_path(f"\\{name}\\system32\\inetsrv")
        for j in range(inetsrv.get_number_of_sub_file_entries()):
            f = inetsrv.get_sub_file_entry(j)
            n = f.get_name()
            if not f.has_directory_entries_index() and is_pe_name(n):
                files[f"\\{name}\\system32\\inetsrv\\{n}"] = pe_version(read(f))
        result("libfsntfs", "\\" + name, cs, os_info, hot, services, files)
        return


if __name__ == "__main__":
    main()

"""Shared by the peer implementations: the job's definition and its output.

The job (what `verskew diagnose` needs from an image, done with other tools):
  1. find the system roots: top-level folders with system32\\config\\SYSTEM;
  2. SYSTEM: Select\\Current -> ControlSet00N; for the IIS services, ImagePath
     and Parameters\\ServiceDll;
  3. SOFTWARE: Microsoft\\Windows NT\\CurrentVersion (CurrentVersion,
     CurrentBuildNumber, CSDVersion) and its Hotfix subkeys;
  4. every PE file in <root>\\system32\\inetsrv: VS_FIXEDFILEINFO file version.
Each peer prints one JSON object (see `result`), so the driver can check that
the peers agree with verskew.
"""

import json
import sys

import pefile

SERVICES = ["W3SVC", "MSFTPSVC", "SMTPSVC", "NNTPSVC", "IISADMIN"]
PE_EXTENSIONS = (".dll", ".exe", ".sys", ".ocx", ".cpl", ".drv")


def pe_version(data):
    """VS_FIXEDFILEINFO file version of a PE image (bytes), or None."""
    try:
        pe = pefile.PE(data=data, fast_load=True)
        pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
        fixed = getattr(pe, "VS_FIXEDFILEINFO", None)
        if not fixed:
            return None
        f = fixed[0]
        return "%d.%d.%d.%d" % (f.FileVersionMS >> 16, f.FileVersionMS & 0xFFFF, f.FileVersionLS >> 16, f.FileVersionLS & 0xFFFF)
    except pefile.PEFormatError:
        return None


def is_pe_name(name):
    return name.lower().endswith(PE_EXTENSIONS)


def result(tool, root, control_set, os_info, hotfixes, services, files):
    json.dump(
        {
            "tool": tool,
            "system_root": root,
            "control_set": control_set,
            "os": os_info,
            "hotfixes": sorted(hotfixes),
            "services": services,
            "files": dict(sorted(files.items())),
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")

"""The static loader check's images (issue 12): NT 4.0 + IIS 4 installs whose
DLLs really import from each other, built with mingw (i686, and x86_64 for
the wrong-machine case) from C sources, .def files (exports by name, by
ordinal with NONAME, forwarders `Name = DLL.Target`) and import libraries
made by dlltool (`-l`, and `-y` for a delay-load library).

The system32 of these images holds small stand-ins of ntdll.dll and
kernel32.dll exporting what the IIS stand-ins import (kernel32's HeapAlloc
forwarded to NTDLL.RtlAllocateHeap, as on real systems), so a DLL that no
folder holds is really missing. SYSTEM names kernel32.dll in
Control\\Session Manager\\KnownDLLs (DllDirectory %SystemRoot%\\system32,
Q164501) and PATH in Session Manager\\Environment.

Called from factory.build_all as loader_images.build(F, factory_module).
`dlls(work, fx, case)` alone builds the DLL set of one case, for
testdata/build/pe_listings.py.
"""

import os
import struct
import subprocess

T_BUILD = "2001-09-10T11:05:00Z"

# What kernel32.dll, ntdll.dll, isatq.dll, infocomm.dll export and the
# IIS stand-ins import. Functions are cdecl, so names are undecorated.
NTDLL_DEF = ["RtlAllocateHeap", "RtlFreeHeap"]
KERNEL32_DEF = ["GetProcAddress", "LoadLibraryA", "HeapAlloc = NTDLL.RtlAllocateHeap"]
# The inetsrv copy of kernel32.dll that KnownDLLs shadows: it lacks
# GetProcAddress, which would break every importer if it were loaded.
KERNEL32_SHADOW_DEF = ["LoadLibraryA"]
ISATQ_OLD_DEF = ["AtqInitialize", "AtqTerminate"]
ISATQ_NEW_DEF = ISATQ_OLD_DEF + ["AtqSetInfo2"]
INFOCOMM_DEF = ["InfoInitialize", "TsCacheFlush @5 NONAME"]
SSINC_DEF = ["SsiInitialize"]


class LinkedPe:
    """Mixed into factory.Pe: a PE whose bytes this module builds (cached in
    factory's _DLL_CACHE under a key that names the case)."""


def _pe_class(fx):
    class Linked(fx.Pe, LinkedPe):
        def __init__(self, tag, *a, **kw):
            super().__init__(*a, **kw)
            self.tag = tag

        def key(self):
            return super().key() + ("loader", self.tag)

    return Linked


def _run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def _rc(name, ver, desc, product, exe):
    v = ",".join(str(x) for x in ver)
    vs = ".".join(str(x) for x in ver)
    return f"""1 VERSIONINFO
FILEVERSION {v}
PRODUCTVERSION {v}
FILEFLAGSMASK 0x3F
FILEFLAGS 0x0
FILEOS 0x40004
FILETYPE {"0x1" if exe else "0x2"}
FILESUBTYPE 0x0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "Microsoft Corporation"
      VALUE "FileDescription", "{desc}"
      VALUE "FileVersion", "{vs}"
      VALUE "InternalName", "{os.path.splitext(name)[0]}"
      VALUE "OriginalFilename", "{name}"
      VALUE "ProductName", "{product}"
      VALUE "ProductVersion", "{vs}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"""


def _def_names(lines):
    """The C function names a .def's EXPORTS define here (not forwarders)."""
    out = []
    for line in lines:
        if "=" in line:
            continue
        out.append(line.split()[0])
    return out


def build_module(d, name, ver, desc, product, exports=(), imports=(), delay=(), exe=False, arch="i686"):
    """Builds one module in folder d and returns its bytes.
    exports: .def EXPORTS lines; imports/delay: (dll, def lines, [used names])."""
    os.makedirs(d, exist_ok=True)
    cc = arch + "-w64-mingw32-gcc"
    tool = arch + "-w64-mingw32-"
    with open(os.path.join(d, "v.rc"), "w") as f:
        f.write(_rc(name, ver, desc, product, exe))
    _run([tool + "windres", "-O", "coff", "v.rc", "-o", "v.o"], d)
    src = []
    if exe:
        src.append("void ExeMain(void) { }")
    else:
        src.append("int __stdcall DllMain(void *h, unsigned long r, void *p) { (void)h; (void)r; (void)p; return 1; }")
    for fn in _def_names(exports):
        src.append(f"int {fn}(void) {{ return {sum(fn.encode()) & 0xFFF}; }}")
    libs = []
    used = []
    for kind, items in (("l", imports), ("y", delay)):
        for dll, lines, names in items:
            stem = os.path.splitext(dll)[0].lower()
            dfile = os.path.join(d, f"imp-{kind}-{stem}.def")
            with open(dfile, "w") as f:
                f.write(f"LIBRARY {dll}\nEXPORTS\n" + "".join(f"  {x}\n" for x in lines))
            lib = f"lib{kind}{stem}.a"
            _run([tool + "dlltool", "-d", dfile, "-" + kind, lib, "-D", dll], d)
            libs.append(lib)
            used += names
    for fn in used:
        src.append(f"__declspec(dllimport) int {fn}(void);")
    if used:
        src.append("int verskew_use(void) { return " + " + ".join(f"{fn}()" for fn in used) + "; }")
    if delay:
        # The delay-load helper the library's thunks call (normally from the
        # CRT); a stand-in: these images are never run.
        if arch == "i686":
            src.append("void *__stdcall __delayLoadHelper2(const void *d, void **f) { (void)d; return *f; }")
        else:
            src.append("void *__delayLoadHelper2(const void *d, void **f) { (void)d; return *f; }")
    with open(os.path.join(d, "m.c"), "w") as f:
        f.write("\n".join(src) + "\n")
    objs = ["m.c", "v.o"]
    if exports:
        with open(os.path.join(d, "x.def"), "w") as f:
            f.write(f"LIBRARY {name}\nEXPORTS\n" + "".join(f"  {x}\n" for x in exports))
        objs.append("x.def")
    cmd = [cc, "-Os", "-fno-ident", "-fno-asynchronous-unwind-tables", "-nostdlib", "-s",
           "-Wl,--no-insert-timestamp,--disable-auto-image-base"]
    if exe:
        cmd += ["-e", "_ExeMain" if arch == "i686" else "ExeMain"]
    else:
        cmd += ["-shared", "-e", "_DllMain@12" if arch == "i686" else "DllMain"]
    if delay:
        cmd += ["-Wl,-Map=map.txt"]
    cmd += ["-o", name.lower()] + objs + libs
    _run(cmd, d)
    with open(os.path.join(d, name.lower()), "rb") as f:
        data = bytearray(f.read())
    if delay:
        data = set_delay_directory(data, os.path.join(d, "map.txt"), len(delay))
        with open(os.path.join(d, name.lower()), "wb") as f:
            f.write(data)
    return bytes(data)


def set_delay_directory(data, map_path, count):
    """GNU ld 2.40 links dlltool's delay-import descriptors but leaves data
    directory 13 empty: point it at the first descriptor (from the link
    map), `count` descriptors and the null one after them."""
    addrs = []
    with open(map_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and "DELAY_IMPORT_DESCRIPTOR_" in parts[1]:
                addrs.append(int(parts[0], 16))
    if len(addrs) != count:
        raise RuntimeError("%s: %d delay descriptors in the map, expected %d" % (map_path, len(addrs), count))
    nt = struct.unpack_from("<I", data, 0x3C)[0]
    magic = struct.unpack_from("<H", data, nt + 24)[0]
    base = struct.unpack_from("<I", data, nt + 24 + 28)[0] if magic == 0x10B else \
        struct.unpack_from("<Q", data, nt + 24 + 24)[0]
    dd = nt + 24 + (96 if magic == 0x10B else 112)
    struct.pack_into("<II", data, dd + 8 * 13, min(addrs) - base, 32 * (count + 1))
    return data


def kernel32(dll="kernel32.dll"):
    return ("kernel32.dll", KERNEL32_DEF, [])


# The cases: which modules each image replaces or adds, as
# (folder, name, version, exports, imports, delay, exe, arch).
# Folders: "s32" system32, "inet" system32\inetsrv.
def case_modules(case):
    v4 = (4, 2, 769, 1)
    nt = (4, 0, 1381, 133)
    k32 = ("kernel32.dll", KERNEL32_DEF, ["GetProcAddress", "HeapAlloc"])
    isatq_new = ("isatq.dll", ISATQ_NEW_DEF, ["AtqInitialize"])
    infocomm = ("infocomm.dll", INFOCOMM_DEF, ["InfoInitialize", "TsCacheFlush"])
    mods = [
        ("s32", "ntdll.dll", nt, NTDLL_DEF, [], [], False, "i686"),
        ("s32", "kernel32.dll", nt, KERNEL32_DEF, [("ntdll.dll", NTDLL_DEF, ["RtlFreeHeap"])], [], False, "i686"),
        ("inet", "inetinfo.exe", v4, [], [k32], [], True, "i686"),
        ("inet", "isatq.dll", v4, ISATQ_NEW_DEF, [k32], [], False, "i686"),
        ("inet", "infocomm.dll", v4, INFOCOMM_DEF, [isatq_new, k32], [], False, "i686"),
        ("inet", "ssinc.dll", v4, SSINC_DEF, [k32], [], False, "i686"),
    ]
    w3_imports = [isatq_new, infocomm, k32]
    w3_delay = []
    if case == "healthy":
        # An inetsrv copy of kernel32.dll without GetProcAddress: KnownDLLs
        # make the loader use system32's, so nothing breaks.
        mods.append(("inet", "kernel32.dll", nt, KERNEL32_SHADOW_DEF, [], [], False, "i686"))
    if case == "broken-import":
        # w3svc.dll from a later hotfix calls AtqSetInfo2; isatq.dll on disk
        # is the Option Pack one, which does not export it.
        w3_imports = [("isatq.dll", ISATQ_NEW_DEF, ["AtqInitialize", "AtqSetInfo2"]), infocomm, k32]
        mods = [m for m in mods if m[1] != "isatq.dll"]
        mods.append(("inet", "isatq.dll", v4, ISATQ_OLD_DEF, [k32], [], False, "i686"))
    if case == "delay":
        # w3svc.dll delay-loads ssinc.dll for SsiParseFile, which it does not export.
        w3_delay = [("ssinc.dll", SSINC_DEF + ["SsiParseFile"], ["SsiInitialize", "SsiParseFile"])]
    if case == "missing-dependency":
        # Proxy Server's W3pcfg.dll needs wspapi.dll, which no folder holds.
        mods.append(("inet", "W3pcfg.dll", (2, 0, 372, 0),
                     [], [("wspapi.dll", ["WspGetConfig"], ["WspGetConfig"]), k32], [], False, "i686"))
    if case == "wrong-machine":
        # A 64-bit build of an ISAPI filter named in W3SVC\Parameters\Filter DLLs.
        mods.append(("inet", "authfilt.dll", v4, ["GetFilterVersion", "HttpFilterProc"], [], [], False, "x86_64"))
    mods.append(("inet", "w3svc.dll", v4, ["W3SvcStart"], w3_imports, w3_delay, False, "i686"))
    return mods


def dlls(work, fx, case):
    """{(folder, name): (bytes, version, arch)} for one case."""
    out = {}
    for folder, name, ver, exports, imports, delay, exe, arch in case_modules(case):
        d = os.path.join(work, "loader-pe", case, folder, name.lower())
        desc = fx.IIS4_DESC.get(name.lower(), name)
        data = build_module(d, name, ver, desc, fx.NT4_PRODUCT, exports, imports, delay, exe, arch)
        out[(folder, name)] = (data, ver, arch)
    return out


CASES = {
    "healthy": "NT 4.0 SP6 + IIS 4 whose modules really import from each other, all resolving: w3svc.dll imports "
               "kernel32.dll!HeapAlloc (forwarded to NTDLL.RtlAllocateHeap) and infocomm.dll's ordinal 5 (NONAME); "
               "an inetsrv copy of kernel32.dll without GetProcAddress is shadowed by KnownDLLs (the system32 one "
               "is used), so nothing breaks.",
    "broken-import": "As nt4-loader-healthy, but w3svc.dll imports AtqSetInfo2 from isatq.dll and the isatq.dll on "
                     "disk does not export it: the WWW service fails with 127 ERROR_PROC_NOT_FOUND.",
    "missing-dependency": "As nt4-loader-healthy, plus Proxy Server's W3pcfg.dll registered as an AddOnServices "
                          "DLL; it imports wspapi.dll, which no folder of the search order holds (126).",
    "wrong-machine": "As nt4-loader-healthy, plus a 64-bit (x64) authfilt.dll listed in W3SVC\\Parameters\\Filter "
                     "DLLs: inetinfo.exe is 32-bit, so loading it fails with 193.",
    "delay": "As nt4-loader-healthy, but w3svc.dll delay-loads ssinc.dll for SsiParseFile, which ssinc.dll does not "
             "export: the service starts; the first call fails (warning).",
}


def build(F, fx):
    """The loader images, added to F's manifest."""
    Linked = _pe_class(fx)
    for case, description in CASES.items():
        name = "nt4-loader-" + case
        built = dlls(F.work, fx, case)

        def builder(case=case, built=built):
            files, sysh, sw, meta = fx.nt4_image("healthy")
            by_name = {}
            for (folder, fname), (data, ver, arch) in built.items():
                pe = Linked((case, folder), fname, ver, "%d.%d.%d.%d" % ver, fx.IIS4_DESC.get(fname.lower(), fname),
                            fx.NT4_PRODUCT, exe=fname.endswith(".exe"))
                fx._DLL_CACHE[pe.key()] = data
                parts = ("WINNT", "system32") + (("inetsrv",) if folder == "inet" else ()) + (fname,)
                by_name[tuple(p.lower() for p in parts)] = (parts, pe)
            kept = []
            for f in files:
                k = tuple(p.lower() for p in f.path)
                if k in by_name:
                    parts, pe = by_name.pop(k)
                    f.pe = pe
                    f.mtime = T_BUILD if f.path[-1].lower() in ("w3svc.dll", "w3pcfg.dll", "authfilt.dll") else f.mtime
                kept.append(f)
            for parts, pe in by_name.values():
                kept.append(fx.FileSpec(parts, T_BUILD if parts[-1].lower() != "ntdll.dll" else fx.T_SP6, pe=pe))
            for cs in ("ControlSet001", "ControlSet002"):
                sm = cs + "\\Control\\Session Manager"
                sysh.key(sm + "\\KnownDLLs", [
                    ("kernel32", fx.reg_sz("kernel32.dll")),
                    ("DllDirectory", fx.reg_expand("%SystemRoot%\\system32")),
                ])
                sysh.key(sm + "\\Environment", [
                    ("Path", fx.reg_expand("%SystemRoot%\\system32;%SystemRoot%")),
                    ("windir", fx.reg_expand("%SystemRoot%")),
                ])
                if case == "wrong-machine":
                    params = sysh.keys[(cs, "Services", "W3SVC", "Parameters")]
                    params.append(("Filter DLLs", fx.reg_sz("C:\\WINNT\\System32\\inetsrv\\authfilt.dll")))
            if case == "missing-dependency":
                addon = sw.keys[("Microsoft", "INetMgr", "Parameters", "AddOnServices")]
                addon.append(("Web Proxy", fx.reg_sz("C:\\WINNT\\System32\\inetsrv\\W3pcfg.dll")))
            return kept, sysh, sw, meta

        vol, files, hives, meta = F.volume(name, builder, fx.NT4_SIZE)
        F.place(vol, name + ".img")
        F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta, description, expected(fx, case))


def expected(fx, case):
    inet = "\\WINNT\\system32\\inetsrv\\"
    return {
        "healthy": [],
        "broken-import": [fx.finding("broken-import", "error", inet + "w3svc.dll")],
        "missing-dependency": [fx.finding("missing-dependency", "error", inet + "W3pcfg.dll")],
        "wrong-machine": [fx.finding("wrong-machine", "error", inet + "authfilt.dll")],
        "delay": [fx.finding("broken-delay-import", "warning", inet + "w3svc.dll")],
    }[case]

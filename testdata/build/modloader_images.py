"""The loader check on IIS 7+ modules, and WOF-compressed inetsrv on
Windows Server 2019 (issue 13).

The Server 2019 / IIS 10 install of iis7_images (its builders are taken by
running iis7_images.build against a recording factory, so that module stays
as it is), with a system32 that really holds the core DLLs: x64 stand-ins of
ntdll.dll and kernel32.dll in System32 and x86 ones in SysWOW64, KnownDLLs
(kernel32, DllDirectory, DllDirectory32) and PATH in SYSTEM. A vendor
native module, ContosoCache (%ProgramFiles%\\Contoso\\Cache\\ccache.dll, an
x64 build and an x86 build under Program Files (x86)), imports
vcruntime140.dll and msvcp140.dll: the Visual C++ 2015-2022 runtime, whose
stand-ins are built here too (x64 in System32, x86 in SysWOW64). Every DLL
is built by mingw from C and .def files (loader_images.build_module).

  w2k19-iis10-vcruntime-healthy   both runtimes installed: quiet
  w2k19-iis10-vcruntime-missing   no x64 runtime in System32: the 64-bit
                                  worker (DefaultAppPool) cannot load ccache.dll (126)
  w2k19-iis10-vcruntime32-missing the x64 runtime in System32, no x86 one in
                                  SysWOW64: the 32-bit worker (Legacy32) cannot load
                                  the x86 ccache.dll (126), the 64-bit one is fine

And, beside them in wof/ (not in images.toml: The Sleuth Kit, which the
fixture checks read with, cannot decompress WOF files), the healthy and the
other-build Server 2019 images with every file of System32\\inetsrv and
SysWOW64\\inetsrv WOF-compressed by wimlib (wof_images helpers), the four
algorithms in turn; iisres.dll carries 48 KiB of random data after its
sections (as a signature or resource blob would) so chunks that do not
shrink are stored raw:

  wof/w2k19-iis10-wof-healthy.img       as w2k19-iis10-healthy: quiet
  wof/w2k19-iis10-wof-other-build.img   as w2k19-iis10-other-build: iiscore.dll of 10.0.14393
  wof/w2k19-manifest.toml               each compressed file: algorithm, size,
                                        raw chunks, SHA-256 and version of the original

Called from factory.build_all as modloader_images.build(F, factory_module).
"""

import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

import iis7_images
import loader_images
import wof_images

T_RUNTIME = "2021-05-20T09:00:00Z"
T_VENDOR = "2021-06-02T14:00:00Z"
T_CORE = "2021-03-10T02:00:00Z"

VCRUNTIME_DEF = ["__std_type_info_destroy_list", "__std_exception_copy", "__std_exception_destroy"]
MSVCP_DEF = ["_Thrd_yield", "_Thrd_sleep"]
NTDLL_DEF = ["RtlAllocateHeap", "RtlFreeHeap"]
KERNEL32_DEF = ["GetProcAddress", "LoadLibraryA", "HeapAlloc = NTDLL.RtlAllocateHeap"]

CORE_VER = (10, 0, 17763, 1852)
VC_VER = (14, 29, 30139, 0)
CACHE_VER = (5, 1, 0, 12)
OS_PRODUCT = "Microsoft(R) Windows(R) Operating System"
VC_PRODUCT = "Microsoft(R) Visual Studio(R) 2019"
CACHE_PRODUCT = "Contoso Cache for IIS"

MODULE = ("ContosoCache", "%ProgramFiles%\\Contoso\\Cache\\ccache.dll")


class _Recorder:
    """Stands in for the factory while iis7_images.build runs: keeps each
    image's builder, builds nothing."""

    def __init__(self):
        self.builders = {}

    def volume(self, name, builder, size, **kw):
        self.builders[name] = builder
        return None, [], [], {}

    def place(self, *a, **kw):
        pass

    def add(self, *a, **kw):
        pass


def server2019_builders(fx):
    rec = _Recorder()
    iis7_images.build(rec, fx)
    return rec.builders


def _dlls(work, fx):
    """{(arch, name): (bytes, version, product, desc)} of every DLL built here."""
    k32 = ("kernel32.dll", KERNEL32_DEF, ["GetProcAddress", "HeapAlloc"])
    vc = ("vcruntime140.dll", VCRUNTIME_DEF, ["__std_type_info_destroy_list", "__std_exception_copy"])
    out = {}
    for arch in ("x86_64", "i686"):
        specs = [
            ("ntdll.dll", CORE_VER, OS_PRODUCT, "NT Layer DLL", NTDLL_DEF, []),
            ("kernel32.dll", CORE_VER, OS_PRODUCT, "Windows NT BASE API Client DLL", KERNEL32_DEF,
             [("ntdll.dll", NTDLL_DEF, ["RtlFreeHeap"])]),
            ("vcruntime140.dll", VC_VER, VC_PRODUCT, "Microsoft C Runtime Library", VCRUNTIME_DEF, [k32]),
            ("msvcp140.dll", VC_VER, VC_PRODUCT, "Microsoft C Runtime Library", MSVCP_DEF, [vc, k32]),
            ("ccache.dll", CACHE_VER, CACHE_PRODUCT, "Contoso Output Cache Module", ["RegisterModule"],
             [vc, ("msvcp140.dll", MSVCP_DEF, ["_Thrd_yield"]), k32]),
        ]
        for name, ver, product, desc, exports, imports in specs:
            d = os.path.join(work, "modloader-pe", arch, name)
            data = loader_images.build_module(d, name, ver, desc, product, exports, imports, arch=arch)
            out[(arch, name)] = (data, ver, product, desc)
    return out


def _add_module(cfg):
    """applicationHost.config with ContosoCache in <globalModules> and <modules>."""
    name, image = MODULE
    g = ('      <add name="%s" image="%s" />\r\n    </globalModules>' % (name, image)).encode()
    m = ('      <add name="%s" />\r\n    </modules>' % name).encode()
    assert b"    </globalModules>" in cfg and b"    </modules>" in cfg
    return cfg.replace(b"    </globalModules>", g, 1).replace(b"    </modules>", m, 1)


def _variant(fx, base, built, kind):
    Linked = loader_images._pe_class(fx)

    def builder():
        files, sysh, sw, meta = base()
        machine = {"x86_64": "x64", "i686": "x86"}

        def place(parts, arch, name, when):
            data, ver, product, desc = built[(arch, name)]
            pe = Linked(("modloader", arch), name, ver, "%d.%d.%d.%d" % ver, desc, product,
                        machine=machine[arch])
            fx._DLL_CACHE[pe.key()] = data
            files.append(fx.FileSpec(parts + (name,), when, pe=pe))

        for arch, system in (("x86_64", "System32"), ("i686", "SysWOW64")):
            for n in ("ntdll.dll", "kernel32.dll"):
                place(("Windows", system), arch, n, T_CORE)
            gone = (kind == "vcruntime-missing" and arch == "x86_64") or \
                   (kind == "vcruntime32-missing" and arch == "i686")
            if not gone:
                for n in ("vcruntime140.dll", "msvcp140.dll"):
                    place(("Windows", system), arch, n, T_RUNTIME)
        place(("Program Files", "Contoso", "Cache"), "x86_64", "ccache.dll", T_VENDOR)
        place(("Program Files (x86)", "Contoso", "Cache"), "i686", "ccache.dll", T_VENDOR)
        for f in files:
            if f.path[-1] == "applicationHost.config":
                f.data = _add_module(f.data)
                f.mtime = T_VENDOR
        cs = meta["control_set"]
        sm = cs + "\\Control\\Session Manager"
        sysh.key(sm + "\\KnownDLLs", [
            ("kernel32", fx.reg_sz("kernel32.dll")),
            ("DllDirectory", fx.reg_expand("%SystemRoot%\\system32")),
            ("DllDirectory32", fx.reg_expand("%SystemRoot%\\SysWOW64")),
        ])
        sysh.key(sm + "\\Environment", [
            ("Path", fx.reg_expand("%SystemRoot%\\system32;%SystemRoot%;%SystemRoot%\\System32\\Wbem")),
        ])
        return files, sysh, sw, meta

    return builder


# The image's iisres.dll: a version resource, then random bytes after the
# sections (a signature or resource blob is as incompressible).
def _iisres(fx):
    Linked = loader_images._pe_class(fx)
    out = {}
    for arch, machine in (("x86_64", "x64"), ("i686", "x86")):
        pe = Linked(("modloader-iisres", arch), "iisres.dll", (10, 0, 17763, 1), "10.0.17763.1 (WinBuild.160101.0800)",
                    "IIS Resource DLL", OS_PRODUCT, machine=machine)
        base = fx.build_pe(fx.Pe("iisres.dll", pe.ver, pe.vstr, pe.desc, pe.product, machine=machine),
                           _iisres.work)
        fx._DLL_CACHE[pe.key()] = base + random.Random(1809 + len(arch)).randbytes(48 * 1024)
        out[arch] = pe
    return out


def _with_iisres(fx, base):
    def builder():
        files, sysh, sw, meta = base()
        pes = _iisres(fx)
        files.append(fx.FileSpec(("Windows", "System32", "inetsrv", "iisres.dll"), T_CORE, pe=pes["x86_64"]))
        files.append(fx.FileSpec(("Windows", "SysWOW64", "inetsrv", "iisres.dll"), T_CORE, pe=pes["i686"]))
        return files, sysh, sw, meta
    return builder


FOLDERS = ("Windows/System32/inetsrv", "Windows/SysWOW64/inetsrv")


def compress(img, files):
    """WOF-compresses every file of FOLDERS in `img` (ntfs-3g: the named
    stream and system.ntfs_reparse_data; wimlib compresses), the four
    algorithms in turn over the sorted paths, keeping each file's times.
    Returns one manifest record per file."""
    versions = {f.winpath().lower(): "%d.%d.%d.%d" % f.pe.ver for f in files if f.pe}
    mnt = tempfile.mkdtemp(prefix="wof-mnt-")
    subprocess.run(["ntfs-3g", "-o", "streams_interface=windows", img, mnt], check=True)
    done = []
    k = 0
    try:
        for folder in FOLDERS:
            base = os.path.join(mnt, *folder.split("/"))
            for name in sorted(os.listdir(base)):
                path = os.path.join(base, name)
                if not os.path.isfile(path):
                    continue
                algo = (1, 0, 3, 2)[k % 4]
                k += 1
                times = os.getxattr(path, "system.ntfs_times")
                with open(path, "rb") as f:
                    data = f.read()
                stream, raw = wof_images.wof_stream(algo, data)
                with open(path, "wb") as f:
                    f.truncate(len(data))
                with open(path + ":WofCompressedData", "wb") as f:
                    f.write(stream)
                os.setxattr(path, "system.ntfs_reparse_data", wof_images.reparse_wof(algo))
                os.setxattr(path, "system.ntfs_times", times)
                win = "\\" + folder.replace("/", "\\") + "\\" + name
                done.append(dict(path=win, algorithm=wof_images.ALGOS[algo][0], size=len(data), raw_chunks=raw,
                                 sha256=hashlib.sha256(data).hexdigest(), version=versions.get(win.lower(), "")))
    finally:
        os.sync()
        subprocess.run(["umount", mnt], check=True)
        os.rmdir(mnt)
    return done


def build(F, fx):
    builders = server2019_builders(fx)
    built = _dlls(F.work, fx)
    cases = [
        ("w2k19-iis10-vcruntime-healthy", "vcruntime-healthy",
         "The healthy Server 2019 image with a system32 that holds the core DLLs (x64 ntdll.dll and kernel32.dll in "
         "System32, x86 ones in SysWOW64; KnownDLLs with DllDirectory32) and a vendor native module, ContosoCache "
         "(%ProgramFiles%\\Contoso\\Cache\\ccache.dll, x64 and x86 builds), importing vcruntime140.dll and "
         "msvcp140.dll: the Visual C++ 2015-2022 runtime is installed for both bitnesses. Every import binds: quiet.",
         []),
        ("w2k19-iis10-vcruntime-missing", "vcruntime-missing",
         "As w2k19-iis10-vcruntime-healthy, but the x64 Visual C++ runtime is not installed (no vcruntime140.dll or "
         "msvcp140.dll in System32): the 64-bit worker of DefaultAppPool cannot load ccache.dll (event 2280, error "
         "126) and the pool answers 503; the 32-bit worker (Legacy32) finds the x86 runtime in SysWOW64.",
         [fx.finding("missing-dependency", "error", "\\Program Files\\Contoso\\Cache\\ccache.dll")]),
        ("w2k19-iis10-vcruntime32-missing", "vcruntime32-missing",
         "As w2k19-iis10-vcruntime-healthy, but only the x64 runtime is installed (System32), none in SysWOW64: the "
         "32-bit worker of Legacy32 reads system32 as SysWOW64 and cannot load the x86 ccache.dll (126); "
         "DefaultAppPool is fine.",
         [fx.finding("missing-dependency", "error", "\\Program Files (x86)\\Contoso\\Cache\\ccache.dll")]),
    ]
    for name, kind, desc, findings in cases:
        vol, files, hives, meta = F.volume(name, _variant(fx, builders["w2k19-iis10-healthy"], built, kind),
                                           iis7_images.SIZE, label="Windows")
        F.place(vol, name + ".img")
        F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta, desc, findings)

    # WOF-compressed inetsrv (Server 2019 compresses system files with
    # CompactOS / compact /exe).
    _iisres.work = F.work
    records = []
    for name, src in (("w2k19-iis10-wof-healthy", "w2k19-iis10-healthy"),
                      ("w2k19-iis10-wof-other-build", "w2k19-iis10-other-build")):
        vol, files, hives, meta = F.volume(name, _with_iisres(fx, builders[src]), iis7_images.SIZE, label="Windows")
        img = os.path.join(F.work, name + ".wof.img")
        shutil.copyfile(vol, img)
        for r in compress(img, files):
            r["image"] = "wof/%s.img" % name
            r["twin"] = src
            records.append(r)
        F.place(img, "wof/%s.img" % name)
    lines = ["# Generated by testdata/build/modloader_images.py: the files of the Server 2019",
             "# images' System32\\inetsrv and SysWOW64\\inetsrv, WOF-compressed by wimlib",
             "# (libwim.so.15) through ntfs-3g. sha256 and version are of the original bytes;",
             "# twin is the images.toml image whose findings the compressed one must give.", ""]
    for r in records:
        lines += ["[[file]]", 'image = "%s"' % r["image"], 'twin = "%s"' % r["twin"], "path = '%s'" % r["path"],
                  'algorithm = "%s"' % r["algorithm"], "size = %d" % r["size"], "raw_chunks = %d" % r["raw_chunks"],
                  'sha256 = "%s"' % r["sha256"], 'version = "%s"' % r["version"], ""]
    os.makedirs(os.path.join(F.out, "wof"), exist_ok=True)
    with open(os.path.join(F.out, "wof", "w2k19-manifest.toml"), "w") as f:
        f.write("\n".join(lines))
    algos = {r["algorithm"] for r in records}
    assert algos == {"xpress4k", "xpress8k", "xpress16k", "lzx"}, algos
    assert any(r["raw_chunks"] for r in records), "no stored chunk"
    print("modloader_images: %d WOF-compressed files, %d raw chunks" %
          (len(records), sum(r["raw_chunks"] for r in records)), file=sys.stderr)

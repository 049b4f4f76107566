#!/usr/bin/python3
"""verskew test image factory.

Builds every fixture under testdata/ from one python table (IMAGES below) and
writes testdata/images.toml from the same table.  Every byte of the images is
written by independent tools:

  * DLLs/EXEs ........ i686-w64-mingw32-windres + i686-w64-mingw32-gcc
  * registry hives ... a minimal empty regf written by regf.py, filled by hivex
  * NTFS volumes ..... mkntfs + ntfs-3g (FUSE mount; needs root)
  * partition tables . sfdisk
  * containers ....... qemu-img, ewfacquire, split
  * damage ........... small byte patches below, at offsets found with
                       The Sleuth Kit (istat/ifind) or by parsing

Run it through make-all.sh (which checks the tools and sets the environment).
Use /usr/bin/python3: the hivex bindings live in Debian's python.
"""

import argparse
import datetime
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ntfs12  # noqa: E402
import regf  # noqa: E402

import hivex  # noqa: E402  (python3-hivex)

SECTOR = 512
FILETIME_UNIX = 116444736000000000

REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_MULTI_SZ = 1, 2, 4, 7


def log(*a):
    print("[factory]", *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def out_of(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def iso_to_unix(iso):
    return int(datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())


def filetime(iso):
    return iso_to_unix(iso) * 10_000_000 + FILETIME_UNIX


# --------------------------------------------------------------------------
# DLLs
# --------------------------------------------------------------------------

class Pe:
    """A tiny i686 PE with a real VERSIONINFO resource."""

    def __init__(self, name, ver, vstr, desc, product, pstr=None, pad=0, exe=False, corrupt=None, machine="x86",
                 exports=()):
        self.machine = machine  # "x86" (i686 mingw, PE32) or "x64" (x86_64 mingw, PE32+)
        self.exports = tuple(exports)  # extra exported functions (RegisterModule, GetFilterVersion, ...)
        self.name = name  # original file name (also InternalName/OriginalFilename)
        self.ver = tuple(ver)
        self.vstr = vstr  # FileVersion string as Microsoft wrote it
        self.pstr = pstr or vstr
        self.desc = desc
        self.product = product
        self.pad = pad  # bytes of compressible padding data
        self.exe = exe
        self.corrupt = corrupt  # None | "version-lengths"

    def key(self):
        return (self.name.lower(), self.ver, self.vstr, self.pstr, self.desc, self.product, self.pad, self.exe,
                self.machine, self.exports)

    def fixed_version(self):
        return "" if self.corrupt == "version-lengths" else "%d.%d.%d.%d" % self.ver


_DLL_CACHE = {}


def _rc_escape(s):
    return s.replace('"', '""')


def build_pe(pe, workdir):
    k = pe.key()
    if k not in _DLL_CACHE:
        d = os.path.join(workdir, "pe", "%03d" % len(_DLL_CACHE))
        os.makedirs(d)
        stem = os.path.splitext(pe.name)[0].lower()
        ident = re.sub(r"[^A-Za-z0-9_]", "_", stem)
        if ident in ("static", "auto", "register", "extern", "const", "default", "inline"):
            ident += "_dll"  # a C keyword (static.dll) cannot name a function
        ft = "0x1" if pe.exe else "0x2"
        v = ",".join(str(x) for x in pe.ver)
        rc = f"""1 VERSIONINFO
FILEVERSION {v}
PRODUCTVERSION {v}
FILEFLAGSMASK 0x3F
FILEFLAGS 0x0
FILEOS 0x40004
FILETYPE {ft}
FILESUBTYPE 0x0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "Microsoft Corporation"
      VALUE "FileDescription", "{_rc_escape(pe.desc)}"
      VALUE "FileVersion", "{_rc_escape(pe.vstr)}"
      VALUE "InternalName", "{_rc_escape(stem)}"
      VALUE "LegalCopyright", "Copyright (C) Microsoft Corp. 1981-2001"
      VALUE "OriginalFilename", "{_rc_escape(pe.name)}"
      VALUE "ProductName", "{_rc_escape(pe.product)}"
      VALUE "ProductVersion", "{_rc_escape(pe.pstr)}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"""
        with open(os.path.join(d, "v.rc"), "w") as f:
            f.write(rc)
        src = []
        if pe.exe:
            src.append("void ExeMain(void) { }")
        else:
            src.append("int __stdcall DllMain(void *h, unsigned long r, void *p) { (void)h; (void)r; (void)p; return 1; }")
        if pe.pad:
            # Compressible padding (text-like, repetitive) so that NTFS
            # compression units actually shrink; also makes the file span
            # several clusters.
            unit = ("%s padding: the quick brown fox jumps over the lazy dog. " % pe.name).encode()
            blob = (unit * (pe.pad // len(unit) + 1))[: pe.pad]
            arr = ",".join(str(b) for b in blob)
            src.append(f"const unsigned char {ident}_data[{pe.pad}] = {{{arr}}};")
            src.append(f"__declspec(dllexport) const unsigned char *{ident}_blob(void) {{ return {ident}_data; }}")
        for name in pe.exports:
            src.append(f"__declspec(dllexport) int {name}(void) {{ return 0; }}")
        # A distinct export named after the file, so every binary differs.
        src.append(f"__declspec(dllexport) int {ident}(void) {{ return {sum(pe.name.encode()) & 0xFFFF}; }}")
        with open(os.path.join(d, "m.c"), "w") as f:
            f.write("\n".join(src) + "\n")
        tool = {"x86": "i686-w64-mingw32", "x64": "x86_64-w64-mingw32"}[pe.machine]
        # x64 symbols carry no leading underscore and no @N decoration.
        mangle = (lambda n, at="": "_" + n + at) if pe.machine == "x86" else (lambda n, at="": n)
        run([tool + "-windres", "-O", "coff", "v.rc", "-o", "v.o"], cwd=d)
        cmd = [tool + "-gcc", "-Os", "-fno-ident", "-fno-asynchronous-unwind-tables", "-nostdlib", "-s",
               "-Wl,--no-insert-timestamp,--disable-auto-image-base"]
        if pe.exe:
            cmd += ["-e", mangle("ExeMain")]
        else:
            cmd += ["-shared", "-e", mangle("DllMain", "@12")]
        cmd += ["-o", pe.name.lower(), "m.c", "v.o"]
        run(cmd, cwd=d)
        with open(os.path.join(d, pe.name.lower()), "rb") as f:
            _DLL_CACHE[k] = f.read()
    data = _DLL_CACHE[k]
    if pe.corrupt == "version-lengths":
        data = corrupt_version_lengths(data)
    return data


def corrupt_version_lengths(data):
    """Garbage in the VS_VERSIONINFO length fields: wLength smaller than its
    own header and wValueLength far larger than the block (a strict parser
    must reject it; the VS_FIXEDFILEINFO bytes are left in place)."""
    key = "VS_VERSION_INFO".encode("utf-16-le")
    i = data.find(key)
    assert i >= 6
    b = bytearray(data)
    struct.pack_into("<HH", b, i - 6, 0x0003, 0xFFFF)
    return bytes(b)


# --------------------------------------------------------------------------
# Registry hives
# --------------------------------------------------------------------------

def reg_sz(s):
    return (REG_SZ, (s + "\0").encode("utf-16-le"))


def reg_expand(s):
    return (REG_EXPAND_SZ, (s + "\0").encode("utf-16-le"))


def reg_multi(*items):
    return (REG_MULTI_SZ, ("".join(i + "\0" for i in items) + "\0").encode("utf-16-le"))


def reg_dword(n):
    return (REG_DWORD, struct.pack("<I", n))


class Hive:
    """An ordered description of a hive: key path -> list of (name, (type, bytes)).
    key_times: key name -> ISO time for its nk timestamp (default: `when`)."""

    def __init__(self, when):
        self.keys = {}
        self.when = when
        self.key_times = {}

    def key(self, path, values=(), when=None):
        parts = tuple(p for p in path.split("\\") if p)
        for i in range(1, len(parts) + 1):
            self.keys.setdefault(parts[:i], [])
        self.keys[parts].extend(values)
        if when:
            self.key_times[parts[-1]] = when
        return self

    def build(self, path, workdir, corrupt_key=None):
        tmp = os.path.join(workdir, "empty.hiv")
        with open(tmp, "wb") as f:
            f.write(regf.empty_hive())
        h = hivex.Hivex(tmp, write=True)
        nodes = {(): h.root()}
        for parts in self.keys:  # insertion order: parents first
            if parts not in nodes:
                nodes[parts] = h.node_add_child(nodes[parts[:-1]], parts[-1])
        for parts, vals in self.keys.items():
            if vals:
                h.node_set_values(nodes[parts], [{"key": n, "t": t, "value": v} for n, (t, v) in vals])
        h.commit(path)
        del h
        with open(path, "rb") as f:
            data = bytearray(f.read())
        stamp_key_times(data, filetime(self.when), {k: filetime(v) for k, v in self.key_times.items()})
        if corrupt_key:
            corrupt_nk(data, corrupt_key)
        with open(path, "wb") as f:
            f.write(data)
        return bytes(data)


def _iter_cells(data):
    off = 4096
    while off + 32 <= len(data) and data[off:off + 4] == b"hbin":
        size = struct.unpack_from("<I", data, off + 8)[0]
        c = off + 32
        while c < off + size:
            (cs,) = struct.unpack_from("<i", data, c)
            if cs == 0:
                break
            yield c, cs
            c += abs(cs)
        off += size


def stamp_key_times(data, default, overrides):
    """Give every key (nk) a deterministic last-written time; fix the base
    block timestamp and checksum."""
    for c, cs in _iter_cells(data):
        if cs < 0 and data[c + 4:c + 6] == b"nk":
            nlen = struct.unpack_from("<H", data, c + 4 + 0x48)[0]
            name = bytes(data[c + 4 + 0x4C:c + 4 + 0x4C + nlen]).decode("latin-1")
            struct.pack_into("<Q", data, c + 4 + 4, overrides.get(name, default))
    struct.pack_into("<Q", data, 0x0C, default)
    fix_base_checksum(data)


def fix_base_checksum(data):
    cs = 0
    for (w,) in struct.iter_unpack("<I", bytes(data[:508])):
        cs ^= w
    if cs == 0xFFFFFFFF:
        cs = 0xFFFFFFFE
    elif cs == 0:
        cs = 1
    struct.pack_into("<I", data, 508, cs)


def corrupt_nk(data, keyname):
    """Damage the nk cell of `keyname`: bad signature and a cell size that runs
    past the end of its hive bin."""
    for c, cs in _iter_cells(data):
        if cs < 0 and data[c + 4:c + 6] == b"nk":
            nlen = struct.unpack_from("<H", data, c + 4 + 0x48)[0]
            name = bytes(data[c + 4 + 0x4C:c + 4 + 0x4C + nlen]).decode("latin-1")
            if name == keyname:
                data[c + 4:c + 6] = b"\xde\xad"
                struct.pack_into("<i", data, c, -0x7FFFFFF8)
                return
    raise RuntimeError("key %s not found" % keyname)


HIVE_GARBAGE = (b"verskew factory: these bytes replaced a registry hive; there is no regf base block, "
                b"no hbin and no cell here. ")


def damage_hive(data, how, path):
    """`garbage`: every byte replaced by text (same size, no regf anywhere);
    `zero-base`: the 4096-byte base block zeroed, the hive bins left intact.
    reglookup must then refuse the hive."""
    if how is None:
        return data
    if how == "garbage":
        out = (HIVE_GARBAGE * (len(data) // len(HIVE_GARBAGE) + 1))[:len(data)]
    elif how == "zero-base":
        out = b"\0" * 4096 + data[4096:]
    else:
        raise ValueError(how)
    with open(path, "wb") as f:
        f.write(out)
    r = subprocess.run(["reglookup", "-t", "KEY", path], capture_output=True, text=True)
    if r.returncode == 0 and len(r.stdout.splitlines()) > 1:
        raise RuntimeError("reglookup still reads the damaged hive %s" % path)
    return out


def validate_hive(path, expect_paths):
    """reglookup must parse the hive and list the keys we wrote; hivex must
    reopen it."""
    r = subprocess.run(["reglookup", "-t", "KEY", path], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("reglookup failed on %s: %s" % (path, r.stderr))
    listed = set(line.split(",")[0] for line in r.stdout.splitlines()[1:])
    for p in expect_paths:
        if p not in listed:
            raise RuntimeError("reglookup does not list %s in %s" % (p, path))
    h = hivex.Hivex(path)
    h.root()


# --------------------------------------------------------------------------
# File sets (the knowledge of what each image holds)
# --------------------------------------------------------------------------

NT4_PRODUCT = "Microsoft(R) Windows NT(TM) Operating System"
W2K_PRODUCT = "Microsoft(R) Windows (R) 2000 Operating System"
W2K3_PRODUCT = "Microsoft(R) Windows(R) Operating System"

IIS4_DESC = {
    "admwprox.dll": "IIS Admin Com API Proxy dll",
    "adsiis.dll": "Active DS IIS Provider",
    "asp.dll": "Active Server Pages",
    "coadmin.dll": "IIS Admin Com API",
    "fscfg.dll": "FTP Service Configuration",
    "ftpctrs2.dll": "FTP Service Performance Counters",
    "ftpsvc2.dll": "FTP Service",
    "httpodbc.dll": "Internet Database Connector",
    "iisadmin.dll": "IIS Admin Service",
    "iischema.dll": "IIS Schema",
    "iislog.dll": "IIS Logging",
    "inetinfo.exe": "Internet Information Services",
    "infoadmn.dll": "Internet Information Services Admin API",
    "infocomm.dll": "Internet Information Services Common",
    "isatq.dll": "Asynchronous Thread Queue",
    "iscomlog.dll": "IIS Common Logging Interface",
    "ism.dll": "Internet Service Manager",
    "mdsync.dll": "IIS Metabase Synchronization",
    "metadata.dll": "IIS Metabase",
    "schmupd.exe": "IIS Schema Update",
    "ssinc.dll": "Server Side Includes",
    "sspifilt.dll": "Security Support Provider Filter",
    "w3ctrs.dll": "WWW Service Performance Counters",
    "w3scfg.dll": "WWW Service Configuration",
    "w3svc.dll": "WWW Service",
    "wam.dll": "Web Application Manager",
    # NT4 Option Pack SMTP / NNTP
    "smtpsvc.dll": "Microsoft SMTP Service",
    "smtpctrs.dll": "SMTP Service Performance Counters",
    "smtpsnap.dll": "SMTP Snap-In",
    "mboxapi.dll": "Mailbox API",
    "nntpsvc.dll": "Microsoft NNTP Service",
    "nntpsnap.dll": "NNTP Snap-In",
    # Proxy Server 2.0
    "mspip.dll": "Microsoft Proxy Server Internal Protocol",
    "w3pcfg.dll": "Web Proxy Configuration",
    "wspcfg.dll": "WinSock Proxy Configuration",
    "sockscfg.dll": "Socks Proxy Configuration",
}

# IIS 4 files in inetsrv (WWW/FTP/admin), lower-case names as on a typical NT4 disk.
IIS4_CORE = [
    "admwprox.dll", "adsiis.dll", "asp.dll", "coadmin.dll", "fscfg.dll", "ftpctrs2.dll", "ftpsvc2.dll",
    "httpodbc.dll", "iisadmin.dll", "iischema.dll", "iislog.dll", "inetinfo.exe", "infoadmn.dll",
    "infocomm.dll", "isatq.dll", "iscomlog.dll", "ism.dll", "mdsync.dll", "metadata.dll", "schmupd.exe",
    "ssinc.dll", "sspifilt.dll", "w3ctrs.dll", "w3scfg.dll", "w3svc.dll", "wam.dll",
]
NT4_SMTP_NNTP = ["smtpsvc.dll", "smtpctrs.dll", "smtpsnap.dll", "mboxapi.dll", "nntpsvc.dll", "nntpsnap.dll"]


def v4str(ver):
    """IIS 4 FileVersion strings: RTM builds are written "4.02.0622",
    post-SP hotfixes "4.2.769.1"."""
    if ver[3] == 1 and ver[2] in (622,):
        return "4.02.%04d" % ver[2]
    return "%d.%d.%d.%d" % ver


class FileSpec:
    def __init__(self, path, mtime, pe=None, data=None):
        self.path = path  # components below the volume root
        self.mtime = mtime
        self.pe = pe
        self.data = data
        self.frag = False
        self.compressed = False

    def winpath(self):
        return "\\" + "\\".join(self.path)


# Timeline of the NT4 story (UTC).
T_OP_INSTALL = "1999-11-20T10:00:00Z"  # NT4 Option Pack installed
T_SP6 = "2000-03-14T09:12:00Z"  # A: Service Pack 6 applied
T_Q252174 = "2000-06-12T15:20:00Z"
T_Q276354 = "2001-01-15T13:40:00Z"
T_Q288855 = "2001-05-20T14:30:00Z"
T_Q301625 = "2001-08-20T16:45:00Z"  # C: MS01-044 installed
T_Q304876 = "2001-09-05T09:30:00Z"
T_WWW_READD = "2001-09-10T11:05:00Z"  # B: WWW service re-added from the Option Pack CD
T_Q321599 = "2002-06-20T10:10:00Z"
T_PROXY = "2000-05-02T12:00:00Z"
T_LAST_BOOT = "2001-10-01T08:00:00Z"
T_LAST_BOOT_HEALTHY = "2002-07-01T08:00:00Z"
T_ACQUIRE = "2001-10-02T12:00:00Z"  # when the "evidence" containers were made

NT4_HOTFIX_INFO = {
    "Q252174": ("IISAdmin Fails to Start When the Metabase Is Too Large", T_Q252174),
    "Q276354": ("Access Violation in the Metabase Causes Deadlock in WAM", T_Q276354),
    "Q288855": ("MS01-026: FTP Service Allows Login to Domain Guest Account", T_Q288855),
    "Q301625": ("MS01-044: Patch for SSI Privilege Elevation Vulnerability", T_Q301625),
    "Q304876": ("NNTP Service Hotfix", T_Q304876),
    "Q321599": ("MS02-028: Heap Overrun in HTR Chunked Encoding", T_Q321599),
}


def nt4_image(kind="kb291589", upper=False, cs2=False, proxy=False, frag=False, compressed=False,
              corrupt_version=None, corrupt_hotfix=None):
    """Return (files, system_hive, software_hive, meta) for an NT 4.0 + IIS 4 image.
    kind: "kb291589" (w3svc.dll at Option Pack RTM), "healthy", or "noiis"
    (the same NT 4.0 SP6 system without any IIS: no inetsrv folder, no IIS
    service, no InetStp or INetMgr key, no IIS hotfix)."""
    iis = kind != "noiis"
    R = "WINNT"
    files = []

    def P(*parts):
        parts = (R,) + parts
        return tuple(p.upper() for p in parts) if upper else parts

    # version of each IIS 4 core file
    vers = {n: (4, 2, 769, 1) for n in IIS4_CORE}
    times = {n: T_Q301625 for n in IIS4_CORE}
    # Files that MS01-044 (Q301625) does not ship keep the Option Pack install time.
    for n in ["admwprox.dll", "coadmin.dll", "fscfg.dll", "ftpctrs2.dll", "iisadmin.dll", "inetinfo.exe",
              "infoadmn.dll", "isatq.dll", "mdsync.dll", "metadata.dll", "w3ctrs.dll", "w3scfg.dll"]:
        times[n] = T_SP6
    hotfixes = ["Q288855", "Q301625"]
    smtp = {n: (5, 5, 1877, 19) for n in NT4_SMTP_NNTP}
    smtp_t = {n: T_SP6 for n in NT4_SMTP_NNTP}
    if kind == "kb291589":
        vers["w3svc.dll"] = (4, 2, 622, 1)
        times["w3svc.dll"] = T_WWW_READD
        last_boot = T_LAST_BOOT
    else:
        # The legitimate spread single-file hotfixes leave.
        vers["iisadmin.dll"] = (4, 2, 741, 1)
        times["iisadmin.dll"] = T_Q252174
        vers["metadata.dll"] = (4, 2, 757, 1)
        times["metadata.dll"] = T_Q276354
        vers["ism.dll"] = (4, 2, 776, 1)
        times["ism.dll"] = T_Q321599
        smtp["nntpsvc.dll"] = (5, 5, 1877, 77)
        smtp_t["nntpsvc.dll"] = T_Q304876
        hotfixes = ["Q252174", "Q276354", "Q288855", "Q301625", "Q304876", "Q321599"]
        last_boot = T_LAST_BOOT_HEALTHY

    pads = {}
    if compressed:
        pads = {"w3svc.dll": 80 * 1024, "infocomm.dll": 72 * 1024, "asp.dll": 40 * 1024}

    inetsrv = P("system32", "inetsrv")
    for n in (IIS4_CORE if iis else []):
        name = n.upper() if upper else n
        pe = Pe(n, vers[n], v4str(vers[n]), IIS4_DESC[n], NT4_PRODUCT, pad=pads.get(n, 0),
                exe=n.endswith(".exe"), corrupt="version-lengths" if corrupt_version == n else None)
        fs = FileSpec(inetsrv + (name,), times[n], pe=pe)
        fs.frag = frag and n == "w3svc.dll"
        fs.compressed = compressed
        files.append(fs)
    for n in (NT4_SMTP_NNTP if iis else []):
        name = n.upper() if upper else n
        pe = Pe(n, smtp[n], "%d.%d.%d.%d" % smtp[n], IIS4_DESC[n], NT4_PRODUCT)
        fs = FileSpec(inetsrv + (name,), smtp_t[n], pe=pe)
        fs.compressed = compressed
        files.append(fs)
    if proxy:
        # Proxy Server 2.0 (version numbers illustrative); Sockscfg.dll is absent.
        for n, nm in [("mspip.dll", "Mspip.dll"), ("w3pcfg.dll", "W3pcfg.dll"), ("wspcfg.dll", "Wspcfg.dll")]:
            pe = Pe(nm, (2, 0, 372, 0), "2.0.372.0", IIS4_DESC[n], "Microsoft(R) Proxy Server")
            files.append(FileSpec(inetsrv + ((nm.upper() if upper else nm),), T_PROXY, pe=pe))

    # Backups kept by the Q301625 hotfix: the 4.2.764.1 (Q288855) files it replaced.
    for n in (["asp.dll", "infocomm.dll", "w3svc.dll"] if iis else []):
        pe = Pe(n, (4, 2, 764, 1), "4.2.764.1", IIS4_DESC[n], NT4_PRODUCT)
        files.append(FileSpec(P("$NtUninstallQ301625$", n.upper() if upper else n), T_Q301625, pe=pe))
    files.append(FileSpec(P("$NtServicePackUninstall$", "spuninst", "SPUNINST.INF" if upper else "spuninst.inf"),
                          T_SP6, data=b"[Version]\r\nSignature=\"$Windows NT$\"\r\n; Service Pack 6 uninstall\r\n"))
    if not iis:
        # A system file and a non-IIS service that runs it (version
        # illustrative), so "no IIS component" is not "nothing at all".
        files.append(FileSpec(P("system32", "SERVICES.EXE" if upper else "services.exe"), T_SP6,
                              pe=Pe("services.exe", (4, 0, 1381, 133), "4.00", "Services and Controller app",
                                    NT4_PRODUCT, exe=True)))
        hotfixes = []
    files.append(FileSpec(("BOOT.INI",) if upper else ("boot.ini",), T_OP_INSTALL,
                          data=b"[boot loader]\r\ntimeout=30\r\ndefault=multi(0)disk(0)rdisk(0)partition(1)\\WINNT\r\n"
                               b"[operating systems]\r\nmulti(0)disk(0)rdisk(0)partition(1)\\WINNT=\"Windows NT Server Version 4.00\"\r\n"))

    # ---- SYSTEM hive
    sysh = Hive(last_boot)
    live = "ControlSet002" if cs2 else "ControlSet001"
    if cs2:
        sysh.key("Select", [("Current", reg_dword(2)), ("Default", reg_dword(2)), ("Failed", reg_dword(0)),
                            ("LastKnownGood", reg_dword(1))])
    else:
        sysh.key("Select", [("Current", reg_dword(1)), ("Default", reg_dword(1)), ("Failed", reg_dword(0)),
                            ("LastKnownGood", reg_dword(2))])
    # Two control sets: normally ControlSet002 is the LastKnownGood copy; in
    # the cs2 variant ControlSet002 is live and ControlSet001 is stale.
    for cs in ("ControlSet001", "ControlSet002"):
        stale = cs2 and cs == "ControlSet001"
        inet = "%SystemRoot%\\System32\\inetsrv\\inetinfo.exe"
        w3_image = "%SystemRoot%\\System32\\inetsrv\\inetinfo_old.exe" if stale else inet
        if iis:
            nt4_services(sysh, cs, w3_image, inet)
        else:
            sysh.key(cs + "\\Services\\EventLog", [
                ("ImagePath", reg_expand("%SystemRoot%\\system32\\services.exe")), ("Start", reg_dword(2)),
                ("Type", reg_dword(0x20)), ("ErrorControl", reg_dword(1)), ("ObjectName", reg_sz("LocalSystem")),
                ("DisplayName", reg_sz("EventLog"))])
        sysh.key(cs + "\\Control\\Windows", [("CSDVersion", reg_dword(0x600 if not stale else 0x500))])

    # ---- SOFTWARE hive
    sw = Hive(last_boot)
    sw.key("Microsoft\\Windows NT\\CurrentVersion", [
        ("CurrentVersion", reg_sz("4.0")),
        ("CurrentBuildNumber", reg_sz("1381")),
        ("CurrentType", reg_sz("Uniprocessor Free")),
        ("CSDVersion", reg_sz("Service Pack 6")),
        ("SystemRoot", reg_sz("C:\\WINNT")),
        ("RegisteredOwner", reg_sz("Contoso IT")),
        ("RegisteredOrganization", reg_sz("Contoso")),
    ])
    for q in hotfixes:
        title, when = NT4_HOTFIX_INFO[q]
        m, d, y = int(when[5:7]), int(when[8:10]), when[:4]
        sw.key("Microsoft\\Windows NT\\CurrentVersion\\Hotfix\\" + q, [
            ("Installed", reg_dword(1)),
            ("Comments", reg_sz(title)),
            ("Fix Description", reg_sz(title)),
            ("Installed By", reg_sz("Administrator")),
            ("Installed On", reg_sz("%d/%d/%s" % (m, d, y))),
            ("Service Pack", reg_dword(6)),
            ("Valid", reg_dword(1)),
        ], when=when)
    if iis:
        nt4_iis_software(sw, proxy)

    cfg = P("system32", "config")
    meta = dict(system_root="\\WINNT", os_version="4.0", os_build="1381", service_pack="Service Pack 6",
                control_set=live, hotfixes=sorted(hotfixes) if corrupt_hotfix is None
                else sorted(h for h in hotfixes if h != corrupt_hotfix),
                extra_dirs=[P("system32", "inetsrv", "MetaBack".upper() if upper else "MetaBack")] if iis else [],
                dir_times={P(): T_SP6, P("$NtServicePackUninstall$"): T_SP6,
                           P("$NtUninstallQ301625$"): T_Q301625},
                hive_paths=(cfg + ("SYSTEM",), cfg + ("SOFTWARE",)),
                corrupt_hotfix=corrupt_hotfix, hive_time=last_boot, install_time="1999-11-19T09:00:00Z",
                compress_dir=inetsrv if compressed else None, product_name="")
    return files, sysh, sw, meta


def nt4_iis_software(sw, proxy):
    sw.key("Microsoft\\InetStp", [
        ("MajorVersion", reg_dword(4)),
        ("MinorVersion", reg_dword(0)),
        ("InstallPath", reg_sz("C:\\WINNT\\System32\\inetsrv")),
        ("SetupString", reg_sz("Microsoft Internet Information Server 4.0")),
        ("PathWWWRoot", reg_sz("C:\\InetPub\\wwwroot")),
    ], when=T_OP_INSTALL)
    addon = [("WWW", reg_sz("w3scfg.dll")), ("FTP", reg_sz("fscfg.dll"))]
    if proxy:
        addon += [
            ("Web Proxy", reg_sz("C:\\WINNT\\System32\\inetsrv\\W3pcfg.dll::SUPCFG:C:\\WINNT\\System32\\inetsrv\\w3scfg.dll")),
            ("WinSock Proxy", reg_sz("C:\\WINNT\\System32\\inetsrv\\Wspcfg.dll")),
            ("Socks Proxy", reg_sz("C:\\WINNT\\System32\\inetsrv\\Sockscfg.dll")),
        ]
    sw.key("Microsoft\\INetMgr\\Parameters\\AddOnServices", addon)
    sw.key("Microsoft\\INetMgr\\Parameters", [("HelpLocation", reg_sz("C:\\WINNT\\Help\\iishelp"))])


def nt4_services(h, cs, w3_image, inet):
    base = cs + "\\Services\\"
    h.key(base + "IISADMIN", [("ImagePath", reg_expand(inet)), ("Start", reg_dword(2)), ("Type", reg_dword(0x20)),
                              ("ErrorControl", reg_dword(1)), ("ObjectName", reg_sz("LocalSystem")),
                              ("DisplayName", reg_sz("IIS Admin Service"))])
    for svc, disp, image in [("W3SVC", "World Wide Web Publishing Service", w3_image),
                             ("MSFTPSVC", "FTP Publishing Service", inet),
                             ("SMTPSVC", "Microsoft SMTP Service", inet),
                             ("NNTPSVC", "Microsoft NNTP Service", inet)]:
        h.key(base + svc, [("ImagePath", reg_expand(image)), ("Start", reg_dword(2)), ("Type", reg_dword(0x20)),
                           ("ErrorControl", reg_dword(1)), ("ObjectName", reg_sz("LocalSystem")),
                           ("DisplayName", reg_sz(disp)), ("DependOnService", reg_multi("IISADMIN"))])
    for svc in ("SMTPSVC", "NNTPSVC"):
        h.key(base + svc + "\\Parameters", [("InstallPath", reg_sz("C:\\WINNT\\System32\\inetsrv"))])
    h.key(base + "W3SVC\\Parameters", [("MajorVersion", reg_dword(4)), ("MinorVersion", reg_dword(0))])


# ---- Windows 2000 (IIS 5) ------------------------------------------------

# MS02-018 (Q319733) file table for Windows 2000: the real within-patch spread.
W2K_Q319733 = {
    "adsiis.dll": 5255, "asp.dll": 5255, "fscfg.dll": 3649, "ftpctrs2.dll": 5255, "ftpmib.dll": 5255,
    "ftpsvc2.dll": 5255, "httpext.dll": 5255, "httpmib.dll": 5255, "httpodbc.dll": 5255, "iislog.dll": 5283,
    "iisrtl.dll": 5255, "infoadmn.dll": 5255, "infocomm.dll": 5255, "isatq.dll": 5255, "ism.dll": 5247,
    "mdsync.dll": 5255, "ssinc.dll": 5255, "w3ctrs.dll": 5255, "w3svc.dll": 5269,
}
W2K_DESC = dict(IIS4_DESC, **{"ftpmib.dll": "FTP SNMP MIB", "httpext.dll": "HTTP Extensions for Windows NT",
                              "httpmib.dll": "HTTP SNMP MIB", "iisrtl.dll": "IIS Runtime Library"})
T_W2K_SP2 = "2001-06-15T10:00:00Z"
T_W2K_Q319733 = "2002-04-15T18:00:00Z"


def w2k_image():
    R = "WINNT"
    files = []
    inetsrv = (R, "system32", "inetsrv")
    for n, b in sorted(W2K_Q319733.items()):
        ver = (5, 0, 2195, b)
        files.append(FileSpec(inetsrv + (n,), T_W2K_Q319733,
                              pe=Pe(n, ver, "5.00.2195.%d" % b, W2K_DESC[n], W2K_PRODUCT)))
    # Files MS02-018 does not ship: their versions are illustrative (no source
    # gives the W2K SP2 baseline); they are not older than any hotfix set.
    for n, b in [("inetinfo.exe", 2096), ("iisadmin.dll", 2096), ("metadata.dll", 2096), ("wam.dll", 2096),
                 ("coadmin.dll", 3649), ("admwprox.dll", 2096), ("w3scfg.dll", 3649)]:
        files.append(FileSpec(inetsrv + (n,), T_W2K_SP2,
                              pe=Pe(n, (5, 0, 2195, b), "5.00.2195.%d" % b, W2K_DESC[n], W2K_PRODUCT,
                                    exe=n.endswith(".exe"))))
    for n in ["asp.dll", "w3svc.dll"]:
        files.append(FileSpec((R, "$NtUninstallQ319733$", n), T_W2K_Q319733,
                              pe=Pe(n, (5, 0, 2195, 2785), "5.00.2195.2785", W2K_DESC[n], W2K_PRODUCT)))
    sysh = Hive("2002-05-01T08:00:00Z")
    sysh.key("Select", [("Current", reg_dword(1)), ("Default", reg_dword(1)), ("Failed", reg_dword(0)),
                        ("LastKnownGood", reg_dword(2))])
    inet = "%SystemRoot%\\System32\\inetsrv\\inetinfo.exe"
    for cs in ("ControlSet001", "ControlSet002"):
        nt4_services(sysh, cs, inet, inet)
        sysh.key(cs + "\\Control\\Windows", [("CSDVersion", reg_dword(0x200))])
    sw = Hive("2002-05-01T08:00:00Z")
    sw.key("Microsoft\\Windows NT\\CurrentVersion", [
        ("CurrentVersion", reg_sz("5.0")), ("CurrentBuildNumber", reg_sz("2195")),
        ("CSDVersion", reg_sz("Service Pack 2")), ("ProductName", reg_sz("Microsoft Windows 2000")),
        ("SystemRoot", reg_sz("C:\\WINNT")), ("CurrentType", reg_sz("Uniprocessor Free"))])
    sw.key("Microsoft\\Windows NT\\CurrentVersion\\Hotfix\\Q319733", [
        ("Installed", reg_dword(1)), ("Backup Dir", reg_sz("C:\\WINNT\\$NtUninstallQ319733$")),
        ("Fix Description", reg_sz("MS02-018: April 2002 Cumulative Patch for IIS")),
        ("Installed By", reg_sz("Administrator")), ("Installed On", reg_sz("4/15/2002")),
        ("Service Pack", reg_dword(3)), ("Valid", reg_dword(1))], when=T_W2K_Q319733)
    sw.key("Microsoft\\InetStp", [("MajorVersion", reg_dword(5)), ("MinorVersion", reg_dword(0)),
                                  ("InstallPath", reg_sz("C:\\WINNT\\System32\\inetsrv")),
                                  ("SetupString", reg_sz("IIS 5.0"))])
    sw.key("Microsoft\\INetMgr\\Parameters\\AddOnServices", [("WWW", reg_sz("w3scfg.dll")), ("FTP", reg_sz("fscfg.dll"))])
    cfg = (R, "system32", "config")
    meta = dict(system_root="\\WINNT", os_version="5.0", os_build="2195", service_pack="Service Pack 2",
                control_set="ControlSet001", hotfixes=["Q319733"], extra_dirs=[], dir_times={},
                hive_paths=(cfg + ("SYSTEM",), cfg + ("SOFTWARE",)), corrupt_hotfix=None,
                hive_time="2002-05-01T08:00:00Z", install_time="2001-02-20T09:00:00Z", compress_dir=None,
                product_name="Microsoft Windows 2000")
    return files, sysh, sw, meta


# ---- Windows Server 2003 (IIS 6) -----------------------------------------

W2K3_IIS = {
    "adsiis.dll": "Active DS IIS Provider", "admwprox.dll": "IIS Admin Com API Proxy dll",
    "asp.dll": "Active Server Pages", "coadmin.dll": "IIS Admin Com API", "ftpsvc2.dll": "FTP Service",
    "httpext.dll": "HTTP Extensions for Windows NT", "iisadmin.dll": "IIS Admin Service",
    "iisext.dll": "IIS Extension", "iislog.dll": "IIS Logging", "iisres.dll": "IIS Resource dll",
    "iisutil.dll": "IIS Utility", "iisw3adm.dll": "IIS Web Admin Service", "inetinfo.exe": "Internet Information Services",
    "infocomm.dll": "Internet Information Services Common", "isatq.dll": "Asynchronous Thread Queue",
    "metadata.dll": "IIS Metabase", "ssinc.dll": "Server Side Includes", "w3cache.dll": "W3 Cache",
    "w3comlog.dll": "IIS Common Logging", "w3core.dll": "IIS Web Server Core", "w3ctrs.dll": "WWW Service Performance Counters",
    "w3dt.dll": "IIS Data Transport", "w3isapi.dll": "IIS ISAPI Handler", "w3tp.dll": "IIS Thread Pool",
    "w3wp.exe": "IIS Worker Process",
}
SP2 = (3959, "(srvsp2_rtm.070216-1710)")
SP1 = (1830, "(srv03_sp1_rtm.050324-1447)")
T_W2K3_SP2 = "2007-05-10T14:00:00Z"
T_W2K3_IISADD = "2008-02-14T09:30:00Z"
T_W2K3_KB = "2010-09-30T20:00:00Z"


def w2k3_image(sp1_files=(), hotfix=None):
    R = "WINDOWS"
    files = []
    inetsrv = (R, "system32", "inetsrv")
    for n in sorted(W2K3_IIS):
        build, tag = SP1 if n in sp1_files else SP2
        when = T_W2K3_IISADD if n in sp1_files else T_W2K3_SP2
        if hotfix and n == hotfix[0]:
            build, tag, when = hotfix[1], hotfix[2], T_W2K3_KB
        ver = (6, 0, 3790, build)
        files.append(FileSpec(inetsrv + (n,), when,
                              pe=Pe(n, ver, "6.0.3790.%d %s" % (build, tag), W2K3_IIS[n], W2K3_PRODUCT,
                                    pstr="6.0.3790.%d" % build, exe=n.endswith(".exe"))))
    files.append(FileSpec((R, "system32", "svchost.exe"), T_W2K3_SP2,
                          pe=Pe("svchost.exe", (5, 2, 3790, 3959), "5.2.3790.3959 (srvsp2_rtm.070216-1710)",
                                "Generic Host Process for Win32 Services", W2K3_PRODUCT, pstr="5.2.3790.3959", exe=True)))
    files.append(FileSpec((R, "system32", "drivers", "http.sys"), T_W2K3_SP2,
                          pe=Pe("http.sys", (5, 2, 3790, 3959), "5.2.3790.3959 (srvsp2_rtm.070216-1710)",
                                "HTTP Protocol Stack", W2K3_PRODUCT, pstr="5.2.3790.3959")))
    when = "2010-10-01T08:00:00Z" if hotfix else "2008-03-01T08:00:00Z"
    sysh = Hive(when)
    sysh.key("Select", [("Current", reg_dword(1)), ("Default", reg_dword(1)), ("Failed", reg_dword(0)),
                        ("LastKnownGood", reg_dword(2))])
    inet = "%SystemRoot%\\System32\\inetsrv\\inetinfo.exe"
    for cs in ("ControlSet001", "ControlSet002"):
        b = cs + "\\Services\\"
        sysh.key(b + "HTTP", [("ImagePath", reg_expand("System32\\Drivers\\HTTP.sys")), ("Start", reg_dword(3)),
                              ("Type", reg_dword(1)), ("ErrorControl", reg_dword(1))])
        sysh.key(b + "IISADMIN", [("ImagePath", reg_expand(inet)), ("Start", reg_dword(2)), ("Type", reg_dword(0x20)),
                                  ("ErrorControl", reg_dword(1)), ("ObjectName", reg_sz("LocalSystem"))])
        sysh.key(b + "W3SVC", [("ImagePath", reg_expand("%SystemRoot%\\System32\\svchost.exe -k iissvcs")),
                               ("Start", reg_dword(2)), ("Type", reg_dword(0x20)), ("ErrorControl", reg_dword(1)),
                               ("ObjectName", reg_sz("LocalSystem")),
                               ("DisplayName", reg_sz("World Wide Web Publishing Service")),
                               ("DependOnService", reg_multi("HTTP", "IISADMIN"))])
        sysh.key(b + "W3SVC\\Parameters", [("ServiceDll", reg_expand("%SystemRoot%\\System32\\inetsrv\\iisw3adm.dll"))])
        sysh.key(b + "MSFTPSVC", [("ImagePath", reg_expand(inet)), ("Start", reg_dword(3)), ("Type", reg_dword(0x20)),
                                  ("ErrorControl", reg_dword(1)), ("ObjectName", reg_sz("LocalSystem")),
                                  ("DependOnService", reg_multi("IISADMIN"))])
        sysh.key(cs + "\\Control\\Windows", [("CSDVersion", reg_dword(0x200))])
    sw = Hive(when)
    sw.key("Microsoft\\Windows NT\\CurrentVersion", [
        ("CurrentVersion", reg_sz("5.2")), ("CurrentBuildNumber", reg_sz("3790")),
        ("CSDVersion", reg_sz("Service Pack 2")), ("ProductName", reg_sz("Microsoft Windows Server 2003")),
        ("SystemRoot", reg_sz("C:\\WINDOWS")), ("CurrentType", reg_sz("Uniprocessor Free"))])
    sw.key("Microsoft\\Windows NT\\CurrentVersion\\Svchost", [("iissvcs", reg_multi("w3svc"))])
    hotfixes = []
    if hotfix:
        hotfixes = [hotfix[3]]
        sw.key("Microsoft\\Windows NT\\CurrentVersion\\Hotfix\\" + hotfix[3], [
            ("Installed", reg_dword(1)), ("Fix Description", reg_sz("Security Update for Windows Server 2003")),
            ("Installed By", reg_sz("Administrator")), ("Installed On", reg_sz("9/30/2010")),
            ("Service Pack", reg_dword(3)), ("Valid", reg_dword(1))], when=T_W2K3_KB)
    sw.key("Microsoft\\InetStp", [("MajorVersion", reg_dword(6)), ("MinorVersion", reg_dword(0)),
                                  ("InstallPath", reg_sz("C:\\WINDOWS\\system32\\inetsrv")),
                                  ("SetupString", reg_sz("IIS 6.0"))], when=T_W2K3_IISADD)
    cfg = (R, "system32", "config")
    meta = dict(system_root="\\WINDOWS", os_version="5.2", os_build="3790", service_pack="Service Pack 2",
                control_set="ControlSet001", hotfixes=hotfixes, extra_dirs=[], dir_times={},
                hive_paths=(cfg + ("SYSTEM",), cfg + ("SOFTWARE",)), corrupt_hotfix=None,
                hive_time=when, install_time="2005-06-01T09:00:00Z", compress_dir=None,
                product_name="Microsoft Windows Server 2003")
    return files, sysh, sw, meta


# ---- Windows 7 / Windows Server 2008 R2 (NT 6.1; IIS 7.5) -----------------
# Every version number here is illustrative (no KB table in
# ../../shared/research gives IIS 7.5 file versions); 7601.17514 is the
# Windows 7 / 2008 R2 SP1 RTM build (win7sp1_rtm.101119-1850).

IIS75 = {
    "iiscore.dll": "IIS Web Server Core", "iisutil.dll": "IIS Utility", "iisw3adm.dll": "IIS Web Admin Service",
    "w3dt.dll": "IIS Data Transport", "w3tp.dll": "IIS Thread Pool", "w3wp.exe": "IIS Worker Process",
}
W7_SP1 = (7601, 17514, "(win7sp1_rtm.101119-1850)")
T_W7_INSTALL = "2010-11-05T09:00:00Z"
T_W7_SP1 = "2011-03-22T10:30:00Z"
T_W7_IISADD = "2011-04-04T14:00:00Z"
T_W7_LAST_BOOT = "2012-02-01T08:00:00Z"


def nt61_image(product, edition, iis):
    """Windows 7 / Server 2008 R2 SP1 (NT 6.1): `\\Windows`, hives without
    CurrentMajorVersionNumber (it appeared with NT 10), no Hotfix keys (Vista
    and later record updates in CBS, not there). With `iis`, IIS 7.5 in
    System32\\inetsrv, W3SVC and WAS hosted in `svchost.exe -k iissvcs` with
    iisw3adm.dll as ServiceDll, HTTP.sys, and InetStp 7.5."""
    R = "Windows"
    files = []
    sys32 = (R, "System32")
    b, q, tag = W7_SP1
    if iis:
        for n in sorted(IIS75):
            files.append(FileSpec(sys32 + ("inetsrv", n), T_W7_SP1,
                                  pe=Pe(n, (7, 5, b, q), "7.5.%d.%d %s" % (b, q, tag), IIS75[n], W2K3_PRODUCT,
                                        pstr="7.5.%d.%d" % (b, q), exe=n.endswith(".exe"))))
        files.append(FileSpec(sys32 + ("drivers", "HTTP.sys"), T_W7_SP1,
                              pe=Pe("HTTP.sys", (6, 1, b, q), "6.1.%d.%d %s" % (b, q, tag), "HTTP Protocol Stack",
                                    W2K3_PRODUCT, pstr="6.1.%d.%d" % (b, q))))
    files.append(FileSpec(sys32 + ("svchost.exe",), T_W7_INSTALL,
                          pe=Pe("svchost.exe", (6, 1, 7600, 16385), "6.1.7600.16385 (win7_rtm.090713-1255)",
                                "Host Process for Windows Services", W2K3_PRODUCT, pstr="6.1.7600.16385", exe=True)))
    sysh = Hive(T_W7_LAST_BOOT)
    sysh.key("Select", [("Current", reg_dword(1)), ("Default", reg_dword(1)), ("Failed", reg_dword(0)),
                        ("LastKnownGood", reg_dword(2))])
    svchost = "%SystemRoot%\\system32\\svchost.exe -k "
    for cs in ("ControlSet001", "ControlSet002"):
        base = cs + "\\Services\\"
        sysh.key(base + "Dhcp", [("ImagePath", reg_expand(svchost + "LocalServiceNetworkRestricted")),
                                 ("Start", reg_dword(2)), ("Type", reg_dword(0x20)), ("ErrorControl", reg_dword(1)),
                                 ("ObjectName", reg_sz("NT Authority\\LocalService")),
                                 ("DisplayName", reg_sz("DHCP Client"))])
        sysh.key(base + "Dhcp\\Parameters", [("ServiceDll", reg_expand("%SystemRoot%\\system32\\dhcpcore.dll"))])
        if iis:
            sysh.key(base + "HTTP", [("ImagePath", reg_expand("system32\\drivers\\HTTP.sys")), ("Start", reg_dword(3)),
                                     ("Type", reg_dword(1)), ("ErrorControl", reg_dword(1)),
                                     ("DisplayName", reg_sz("HTTP"))])
            for svc, disp, start, deps in [("W3SVC", "World Wide Web Publishing Service", 2, ("WAS", "HTTP")),
                                           ("WAS", "Windows Process Activation Service", 3, ("RPCSS",))]:
                sysh.key(base + svc, [("ImagePath", reg_expand(svchost + "iissvcs")), ("Start", reg_dword(start)),
                                      ("Type", reg_dword(0x20)), ("ErrorControl", reg_dword(1)),
                                      ("ObjectName", reg_sz("localSystem")), ("DisplayName", reg_sz(disp)),
                                      ("DependOnService", reg_multi(*deps))])
                sysh.key(base + svc + "\\Parameters",
                         [("ServiceDll", reg_expand("%windir%\\system32\\inetsrv\\iisw3adm.dll"))])
        sysh.key(cs + "\\Control\\Windows", [("CSDVersion", reg_dword(0x100))])
    sw = Hive(T_W7_LAST_BOOT)
    sw.key("Microsoft\\Windows NT\\CurrentVersion", [
        ("CurrentVersion", reg_sz("6.1")), ("CurrentBuildNumber", reg_sz("7601")), ("CurrentBuild", reg_sz("7601")),
        ("CSDVersion", reg_sz("Service Pack 1")), ("CSDBuildNumber", reg_sz("1130")),
        ("ProductName", reg_sz(product)), ("EditionID", reg_sz(edition)),
        ("InstallationType", reg_sz("Server" if "Server" in product else "Client")),
        ("SystemRoot", reg_sz("C:\\Windows")), ("CurrentType", reg_sz("Multiprocessor Free"))])
    if iis:
        sw.key("Microsoft\\Windows NT\\CurrentVersion\\Svchost", [("iissvcs", reg_multi("w3svc", "was"))])
        sw.key("Microsoft\\InetStp", [("MajorVersion", reg_dword(7)), ("MinorVersion", reg_dword(5)),
                                      ("InstallPath", reg_sz("C:\\Windows\\system32\\inetsrv")),
                                      ("SetupString", reg_sz("IIS 7.5")), ("VersionString", reg_sz("Version 7.5")),
                                      ("PathWWWRoot", reg_sz("%SystemDrive%\\inetpub\\wwwroot"))],
               when=T_W7_IISADD)
    cfg = sys32 + ("config",)
    meta = dict(system_root="\\Windows", os_version="6.1", os_build="7601", service_pack="Service Pack 1",
                control_set="ControlSet001", hotfixes=[], extra_dirs=[], dir_times={},
                hive_paths=(cfg + ("SYSTEM",), cfg + ("SOFTWARE",)), corrupt_hotfix=None,
                hive_time=T_W7_LAST_BOOT, install_time=T_W7_INSTALL, compress_dir=None, product_name=product)
    return files, sysh, sw, meta


# --------------------------------------------------------------------------
# NTFS volumes
# --------------------------------------------------------------------------

def is_83(name):
    return re.fullmatch(r"[A-Za-z0-9_\-!#%&'()@^{}~]{1,8}(\.[A-Za-z0-9_\-!#%&'()@^{}~]{1,3})?", name) is not None


def short_name(name, taken):
    base, ext = os.path.splitext(name)
    b = re.sub(r"[^A-Za-z0-9]", "", base).upper()[:6]
    e = re.sub(r"[^A-Za-z0-9]", "", ext).upper()[:3]
    for i in range(1, 10):
        s = "%s~%d" % (b, i) + ("." + e if e else "")
        if s not in taken:
            taken.add(s)
            return s
    raise RuntimeError("no short name for " + name)


def set_times(path, iso):
    t = filetime(iso)
    # system.ntfs_times: creation, last write, last access, MFT change
    os.setxattr(path, "system.ntfs_times", struct.pack("<4Q", t, t, t, t))


def frozen(iso):
    """Command prefix that freezes the wall clock (libfaketime) at `iso`, so
    the times ntfs-3g/mkntfs stamp by themselves (MFT change times, system
    files) are the same on every run."""
    return ["faketime", "-f", iso.replace("T", " ").rstrip("Z")]


class Mount:
    def __init__(self, img, mnt, options=(), when="2001-10-01T08:00:00Z"):
        self.img, self.mnt, self.options, self.when = img, mnt, list(options), when

    def __enter__(self):
        os.makedirs(self.mnt, exist_ok=True)
        opts = ["no_detach"] + self.options
        self.proc = subprocess.Popen(frozen(self.when) + ["ntfs-3g", "-o", ",".join(opts), self.img, self.mnt],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.ismount(self.mnt):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("ntfs-3g exited with %s" % self.proc.returncode)
            time.sleep(0.05)
        raise RuntimeError("ntfs-3g mount timed out")

    def __exit__(self, *exc):
        os.sync()
        run(["umount", self.mnt])
        self.proc.wait(timeout=60)
        if self.proc.returncode != 0:
            raise RuntimeError("ntfs-3g returned %s" % self.proc.returncode)


def mkntfs(path, size, cluster, label, part_start=0, when="1999-11-19T09:00:00Z"):
    with open(path, "wb") as f:
        f.truncate(size)
    cmd = frozen(when) + ["mkntfs", "-F", "-f", "-Q", "-q", "-c", str(cluster), "-s", "512", "-L", label]
    if part_start:
        cmd += ["-p", str(part_start), "-H", "255", "-S", "63"]
    else:
        cmd += ["-p", "0", "-H", "255", "-S", "63"]
    run(cmd + [path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_interleaved(dst, data, spacer, chunk):
    """Write `data` to dst in `chunk`-byte pieces, appending as much to a
    spacer file after each piece: ntfs-3g allocates clusters in order, so the
    file ends up in several runs; the spacer is deleted afterwards."""
    with open(dst, "wb", buffering=0) as a, open(spacer, "wb", buffering=0) as b:
        for i in range(0, len(data), chunk):
            a.write(data[i:i + chunk])
            b.write(b"\0" * chunk)
    os.unlink(spacer)


def build_volume(path, files, hives, meta, workdir, size, cluster, part_start=0, label="WINNT"):
    """mkntfs + ntfs-3g: create the tree, write files, set deterministic times."""
    mkntfs(path, size, cluster, label, part_start, when=meta["install_time"])
    mnt = os.path.join(workdir, "mnt")
    opts = ["compression"] if meta.get("compress_dir") else []
    dirs = {}  # dir tuple -> time
    with Mount(path, mnt, opts, when=meta["hive_time"]):
        def mkdirs(parts):
            for i in range(1, len(parts) + 1):
                p = os.path.join(mnt, *parts[:i])
                if not os.path.isdir(p):
                    os.mkdir(p)
                    if meta.get("compress_dir") == parts[:i]:
                        # FILE_ATTRIBUTE_COMPRESSED (0x800) on the directory:
                        # files created in it inherit LZNT1 compression.
                        attr = struct.unpack(">I", os.getxattr(p, "system.ntfs_attrib_be"))[0]
                        os.setxattr(p, "system.ntfs_attrib_be", struct.pack(">I", attr | 0x800))
                    dirs.setdefault(parts[:i], None)

        frag = []
        for fs in files:
            mkdirs(fs.path[:-1])
            dst = os.path.join(mnt, *fs.path)
            data = fs.bytes
            if fs.frag:
                # created now (MFT record, index entry); data written last
                open(dst, "wb").close()
                frag.append((fs, dst, data))
                continue
            with open(dst, "wb") as f:
                f.write(data)
        for d in meta.get("extra_dirs", []):
            mkdirs(d)
        for hp, data in hives:
            mkdirs(hp[:-1])
            with open(os.path.join(mnt, *hp), "wb") as f:
                f.write(data)
        for fs, dst, data in frag:
            write_interleaved(dst, data, os.path.join(mnt, "spacer.tmp"), cluster * 2)
        # DOS (8.3) names, so no name is left in the POSIX namespace that
        # ntfs-3g uses by default: an 8.3-compliant name becomes one
        # WIN32_AND_DOS name (namespace 3); a long name gets a WIN32 name plus
        # a generated DOS name ("NTSERV~1"), as Windows would.
        taken = {}
        names = [p for p in sorted(dirs, key=len)] + [fs.path for fs in files] + [hp for hp, _ in hives]
        for parts in names:
            t = taken.setdefault(parts[:-1], set())
            if is_83(parts[-1]):
                sn = parts[-1].upper()
                t.add(sn)
            else:
                sn = short_name(parts[-1], t)
            os.setxattr(os.path.join(mnt, *parts), "system.ntfs_dos_name", sn.encode())
        # times: files first, then directories deepest first
        for fs in files:
            set_times(os.path.join(mnt, *fs.path), fs.mtime)
        for hp, _ in hives:
            set_times(os.path.join(mnt, *hp), meta["hive_time"])
        dtimes = meta.get("dir_times", {})
        for parts in sorted(dirs, key=len, reverse=True):
            set_times(os.path.join(mnt, *parts), dtimes.get(parts, meta["hive_time"]))
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
    return free


# --------------------------------------------------------------------------
# Sleuth Kit helpers (used to confirm layouts and to find damage offsets)
# --------------------------------------------------------------------------

def tsk_inode(img, winpath, offset_sectors=0):
    p = winpath.lstrip("\\").replace("\\", "/")
    cmd = ["ifind", "-n", p]
    if offset_sectors:
        cmd += ["-o", str(offset_sectors)]
    return int(out_of(cmd + [img]).strip().split("-")[0])


def tsk_istat(img, inode, offset_sectors=0):
    cmd = ["istat"]
    if offset_sectors:
        cmd += ["-o", str(offset_sectors)]
    return out_of(cmd + [img, str(inode)])


def data_clusters(istat_text, attr="$DATA (128-"):
    """Clusters listed for the unnamed non-resident attribute of the given type."""
    lines = istat_text.splitlines()
    out = []
    grab = False
    for ln in lines:
        if ln.startswith("Type: "):
            grab = attr in ln and ("Name: N/A" in ln or "Name: $I30" in ln) and "Non-Resident" in ln
            continue
        if grab:
            out += [int(x) for x in ln.split()]
    return out


def count_runs(clusters):
    runs = 0
    prev = None
    for c in clusters:
        if c == 0:  # sparse / compressed tail
            prev = None
            continue
        if prev is None or c != prev + 1:
            runs += 1
        prev = c
    return runs


def boot_params(img, offset=0):
    with open(img, "rb") as f:
        f.seek(offset)
        bs = f.read(512)
    bps = struct.unpack_from("<H", bs, 11)[0]
    spc = bs[13]
    mft_lcn = struct.unpack_from("<Q", bs, 0x30)[0]
    cpr = struct.unpack_from("<b", bs, 0x40)[0]
    cs = bps * spc
    rec = cs * cpr if cpr > 0 else 1 << (-cpr)
    return cs, mft_lcn, rec


def mft_record_offset(img, inode):
    """Byte offset of an MFT record, following $MFT's own runs (from istat)."""
    cs, mft_lcn, rec = boot_params(img)
    clusters = data_clusters(tsk_istat(img, 0))
    byte = inode * rec
    return clusters[byte // cs] * cs + byte % cs, rec


# --------------------------------------------------------------------------
# Damage
# --------------------------------------------------------------------------

def damage_mft_fixup(img, winpath):
    inode = tsk_inode(img, winpath)
    off, rec = mft_record_offset(img, inode)
    with open(img, "r+b") as f:
        f.seek(off)
        r = bytearray(f.read(rec))
        assert r[:4] == b"FILE"
        usa_off = struct.unpack_from("<H", r, 4)[0]
        usn = struct.unpack_from("<H", r, usa_off)[0]
        # the last two bytes of the 2nd sector must equal the USN; make them differ
        end = 2 * SECTOR - 2
        assert struct.unpack_from("<H", r, end)[0] == usn
        struct.pack_into("<H", r, end, usn ^ 0x5A5A)
        f.seek(off)
        f.write(r)
    return inode


def damage_index_loop(img, dir_winpath, entry_name):
    """Point the index entry `entry_name` in directory dir_winpath back at the
    directory itself (a cycle: dir -> entry -> dir)."""
    dir_inode = tsk_inode(img, dir_winpath)
    off, rec = mft_record_offset(img, dir_inode)
    with open(img, "rb") as f:
        f.seek(off)
        r = f.read(rec)
    dir_seq = struct.unpack_from("<H", r, 0x10)[0]
    new_ref = struct.pack("<Q", dir_inode | (dir_seq << 48))
    cs, _, _ = boot_params(img)
    clusters = data_clusters(tsk_istat(img, dir_inode), attr="$INDEX_ALLOCATION (160-")
    target = entry_name.encode("utf-16-le")
    with open(img, "r+b") as f:
        for c in clusters:
            f.seek(c * cs)
            blk = bytearray(f.read(cs))
            if blk[:4] != b"INDX":
                continue
            # entries start at 0x18 + entries offset; scan for the name
            i = 0
            while True:
                i = blk.find(target, i + 1)
                if i < 0:
                    break
                # FILE_NAME attribute starts 0x10 into an entry; name at +0x42
                e = i - 0x42 - 0x10
                nlen = blk[e + 0x10 + 0x40]
                if nlen != len(entry_name) or e < 0:
                    continue
                # must not straddle a sector end (update sequence bytes)
                if (e % SECTOR) > SECTOR - 10:
                    raise RuntimeError("entry straddles a sector end")
                blk[e:e + 8] = new_ref
                f.seek(c * cs)
                f.write(blk)
                return dir_inode
    # resident index ($INDEX_ROOT) in the MFT record
    raise RuntimeError("index entry %s not found in $INDEX_ALLOCATION" % entry_name)


# --------------------------------------------------------------------------
# Disks and containers
# --------------------------------------------------------------------------

def make_mbr_disk(path, vol, vol_start=63, logical_sectors=64):
    """MBR disk: primary NTFS (type 0x07, active) at sector 63, then an
    extended partition (0x05) holding two small logical partitions (type 0x07,
    never formatted: zeros), so the EBR chain has two links and a partition
    whose type says NTFS but whose boot sector is not."""
    vsz = os.path.getsize(vol) // SECTOR
    ext_start = vol_start + vsz
    l1 = ext_start + 63
    l2 = l1 + logical_sectors + 63
    total = l2 + logical_sectors
    with open(path, "wb") as f:
        f.truncate(total * SECTOR)
    script = (
        "label: dos\nlabel-id: 0x1a2b3c4d\nunit: sectors\n\n"
        f"start={vol_start}, size={vsz}, type=7, bootable\n"
        f"start={ext_start}, size={total - ext_start}, type=5\n"
        f"start={l1}, size={logical_sectors}, type=7\n"
        f"start={l2}, size={logical_sectors}, type=7\n"
    )
    run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", "-f", path], input=script.encode(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    dd_into(path, vol, vol_start * SECTOR)
    return vol_start * SECTOR, (l1, l2)


def make_gpt_disk(path, vol, start=2048):
    vsz = os.path.getsize(vol) // SECTOR
    total = start + vsz + 33
    with open(path, "wb") as f:
        f.truncate(total * SECTOR)
    script = (
        "label: gpt\nlabel-id: 6E8B1D2A-3C4F-4A5B-9C6D-7E8F9A0B1C2D\nunit: sectors\nfirst-lba: 34\n\n"
        f"start={start}, size={vsz}, type=EBD0A0A2-B9E5-4433-87C0-68B6B7269979, "
        "uuid=1F2E3D4C-5B6A-4978-8695-A4B3C2D1E0F9, name=\"Basic data partition\"\n"
    )
    run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", "-f", path], input=script.encode(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    dd_into(path, vol, start * SECTOR)
    return start * SECTOR


def dd_into(disk, vol, offset):
    with open(vol, "rb") as s, open(disk, "r+b") as d:
        d.seek(offset)
        d.write(s.read())


# --------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------

def tq(s):
    """TOML string: literal '...' when possible (Windows paths), else basic."""
    if "'" not in s and "\n" not in s:
        return "'" + s + "'"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def tstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tlist(items, lit=False):
    return "[" + ", ".join((tq(i) if lit else tstr(i)) for i in items) + "]"


def manifest_entry(e):
    out = ["[[image]]"]
    for k in ["name", "file", "format", "layout"]:
        out.append("%s = %s" % (k, tstr(e[k])))
    out.append("partition_offset = %d" % e["partition_offset"])
    out.append("cluster_size = %d" % e["cluster_size"])
    out.append("system_root = %s" % tq(e["system_root"]))
    for k in ["os_version", "os_build", "service_pack", "product_name", "control_set", "damaged", "status",
              "reason", "description"]:
        out.append("%s = %s" % (k, tstr(e[k])))
    out.append("hotfixes = %s" % tlist(e["hotfixes"]))
    out.append("services = %s" % tlist(e["services"]))
    if e.get("source"):
        out.append("source = %s" % tstr(e["source"]))
    if e.get("segments"):
        out.append("segments = %s" % tlist(e["segments"]))
    if e.get("filesystem"):
        out.append("filesystem = %s" % tstr(e["filesystem"]))
    if e.get("hive_state"):
        out.append("hive_state = { %s }" % ", ".join("%s = %s" % (k, tstr(v)) for k, v in sorted(e["hive_state"].items())))
    out.append("expect_unreadable = %s" % tlist(e.get("expect_unreadable", []), lit=True))
    out.append("")
    for v in e.get("volumes", []):
        out.append("[[image.volumes]]")
        out.append("offset = %d" % v["offset"])
        out.append("filesystem = %s" % tstr(v["filesystem"]))
        out.append("letter = %s" % tstr(v["letter"]))
        out.append("")
    for f in e["files"]:
        out.append("[[image.files]]")
        out.append("path = %s" % tq(f["path"]))
        out.append("file_version = %s" % tstr(f["file_version"]))
        out.append("product_version = %s" % tstr(f["product_version"]))
        out.append("file_version_string = %s" % tstr(f["file_version_string"]))
        out.append("size = %d" % f["size"])
        out.append("modified = %s" % tstr(f["modified"]))
        if f.get("ntfs_runs"):
            out.append("ntfs_runs = %d" % f["ntfs_runs"])
        if f.get("compressed"):
            out.append("compressed = true")
        if f.get("volume"):
            out.append("volume = %s" % tstr(f["volume"]))
        out.append("")
    for fd in e["findings"]:
        out.append("[[image.findings]]")
        out.append("rule = %s" % tstr(fd["rule"]))
        out.append("severity = %s" % tstr(fd["severity"]))
        out.append("paths = %s" % tlist(fd["paths"], lit=True))
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------

def finding(rule, severity, *paths):
    return {"rule": rule, "severity": severity, "paths": list(paths)}


def lockstep_w3svc(upper=False):
    p = "\\WINNT\\system32\\inetsrv\\w3svc.dll"
    return finding("lockstep-mismatch", "error", p.upper() if upper else p)


def spec_entries(files, hives, meta):
    out = []
    for fs in files:
        pe = fs.pe
        e = {"path": fs.winpath(), "size": len(fs.bytes), "modified": fs.mtime,
             "file_version": pe.fixed_version() if pe else "",
             "product_version": pe.fixed_version() if pe else "",
             "file_version_string": (pe.vstr if pe.corrupt is None else "") if pe else ""}
        if fs.compressed:
            e["compressed"] = True
        out.append(e)
    for hp, data in hives:
        out.append({"path": "\\" + "\\".join(hp), "size": len(data), "modified": meta["hive_time"],
                    "file_version": "", "product_version": "", "file_version_string": ""})
    return out


class Factory:
    def __init__(self, out, work):
        self.out = out
        self.work = work
        self.entries = []
        self.built = {}  # name -> (path, layout info, files, hives, meta)

    def prepare(self, files, sysh, sw, meta, tag, hive_damage=None):
        d = os.path.join(self.work, "hives", tag)
        os.makedirs(d, exist_ok=True)
        sys_path, sw_path = os.path.join(d, "SYSTEM"), os.path.join(d, "SOFTWARE")
        sdata = sysh.build(sys_path, d)
        wdata = sw.build(sw_path, d, corrupt_key=meta.get("corrupt_hotfix"))
        cs = meta["control_set"]
        services = sorted(p[2] for p in sysh.keys if len(p) == 3 and p[0] == cs and p[1] == "Services")
        validate_hive(sys_path, ["/Select", "/%s/Control/Windows" % cs] +
                      ["/%s/Services/%s" % (cs, x) for x in services])
        if not meta.get("corrupt_hotfix"):
            validate_hive(sw_path, ["/Microsoft/Windows NT/CurrentVersion"])
        meta["services"] = services
        for fs in files:
            fs.bytes = build_pe(fs.pe, self.work) if fs.pe else fs.data
        hive_damage = hive_damage or {}
        sdata = damage_hive(sdata, hive_damage.get("SYSTEM"), sys_path)
        wdata = damage_hive(wdata, hive_damage.get("SOFTWARE"), sw_path)
        if "SYSTEM" in hive_damage:
            # Nothing of SYSTEM can be known: not the control set, not a service.
            meta.update(control_set="", services=[])
        if "SOFTWARE" in hive_damage:
            meta.update(os_version="", os_build="", service_pack="", product_name="", hotfixes=[])
        hives = [(meta["hive_paths"][0], sdata), (meta["hive_paths"][1], wdata)]
        return hives

    def volume(self, name, builder, size, cluster=4096, part_start=0, label="WINNT", hive_damage=None):
        files, sysh, sw, meta = builder()
        hives = self.prepare(files, sysh, sw, meta, name, hive_damage)
        path = os.path.join(self.work, name + ".vol")
        free = build_volume(path, files, hives, meta, self.work, size, cluster, part_start, label)
        log("%-34s %7d bytes, %6d free" % (name, size, free))
        return path, files, hives, meta

    def add(self, name, file, fmt, layout, offset, cluster, files, hives, meta, description, findings,
            damaged="", expect_unreadable=(), source="", extra_files=None, segments=(), status="evaluated",
            reason=""):
        assert status in ("evaluated", "partial", "not-evaluated"), status
        assert status != "evaluated" or reason == "", (name, status, reason)
        e = dict(name=name, file=file, format=fmt, layout=layout, partition_offset=offset, cluster_size=cluster,
                 system_root=meta["system_root"], os_version=meta["os_version"], os_build=meta["os_build"],
                 service_pack=meta["service_pack"], control_set=meta["control_set"], damaged=damaged,
                 product_name=meta["product_name"], services=meta["services"], status=status, reason=reason,
                 description=description, hotfixes=meta["hotfixes"], source=source,
                 expect_unreadable=list(expect_unreadable), segments=list(segments),
                 files=extra_files if extra_files is not None else spec_entries(files, hives, meta),
                 findings=findings)
        self.entries.append(e)
        return e

    def place(self, src, rel):
        dst = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        return dst


NT4_SIZE = 1088 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--keep-work", action="store_true")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="verskew-factory-")
    try:
        build_all(out, work)
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)


def build_all(out, work):
    F = Factory(out, work)
    W3 = "\\WINNT\\system32\\inetsrv\\w3svc.dll"

    # 1. The demo image.
    vol, files, hives, meta = F.volume("nt4-iis4-kb291589", nt4_image, NT4_SIZE)
    F.place(vol, "nt4-iis4-kb291589.img")
    e1 = F.add("nt4-iis4-kb291589", "nt4-iis4-kb291589.img", "raw", "bare", 0, 4096, files, hives, meta,
               "NT 4.0 SP6 + IIS 4: MS01-044 (Q301625) files at 4.2.769.1, but the WWW service was re-added "
               "from the Option Pack CD afterwards, so w3svc.dll is back at Option Pack RTM 4.2.622.1 (KB Q291589).",
               [lockstep_w3svc()])
    demo_vol = vol

    # 2. Healthy NT4.
    vol, files, hives, meta = F.volume("nt4-iis4-healthy", lambda: nt4_image("healthy"), NT4_SIZE)
    F.place(vol, "nt4-iis4-healthy.img")
    F.add("nt4-iis4-healthy", "nt4-iis4-healthy.img", "raw", "bare", 0, 4096, files, hives, meta,
          "NT 4.0 SP6 + IIS 4, consistent: lockstep sets at 4.2.769.1 with the spread single-file hotfixes leave "
          "(iisadmin 4.2.741.1 Q252174, metadata 4.2.757.1 Q276354, ism 4.2.776.1 Q321599, nntpsvc 5.5.1877.77 Q304876).",
          [])

    # 3. Proxy Server add-on with a missing config DLL.
    vol, files, hives, meta = F.volume("nt4-proxy-addon-missing", lambda: nt4_image("healthy", proxy=True), NT4_SIZE)
    F.place(vol, "nt4-proxy-addon-missing.img")
    F.add("nt4-proxy-addon-missing", "nt4-proxy-addon-missing.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Healthy NT4/IIS 4 plus Proxy Server 2.0 registered under INetMgr\\Parameters\\AddOnServices "
          "(Web Proxy uses the ::SUPCFG: form); Sockscfg.dll is named there but absent from disk.",
          [finding("missing-addon-dll", "error", "\\WINNT\\System32\\inetsrv\\Sockscfg.dll")])

    # 4. Windows 2000 / 2003.
    vol, files, hives, meta = F.volume("w2k-iis5-healthy", w2k_image, NT4_SIZE)
    F.place(vol, "w2k-iis5-healthy.img")
    F.add("w2k-iis5-healthy", "w2k-iis5-healthy.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Windows 2000 SP2 + MS02-018 (Q319733): IIS 5 files with the real within-patch spread "
          "(most 5.0.2195.5255, w3svc .5269, iislog .5283, ism .5247, fscfg .3649).", [])
    core = ("w3core.dll", "w3dt.dll", "iisw3adm.dll")
    vol, files, hives, meta = F.volume("w2k3-iis6-sp1-on-sp2", lambda: w2k3_image(sp1_files=core), NT4_SIZE)
    F.place(vol, "w2k3-iis6-sp1-on-sp2.img")
    F.add("w2k3-iis6-sp1-on-sp2", "w2k3-iis6-sp1-on-sp2.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Windows Server 2003 SP2; IIS 6 added later from SP1 media: w3core.dll, w3dt.dll, iisw3adm.dll stay at "
          "SP1 6.0.3790.1830 while the rest is SP2 6.0.3790.3959 (KB 2009746 / KB 920720).",
          [finding("behind-service-pack", "error", *["\\WINDOWS\\system32\\inetsrv\\" + n for n in sorted(core)])])
    vol, files, hives, meta = F.volume(
        "w2k3-iis6-healthy",
        lambda: w2k3_image(hotfix=("asp.dll", 4735, "(srvsp2_gdr.100816-1520)", "KB2124261")), NT4_SIZE)
    F.place(vol, "w2k3-iis6-healthy.img")
    F.add("w2k3-iis6-healthy", "w2k3-iis6-healthy.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Windows Server 2003 SP2, IIS 6 all at 6.0.3790.3959 except asp.dll at a newer post-SP2 hotfix "
          "build (6.0.3790.4735, illustrative number) with its Hotfix key.", [])

    # 5. Layout variants of image 1.
    disk = os.path.join(work, "mbr63.img")
    vol63, files, hives, meta = F.volume("nt4-iis4-kb291589-mbr63", nt4_image, NT4_SIZE, part_start=63)
    off, logicals = make_mbr_disk(disk, vol63)
    F.place(disk, "nt4-iis4-kb291589-mbr63.img")
    mbr_files, mbr_hives, mbr_meta = files, hives, meta
    mbr_desc = ("Image 1 on an MBR disk: NTFS partition type 0x07 (active) at sector 63, then an extended partition "
                "(0x05) with two EBR-linked logical partitions (type 0x07, sectors %d and %d, 64 sectors each) that "
                "were never formatted (zeros)." % logicals)
    mbr_entry = F.add("nt4-iis4-kb291589-mbr63", "nt4-iis4-kb291589-mbr63.img", "raw", "mbr", off, 4096,
                      files, hives, meta, mbr_desc, [lockstep_w3svc()])

    volg, files, hives, meta = F.volume("nt4-iis4-kb291589-gpt", nt4_image, NT4_SIZE, part_start=2048)
    gdisk = os.path.join(work, "gpt.img")
    goff = make_gpt_disk(gdisk, volg)
    F.place(gdisk, "nt4-iis4-kb291589-gpt.img")
    F.add("nt4-iis4-kb291589-gpt", "nt4-iis4-kb291589-gpt.img", "raw", "gpt", goff, 4096, files, hives, meta,
          "Image 1 in a GPT disk: one Microsoft basic data partition at LBA 2048.", [lockstep_w3svc()])

    vol, files, hives, meta = F.volume("nt4-iis4-kb291589-upper", lambda: nt4_image(upper=True), NT4_SIZE)
    F.place(vol, "nt4-iis4-kb291589-upper.img")
    F.add("nt4-iis4-kb291589-upper", "nt4-iis4-kb291589-upper.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Image 1 with every name upper-case on disk (\\WINNT\\SYSTEM32\\INETSRV\\W3SVC.DLL); registry paths "
          "keep their usual case, so lookups must be case-insensitive.", [lockstep_w3svc(upper=True)])

    vol, files, hives, meta = F.volume("nt4-iis4-cs2", lambda: nt4_image(cs2=True), NT4_SIZE)
    F.place(vol, "nt4-iis4-cs2.img")
    F.add("nt4-iis4-cs2", "nt4-iis4-cs2.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Image 1 with Select\\Current = 2: ControlSet002 is live; the stale ControlSet001 points W3SVC at a "
          "nonexistent inetinfo_old.exe and has CSDVersion 0x500 (a tool reading ControlSet001 is wrong).",
          [lockstep_w3svc()])

    vol, files, hives, meta = F.volume("nt4-iis4-kb291589-frag", lambda: nt4_image(frag=True), NT4_SIZE, cluster=512)
    fimg = F.place(vol, "nt4-iis4-kb291589-frag.img")
    runs = count_runs(data_clusters(tsk_istat(fimg, tsk_inode(fimg, W3))))
    if runs < 3:
        raise RuntimeError("w3svc.dll has only %d runs in the fragmented image" % runs)
    ent = spec_entries(files, hives, meta)
    for x in ent:
        if x["path"] == W3:
            x["ntfs_runs"] = runs
    F.add("nt4-iis4-kb291589-frag", "nt4-iis4-kb291589-frag.img", "raw", "bare", 0, 512, files, hives, meta,
          "Image 1 with 512-byte clusters and w3svc.dll fragmented into %d data runs." % runs,
          [lockstep_w3svc()], extra_files=ent)

    vol, files, hives, meta = F.volume("nt4-iis4-kb291589-compressed", lambda: nt4_image(compressed=True),
                                       1152 * 1024)
    cimg = F.place(vol, "nt4-iis4-kb291589-compressed.img")
    st = tsk_istat(cimg, tsk_inode(cimg, W3))
    if "Compressed" not in st or "Non-Resident, Compressed" not in st:
        raise RuntimeError("w3svc.dll $DATA is not compressed")
    F.add("nt4-iis4-kb291589-compressed", "nt4-iis4-kb291589-compressed.img", "raw", "bare", 0, 4096, files, hives,
          meta, "Image 1 with the inetsrv directory NTFS-compressed (LZNT1); w3svc.dll (80 KiB), infocomm.dll "
                "(72 KiB) and asp.dll (40 KiB) are padded so whole compression units shrink; smaller files are "
                "flagged compressed but fit in one partial unit.", [lockstep_w3svc()])

    # 6. Containers of the MBR disk.
    cont = os.path.join(out, "containers")
    os.makedirs(cont, exist_ok=True)
    for old in os.listdir(cont):
        os.unlink(os.path.join(cont, old))
    mbr_img = os.path.join(out, "nt4-iis4-kb291589-mbr63.img")
    src = "nt4-iis4-kb291589-mbr63"

    def add_container(name, rel, fmt, desc, segments=()):
        F.add(name, rel, fmt, "mbr", off, 4096, mbr_files, mbr_hives, mbr_meta, desc, [lockstep_w3svc()],
              source=src, segments=segments)

    def qemu(fmt, opts, rel, extra=()):
        cmd = frozen(T_ACQUIRE) + ["qemu-img", "convert", "-q", "-f", "raw", "-O", fmt] + list(extra)
        if opts:
            cmd += ["-o", opts]
        run(cmd + [mbr_img, os.path.join(out, rel)])

    qemu("vpc", "subformat=dynamic,force_size=on", "containers/nt4-iis4-kb291589-mbr63-dynamic.vhd")
    add_container("nt4-iis4-kb291589-mbr63-vhd-dynamic", "containers/nt4-iis4-kb291589-mbr63-dynamic.vhd", "vhd",
                  "The MBR disk in a dynamic VHD (qemu-img, force_size).")
    qemu("vpc", "subformat=fixed,force_size=on", "containers/nt4-iis4-kb291589-mbr63-fixed.vhd")
    add_container("nt4-iis4-kb291589-mbr63-vhd-fixed", "containers/nt4-iis4-kb291589-mbr63-fixed.vhd", "vhd",
                  "The MBR disk in a fixed VHD (raw data + 512-byte footer).")
    qemu("vhdx", "subformat=dynamic,block_size=1M,log_size=1M", "containers/nt4-iis4-kb291589-mbr63.vhdx")
    add_container("nt4-iis4-kb291589-mbr63-vhdx", "containers/nt4-iis4-kb291589-mbr63.vhdx", "vhdx",
                  "The MBR disk in a dynamic VHDX (1 MiB blocks).")
    qemu("vmdk", "subformat=monolithicSparse", "containers/nt4-iis4-kb291589-mbr63-sparse.vmdk")
    add_container("nt4-iis4-kb291589-mbr63-vmdk-sparse", "containers/nt4-iis4-kb291589-mbr63-sparse.vmdk", "vmdk",
                  "The MBR disk in a monolithicSparse VMDK.")
    qemu("vmdk", "subformat=streamOptimized", "containers/nt4-iis4-kb291589-mbr63-stream.vmdk")
    add_container("nt4-iis4-kb291589-mbr63-vmdk-stream", "containers/nt4-iis4-kb291589-mbr63-stream.vmdk", "vmdk",
                  "The MBR disk in a streamOptimized (deflate-compressed grains) VMDK.")
    qemu("qcow2", "", "containers/nt4-iis4-kb291589-mbr63.qcow2")
    add_container("nt4-iis4-kb291589-mbr63-qcow2", "containers/nt4-iis4-kb291589-mbr63.qcow2", "qcow2",
                  "The MBR disk in qcow2 (v3).")
    qemu("qcow2", "", "containers/nt4-iis4-kb291589-mbr63-compressed.qcow2", extra=["-c"])
    add_container("nt4-iis4-kb291589-mbr63-qcow2-compressed", "containers/nt4-iis4-kb291589-mbr63-compressed.qcow2",
                  "qcow2", "The MBR disk in qcow2 with compressed clusters (qemu-img convert -c).")

    ewf_common = frozen(T_ACQUIRE) + ["ewfacquire", "-u", "-q", "-C", "verskew", "-D", "verskew fixture", "-e", "verskew factory",
                  "-E", "1", "-N", "generated by testdata/build", "-m", "fixed", "-M", "physical"]
    run(ewf_common + ["-c", "deflate:best", "-t", os.path.join(cont, "nt4-iis4-kb291589-mbr63"), mbr_img],
        stdout=subprocess.DEVNULL)
    add_container("nt4-iis4-kb291589-mbr63-e01", "containers/nt4-iis4-kb291589-mbr63.E01", "ewf",
                  "The MBR disk in one EnCase 6 E01 segment (deflate, best).")
    run(ewf_common + ["-c", "none", "-S", str(1024 * 1024), "-t", os.path.join(cont, "nt4-iis4-kb291589-mbr63-split"),
                      mbr_img], stdout=subprocess.DEVNULL)
    segs = sorted(x for x in os.listdir(cont) if x.startswith("nt4-iis4-kb291589-mbr63-split.E"))
    add_container("nt4-iis4-kb291589-mbr63-e01-split", "containers/" + segs[0], "ewf",
                  "The MBR disk in %d uncompressed E01 segments of at most 1 MiB (.E01, .E02, ...)." % len(segs),
                  segments=["containers/" + s for s in segs])
    run(["split", "-b", str(1024 * 1024), "-d", "-a", "3", "--numeric-suffixes=1", mbr_img,
         os.path.join(cont, "nt4-iis4-kb291589-mbr63.")])
    rsegs = sorted(x for x in os.listdir(cont) if re.fullmatch(r"nt4-iis4-kb291589-mbr63\.\d{3}", x))
    add_container("nt4-iis4-kb291589-mbr63-split-raw", "containers/" + rsegs[0], "split-raw",
                  "The MBR disk as split raw (%d x 1 MiB segments .001, .002, ...)." % len(rsegs),
                  segments=["containers/" + s for s in rsegs])

    # 7. Damaged variants of image 1.
    dmg = os.path.join(out, "damaged")
    os.makedirs(dmg, exist_ok=True)

    p = F.place(demo_vol, "damaged/damaged-mft-fixup.img")
    victim = "\\WINNT\\system32\\inetsrv\\isatq.dll"
    ino = damage_mft_fixup(p, victim)
    F.add("damaged-mft-fixup", "damaged/damaged-mft-fixup.img", "raw", "bare", 0, 4096, None, None, meta_of(e1),
          "Image 1 with a broken update-sequence fixup in MFT record %d (isatq.dll): the record must be rejected, "
          "the rest of the volume still read." % ino,
          [lockstep_w3svc()], damaged="mft-fixup", expect_unreadable=[victim], extra_files=e1["files"],
          status="partial")

    p = F.place(demo_vol, "damaged/damaged-truncated.img")
    size = os.path.getsize(p)
    unreadable = truncated_unreadable(p, size // 2, e1["files"])
    with open(p, "r+b") as f:
        f.truncate(size // 2)
    def is_lost(path):
        return any(path == u or path.startswith(u.rstrip("\\") + "\\") for u in unreadable)

    hives_lost = any(is_lost("\\WINNT\\system32\\config\\" + h) for h in ("SYSTEM", "SOFTWARE"))
    tfind = [] if hives_lost or is_lost(W3) else [lockstep_w3svc()]
    tmeta = meta_of(e1)
    if hives_lost:
        # Hives lost: a correct tool cannot know the OS version, service pack,
        # control set or hotfixes, and has no versions to compare.
        tmeta.update(os_version="", os_build="", service_pack="", control_set="", hotfixes=[], product_name="",
                     services=[])
    F.add("damaged-truncated", "damaged/damaged-truncated.img", "raw", "bare", 0, 4096, None, None, tmeta,
          "Image 1 cut in half (%d of %d bytes): the boot sector and $MFT survive, but the index blocks of "
          "the directories listed in expect_unreadable (and most file data) lay past the cut: nothing below "
          "them can be listed or read." % (size // 2, size),
          tfind, damaged="truncated", expect_unreadable=unreadable, extra_files=e1["files"],
          status="not-evaluated" if hives_lost else "partial")

    vol, files, hives, meta = F.volume("damaged-hive-cell", lambda: nt4_image(corrupt_hotfix="Q301625"), NT4_SIZE)
    F.place(vol, "damaged/damaged-hive-cell.img")
    F.add("damaged-hive-cell", "damaged/damaged-hive-cell.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Image 1 whose SOFTWARE hive has a corrupt key cell (bad nk signature, absurd cell size) for "
          "Hotfix\\Q301625: the hotfix list loses Q301625, everything else still reads.",
          [lockstep_w3svc()], damaged="hive-cell", status="partial", reason="Hotfix")

    vol, files, hives, meta = F.volume("damaged-version-resource", lambda: nt4_image(corrupt_version="infocomm.dll"),
                                       NT4_SIZE)
    F.place(vol, "damaged/damaged-version-resource.img")
    ic = "\\WINNT\\system32\\inetsrv\\infocomm.dll"
    F.add("damaged-version-resource", "damaged/damaged-version-resource.img", "raw", "bare", 0, 4096, files, hives,
          meta, "Image 1 where infocomm.dll's VS_VERSIONINFO length fields are garbage (wLength 3, wValueLength "
                "0xFFFF): no version for infocomm.dll, the w3svc.dll mismatch is still found.",
          [lockstep_w3svc(), finding("no-version-resource", "warning", ic)], damaged="version-resource")

    p = F.place(demo_vol, "damaged/damaged-index-loop.img")
    damage_index_loop(p, "\\WINNT\\system32\\inetsrv", "MetaBack")
    F.add("damaged-index-loop", "damaged/damaged-index-loop.img", "raw", "bare", 0, 4096, None, None, meta_of(e1),
          "Image 1 where the index entry inetsrv\\MetaBack points back at the inetsrv directory itself "
          "(a directory cycle): a walker must detect the loop and still read the DLLs.",
          [lockstep_w3svc()], damaged="index-loop", extra_files=e1["files"], status="partial", reason="MetaBack")

    # 8. What a correct tool must call "not evaluated" (or "partial"), each
    # beside a healthy twin above: an OS with no IIS knowledge (with and
    # without IIS), an OS with knowledge but no IIS, and unreadable hives.
    vol, files, hives, meta = F.volume(
        "w2k8r2-iis75", lambda: nt61_image("Windows Server 2008 R2 Standard", "ServerStandard", iis=True), NT4_SIZE,
        label="Windows")
    F.place(vol, "w2k8r2-iis75.img")
    F.add("w2k8r2-iis75", "w2k8r2-iis75.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Windows Server 2008 R2 Standard SP1 (NT 6.1 build 7601) with IIS 7.5: W3SVC and WAS in svchost -k "
          "iissvcs with ServiceDll iisw3adm.dll, HTTP.sys, InetStp 7.5, and IIS 7.5 files at 7.5.7601.17514 "
          "(illustrative). w3wp.exe, w3dt.dll and iisw3adm.dll share their names with IIS 6 files: a tool that "
          "matches by name alone would judge them against IIS 6 knowledge. The IIS 7.5 version rules run (all one "
          "build: quiet), but there is no applicationHost.config, so the module rules had nothing to read: partial.",
          [], status="partial", reason="applicationHost.config was not found")
    vol, files, hives, meta = F.volume(
        "win7-noiis", lambda: nt61_image("Windows 7 Professional", "Professional", iis=False), NT4_SIZE,
        label="Windows")
    F.place(vol, "win7-noiis.img")
    F.add("win7-noiis", "win7-noiis.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Windows 7 Professional SP1 (NT 6.1 build 7601) without IIS: no inetsrv folder, no IIS service, no "
          "InetStp key. The IIS 7.5 knowledge applies to NT 6.1 but finds nothing to judge: not evaluated.",
          [], status="not-evaluated", reason="no IIS component found")
    vol, files, hives, meta = F.volume("nt4-noiis", lambda: nt4_image("noiis"), NT4_SIZE)
    F.place(vol, "nt4-noiis.img")
    F.add("nt4-noiis", "nt4-noiis.img", "raw", "bare", 0, 4096, files, hives, meta,
          "The seed's NT 4.0 SP6 system without IIS: no inetsrv folder, no IIS service (only EventLog, run by "
          "services.exe), no InetStp or INetMgr key, no IIS hotfix. The IIS 4 knowledge applies to NT 4.0 but "
          "finds nothing to judge: not evaluated, never healthy.",
          [], status="not-evaluated", reason="no IIS component found")
    hive_dir = "\\WINNT\\system32\\config\\"
    vol, files, hives, meta = F.volume("damaged-hives-unreadable", nt4_image, NT4_SIZE,
                                       hive_damage={"SYSTEM": "garbage", "SOFTWARE": "zero-base"})
    F.place(vol, "damaged/damaged-hives-unreadable.img")
    F.add("damaged-hives-unreadable", "damaged/damaged-hives-unreadable.img", "raw", "bare", 0, 4096, files, hives,
          meta, "Image 1 with both hives destroyed: every byte of SYSTEM replaced by text (no regf, no hbin), and "
                "the 4096-byte base block of SOFTWARE zeroed (its hive bins intact). The files are image 1's, "
                "w3svc.dll mismatch included, but without the hives the OS, service pack, control set, services "
                "and hotfixes are unknown: the IIS 4 family still applies by its files' 4.2 version line, so the "
                "file rules run and find the mismatch; the registry rules cannot: partial.",
          [lockstep_w3svc()], damaged="hives-unreadable", expect_unreadable=[hive_dir + "SOFTWARE", hive_dir + "SYSTEM"],
          status="partial", reason="the SOFTWARE and SYSTEM hives could not be read")
    vol, files, hives, meta = F.volume("damaged-system-hive", nt4_image, NT4_SIZE,
                                       hive_damage={"SYSTEM": "zero-base"})
    F.place(vol, "damaged/damaged-system-hive.img")
    F.add("damaged-system-hive", "damaged/damaged-system-hive.img", "raw", "bare", 0, 4096, files, hives, meta,
          "Image 1 whose SYSTEM hive has its 4096-byte base block zeroed (hive bins intact); SOFTWARE is whole. "
          "The OS, service pack and hotfixes are known, the control set and services are not. The lockstep rules "
          "still run on the files (the w3svc.dll mismatch stays): partial.",
          [lockstep_w3svc()], damaged="system-hive", expect_unreadable=[hive_dir + "SYSTEM"],
          status="partial", reason="the SYSTEM hive could not be read")

    # 9. NT 4.0 as it really was: FAT C: volumes, SYSTEM.ALT, an old-format log.
    import nt4_variants
    nt4_variants.build(F, sys.modules[__name__])
    # 10. NTFS 1.2 (NT 3.51/4.0) volumes.
    ntfs12_images(F)
    # 11. Installs across volumes and drive letters (testdata/build/multivol.py).
    import multivol
    multivol.build(F, sys.modules[__name__])
    # 12. IIS 7.5 and IIS 10: modules, bitness, builds (testdata/build/iis7_images.py).
    import iis7_images
    iis7_images.build(F, sys.modules[__name__])
    # 12. What each update recorded it installed (testdata/build/updates_images.py).
    import updates_images
    updates_images.build(F, sys.modules[__name__])
    # 12b. The static loader check (testdata/build/loader_images.py).
    import loader_images
    loader_images.build(F, sys.modules[__name__])
    # 13. PendingFileRenameOperations judged both ways (testdata/build/pending_images.py).
    import pending_images
    pending_images.build(F, sys.modules[__name__])
    # 14. The loader check on IIS 7+ modules, WOF-compressed inetsrv (testdata/build/modloader_images.py).
    import modloader_images
    modloader_images.build(F, sys.modules[__name__])
    # 15. The component store as truth (testdata/build/store_images.py).
    import store_images
    store_images.build(F, sys.modules[__name__])
    # 16. Sections, schema, web.config and the ASP.NET Core Module (testdata/build/sections_images.py).
    import sections_images
    sections_images.build(F, sys.modules[__name__])

    # Manifest
    hdr = ("# verskew test images. GENERATED by testdata/build/make-all.sh from the table in\n"
           "# testdata/build/factory.py -- do not edit by hand. See testdata/README.md.\n\n")
    with open(os.path.join(out, "images.toml"), "w") as f:
        f.write(hdr + "\n".join(manifest_entry(e) for e in F.entries))
    log("wrote", os.path.join(out, "images.toml"), "with", len(F.entries), "images")


def help_files(builder, count=48):
    """`builder` plus `count` small long-named help pages in \\WINNT\\Help:
    a directory whose index needs $INDEX_ALLOCATION (several blocks)."""
    def build():
        files, sysh, sw, meta = builder()
        for i in range(count):
            body = b"<html><body>IIS 4 help topic %d</body></html>\r\n" % i
            files.append(FileSpec(("WINNT", "Help", "%02d IIS help topic.htm" % i), T_OP_INSTALL, data=body))
        return files, sysh, sw, meta
    return build


def index_vcns(img, winpath):
    """VCN field of each INDX block of a directory's $INDEX_ALLOCATION, in
    allocation order, and the index block size."""
    cs, _, _ = boot_params(img)
    with open(img, "rb") as f:
        f.seek(0x44)
        cpi = struct.unpack("<b", f.read(1))[0]
        block = cs * cpi if cpi > 0 else 1 << -cpi
        ino = tsk_inode(img, winpath)
        out = []
        for c in data_clusters(tsk_istat(img, ino), attr="$INDEX_ALLOCATION (160-"):
            for k in range(max(cs // block, 1)):
                f.seek(c * cs + k * block)
                b = f.read(block)
                if b[:4] == b"INDX":
                    out.append(struct.unpack_from("<q", b, 0x10)[0])
    return out, block


def ntfs12_images(F):
    """The seed and its healthy twin on NTFS 1.2 (ntfs12.py converts the
    mkntfs 3.1 volume; The Sleuth Kit must read the result as 1.2 with every
    file intact), plus 512-byte (fragmented) and 8 KiB cluster variants."""
    W3 = "\\WINNT\\system32\\inetsrv\\w3svc.dll"
    seed = ("NT 4.0 SP6 + IIS 4 with the seed's KB Q291589 mismatch (w3svc.dll at Option Pack RTM 4.2.622.1, "
            "its peers at 4.2.769.1) on an NTFS 1.2 volume as NT 4.0 formatted it")
    table = [
        ("nt4-iis4-kb291589-ntfs12", nt4_image, NT4_SIZE, 4096, seed + ".", [lockstep_w3svc()]),
        ("nt4-iis4-healthy-ntfs12", lambda: nt4_image("healthy"), NT4_SIZE, 4096,
         "nt4-iis4-healthy (consistent NT 4.0 SP6 + IIS 4) on an NTFS 1.2 volume.", []),
        ("nt4-iis4-kb291589-ntfs12-frag", lambda: nt4_image(frag=True), NT4_SIZE, 512,
         seed + ", with 512-byte clusters and w3svc.dll fragmented into %d data runs.", [lockstep_w3svc()]),
        ("nt4-iis4-kb291589-ntfs12-8k", help_files(nt4_image), 2 * 1024 * 1024, 8192,
         seed + ", with 8 KiB clusters (larger than the 4 KiB index block: index VCNs count 512-byte units) "
         "and 48 help pages in \\WINNT\\Help, whose index needs %d index blocks.", [lockstep_w3svc()]),
    ]
    for name, builder, size, cluster, desc, findings in table:
        vol, files, hives, meta = F.volume(name, builder, size, cluster=cluster)
        before = ntfs12.snapshot(vol)
        ntfs12.convert(vol)
        written = {"/".join(fs.path): fs.bytes for fs in files}
        written.update({"/".join(hp): data for hp, data in hives})
        n = ntfs12.prove(vol, before, written)
        log("%-34s NTFS 1.2, The Sleuth Kit reads all %d files" % (name, n))
        img = F.place(vol, name + ".img")
        ent = spec_entries(files, hives, meta)
        if name.endswith("-frag"):
            runs = count_runs(data_clusters(tsk_istat(img, tsk_inode(img, W3))))
            if runs < 3:
                raise RuntimeError("w3svc.dll has only %d runs in %s" % (runs, name))
            for x in ent:
                if x["path"] == W3:
                    x["ntfs_runs"] = runs
            desc = desc % runs
        if name.endswith("-8k"):
            vcns, block = index_vcns(img, "\\WINNT\\Help")
            if len(vcns) < 2 or sorted(vcns) != [i * block // SECTOR for i in range(len(vcns))]:
                raise RuntimeError("%s: \\WINNT\\Help index VCNs %s are not in 512-byte units" % (name, vcns))
            desc = desc % len(vcns)
        e = F.add(name, name + ".img", "raw", "bare", 0, cluster, files, hives, meta, desc, findings,
                  extra_files=ent)
        e["filesystem"] = "ntfs-1.2"


def meta_of(e):
    return dict(system_root=e["system_root"], os_version=e["os_version"], os_build=e["os_build"],
                service_pack=e["service_pack"], control_set=e["control_set"], hotfixes=e["hotfixes"],
                product_name=e["product_name"], services=e["services"])


def truncated_unreadable(img, cut, file_entries):
    """Files whose MFT record or any data cluster lies at or past `cut`."""
    cs, _, rec = boot_params(img)
    out = []
    lost_cache = {}

    def lost(winpath, attr):
        key = (winpath, attr)
        if key not in lost_cache:
            ino = 5 if winpath == "\\" else tsk_inode(img, winpath)
            roff, _ = mft_record_offset(img, ino)
            clusters = [c for c in data_clusters(tsk_istat(img, ino), attr=attr) if c]
            lost_cache[key] = roff + rec > cut or any((c + 1) * cs > cut for c in clusters)
        return lost_cache[key]

    for fe in file_entries:
        parts = fe["path"].split("\\")[1:]
        # Every ancestor directory must still be readable (record + index
        # blocks). When one is not, a tool cannot even list what lies below
        # it, so the expectation is the topmost lost directory itself.
        dirs = ["\\" + "\\".join(parts[:i]) for i in range(0, len(parts))]
        gone = [d for d in dirs if lost(d, "$INDEX_ALLOCATION (160-")]
        if gone:
            p = gone[0]
        elif lost(fe["path"], "$DATA (128-"):
            p = fe["path"]
        else:
            continue
        if p not in out:
            out.append(p)
    return out


if __name__ == "__main__":
    main()

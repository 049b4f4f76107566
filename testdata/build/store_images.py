"""Component store images (issue 13): Windows Server 2008 R2 and Server 2019
installs whose System32\\inetsrv files are checked against %windir%\\WinSxS.

On Vista and later the live file is an NTFS hard link to its copy in a
component folder (amd64_<component>_31bf3856ad364e35_<version>_none_<hash>).
Here the volume is written as every other factory image (mkntfs + ntfs-3g),
then mounted read-write once more with ntfs-3g, where os.link() makes real
NTFS hard links (one MFT record, two $FILE_NAME attributes) from inetsrv to
the component copies. Server 2008 R2 manifests (WinSxS\\Manifests) are plain
XML with the SHA-256 of each file, computed here from the bytes written;
Server 2019 manifests are stand-ins for the delta-compressed form Windows 8
and later write: "DCM\\x01" then "PA30" and bytes no one can decode.

  w2k8r2-store-healthy            every inetsrv file linked to its component, manifests agree: quiet
  w2k8r2-store-manifest-mismatch  inetsrv\\iiscore.dll a separate copy at another revision: its hash and
                                  version disagree with the manifest and the component
  w2k8r2-store-older-component    iiscore.dll linked to the 17514 component while 23505 is in the store;
                                  pending.xml and SetupExecute say servicing is pending (a warning:
                                  servicing may project another branch than the newest)
  w2k19-store-healthy             DCM manifests: hard links and folder versions only: quiet
  w2k19-store-not-linked          iiscore.dll a separate copy at another revision (error), w3wp.exe a
                                  separate copy at the component's revision (warning)
  w2k8r2-store-hostile            the healthy store with a truncated manifest, a manifest with a DTD
                                  and a component folder name of 252 characters: partial, no finding

Called from factory.build_all as store_images.build(F, factory_module).
"""

import base64
import hashlib
import os

import iis7_images

TOKEN = "31bf3856ad364e35"
SIZE = 4 * 1024 * 1024
T_PENDING = "2012-01-31T23:00:00Z"

# Components of the IIS files (names as Windows 7 / Server 2008 R2 use them;
# each small enough that a finding names one file).
R2_COMPONENTS = [
    ("microsoft-windows-iis-corewebengine", ["iiscore.dll"]),
    ("microsoft-windows-iis-sharedlibraries", ["iisutil.dll", "w3dt.dll", "w3tp.dll"]),
    ("microsoft-windows-iis-w3svc", ["iisw3adm.dll", "w3wp.exe"]),
    ("microsoft-windows-iis-staticcontent", ["static.dll"]),
    ("microsoft-windows-iis-defaultdocument", ["defdoc.dll"]),
]
DESC = dict(iis7_images.DESC, **{"static.dll": "Static File Module", "defdoc.dll": "Default Document Module"})


def folder_name(comp, ver, arch="amd64"):
    v = "%d.%d.%d.%d" % ver
    h = hashlib.sha1(("%s|%s|%s" % (arch, comp, v)).encode()).hexdigest()[:16]
    return "%s_%s_%s_%s_none_%s" % (arch, comp, TOKEN, v, h)


def manifest_xml(comp, ver, files):
    """A Windows 7-style component manifest: each file with the SHA-256 of
    its bytes (base64), as <asmv2:hash> writes it."""
    v = "%d.%d.%d.%d" % ver
    out = ['<?xml version="1.0" encoding="utf-8" standalone="yes"?>',
           '<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0" '
           'copyright="Copyright (c) Microsoft Corporation. All Rights Reserved.">',
           '  <assemblyIdentity name="%s" version="%s" processorArchitecture="amd64" language="neutral" '
           'buildType="release" publicKeyToken="%s" versionScope="nonSxS" />' % (comp, v, TOKEN)]
    for name, data in files:
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        out += ['  <file name="%s" destinationPath="$(runtime.system32)\\inetsrv\\" sourceName="%s" '
                'importPath="$(build.nttree)\\" sourcePath=".\\">' % (name, name),
                '    <securityDescriptor name="WRP_FILE_DEFAULT_SDDL" />',
                '    <asmv2:hash xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" '
                'xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">',
                '      <dsig:Transforms>',
                '        <dsig:Transform Algorithm="urn:schemas-microsoft-com:HashTransforms.Identity" />',
                '      </dsig:Transforms>',
                '      <dsig:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha256" />',
                '      <dsig:DigestValue>%s</dsig:DigestValue>' % digest,
                '    </asmv2:hash>', '  </file>']
    out += ["</assembly>", ""]
    return "\r\n".join(out).encode("utf-8")


def dcm_manifest(comp, ver):
    """Stand-in for a Windows 8+ manifest: the DCM header and PA30 magic,
    then bytes only wcp.dll's dictionary would turn back into XML."""
    seed = hashlib.sha256(("%s %d.%d.%d.%d" % ((comp,) + ver)).encode()).digest()
    return b"DCM\x01PA30" + seed * 8


def build(F, fx):
    def pe(name, ver, machine, tag, exports=()):
        return fx.Pe(name, ver, "%d.%d.%d.%d %s" % (ver + (tag,)), DESC.get(name, "IIS module"),
                     fx.W2K3_PRODUCT, pstr="%d.%d.%d.%d" % ver, exe=name.endswith(".exe"), machine=machine,
                     exports=exports)

    def r2_base():
        """Server 2008 R2 SP1 x64 with IIS 7.5 and its configuration, as
        iis7_images' w2k8r2-iis75-config (x64 static.dll and defdoc.dll
        registered as global modules)."""
        files, sysh, sw, meta = fx.nt61_image("Windows Server 2008 R2 Standard", "ServerStandard", iis=True)
        sys32 = ("Windows", "System32")
        for n in ("static.dll", "defdoc.dll"):
            files.append(fx.FileSpec(sys32 + ("inetsrv", n), fx.T_W7_SP1,
                                     pe=pe(n, (7, 5, 7601, 17514), "x64", "(win7sp1_rtm.101119-1850)",
                                           ("RegisterModule",))))
        modules = [("StaticFileModule", "%windir%\\System32\\inetsrv\\static.dll", ""),
                   ("DefaultDocumentModule", "%windir%\\System32\\inetsrv\\defdoc.dll", "")]
        cfg = iis7_images.config_xml(modules, [("DefaultAppPool", False)],
                                     [("Default Web Site", "/", "DefaultAppPool")])
        files.append(fx.FileSpec(sys32 + ("inetsrv", "config", "applicationHost.config"), fx.T_W7_IISADD,
                                 data=cfg))
        for cs in ("ControlSet001", "ControlSet002"):
            sysh.key(cs + "\\Control\\Session Manager\\Environment",
                     [("PROCESSOR_ARCHITECTURE", fx.reg_sz("AMD64"))])
        return files, sysh, sw, meta

    def w2019_base():
        """Server 2019 (10.0.17763.1852) x64 with IIS 10 in inetsrv."""
        files, sysh, sw, meta = r2_base()
        sw.keys[("Microsoft", "Windows NT", "CurrentVersion")] = [
            ("CurrentVersion", fx.reg_sz("6.3")), ("CurrentMajorVersionNumber", fx.reg_dword(10)),
            ("CurrentMinorVersionNumber", fx.reg_dword(0)), ("CurrentBuildNumber", fx.reg_sz("17763")),
            ("CurrentBuild", fx.reg_sz("17763")), ("UBR", fx.reg_dword(1852)), ("ReleaseId", fx.reg_sz("1809")),
            ("ProductName", fx.reg_sz("Windows Server 2019 Standard")), ("EditionID", fx.reg_sz("ServerStandard")),
            ("InstallationType", fx.reg_sz("Server")), ("SystemRoot", fx.reg_sz("C:\\Windows"))]
        sw.keys[("Microsoft", "InetStp")] = [
            ("MajorVersion", fx.reg_dword(10)), ("MinorVersion", fx.reg_dword(0)),
            ("InstallPath", fx.reg_sz("C:\\Windows\\system32\\inetsrv")), ("SetupString", fx.reg_sz("IIS 10.0"))]
        keep = []
        for f in files:
            if f.pe and (f.pe.ver[:2] == (7, 5) or f.pe.name == "svchost.exe"):
                continue
            keep.append(f)
        tag = "(WinBuild.160101.0800)"
        keep.append(fx.FileSpec(("Windows", "System32", "svchost.exe"), iis7_images.T_INSTALL,
                                pe=pe("svchost.exe", (10, 0, 17763, 1), "x64", tag)))
        for comp, names in R2_COMPONENTS:
            for n in names:
                exports = ("RegisterModule",) if n in ("static.dll", "defdoc.dll") else ()
                keep.append(fx.FileSpec(("Windows", "System32", "inetsrv", n), iis7_images.T_CU,
                                        pe=pe(n, (10, 0, 17763, 1852), "x64", tag, exports)))
        meta.update(os_version="10.0", os_build="17763", service_pack="",
                    product_name="Windows Server 2019 Standard")
        return keep, sysh, sw, meta

    def store_volume(name, base, kind):
        """Writes the install, its component folders and manifests, then
        links inetsrv to the component copies. Returns what F.add needs."""
        files, sysh, sw, meta = base()
        w2019 = meta["os_version"] == "10.0"
        if kind == "older-component":
            # The servicing stack's boot-time executor, queued (Vista and later).
            for cs in ("ControlSet001", "ControlSet002"):
                sysh.key(cs + "\\Control\\Session Manager",
                         [("SetupExecute", fx.reg_multi("C:\\Windows\\System32\\poqexec.exe /display_progress "
                                                        "\\??\\C:\\Windows\\WinSxS\\pending.xml"))])
        hives = F.prepare(files, sysh, sw, meta, name)
        live = {f.path[-1].lower(): f for f in files if f.path[:3] == ("Windows", "System32", "inetsrv")}
        winsxs = ("Windows", "WinSxS")
        store_files, links, manifests = [], [], []
        comps = [(c, n, None) for c, n in R2_COMPONENTS]
        if kind == "older-component":
            # A later update's component for the core engine; inetsrv still
            # links to the 17514 one.
            comps.append(("microsoft-windows-iis-corewebengine", ["iiscore.dll"], (7, 5, 7601, 23505)))
        for comp, names, newer in comps:
            files_ver = newer or live[names[0]].pe.ver
            cver = (10, 0) + files_ver[2:] if w2019 else (6, 1) + files_ver[2:]
            folder = folder_name(comp, cver)
            data = []
            for n in names:
                src = live[n]
                spe = src.pe if newer is None else pe(n, newer, src.pe.machine, "(win7sp1_ldr.160707-0600)")
                copy = fx.FileSpec(winsxs + (folder, n), src.mtime if newer is None else T_PENDING, pe=spe)
                copy.bytes = fx.build_pe(spe, F.work)
                store_files.append(copy)
                data.append((n, copy.bytes))
                if newer is None:
                    links.append((copy, src))
            text = dcm_manifest(comp, cver) if w2019 else manifest_xml(comp, cver, data)
            if kind == "hostile" and comp.endswith("staticcontent"):
                text = text[:len(text) // 2]  # cut mid-element: not well-formed
            if kind == "hostile" and comp.endswith("defaultdocument"):
                text = (b'<?xml version="1.0"?>\r\n<!DOCTYPE assembly [<!ENTITY a "aaaaaaaaaa">'
                        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\r\n<assembly>&b;</assembly>\r\n')
            m = fx.FileSpec(winsxs + ("Manifests", folder + ".manifest"), fx.T_W7_SP1, data=text)
            m.bytes = text
            manifests.append(m)
        extra = []
        if kind == "hostile":
            long = "amd64_microsoft-windows-iis-" + "x" * 170 + "_%s_6.1.7601.17514_none_0123456789abcdef" % TOKEN
            f = fx.FileSpec(winsxs + (long, "iiscore.dll"), fx.T_W7_SP1, pe=live["iiscore.dll"].pe)
            f.bytes = live["iiscore.dll"].bytes
            extra.append(f)
        if kind == "older-component":
            p = fx.FileSpec(winsxs + ("pending.xml",), T_PENDING,
                            data=b'<?xml version="1.0" encoding="utf-8"?>\r\n<PendingTransaction Version="3.1" '
                                 b'Identifier="916ae75edb30da0146730000b8042416"/>\r\n')
            p.bytes = p.data
            extra.append(p)
        # Files not linked: written on their own.
        separate = []
        if kind in ("manifest-mismatch", "not-linked"):
            rev = {"manifest-mismatch": (7, 5, 7601, 17000), "not-linked": (10, 0, 17763, 1697)}[kind]
            src = live["iiscore.dll"]
            src.pe = pe("iiscore.dll", rev, src.pe.machine, "(copied from another server)")
            src.bytes = fx.build_pe(src.pe, F.work)
            separate.append(src)
        if kind == "not-linked":
            # Same version as its component, but a copy (another timestamp in
            # the string table makes other bytes): a warning.
            src = live["w3wp.exe"]
            src.pe = pe("w3wp.exe", src.pe.ver, src.pe.machine, "(WinBuild.160101.0800 copy)")
            src.bytes = fx.build_pe(src.pe, F.work)
            separate.append(src)
        links = [(c, s) for c, s in links if s not in separate]
        linked = [s for _, s in links]
        written = [f for f in files if f not in linked] + store_files + manifests + extra
        path = os.path.join(F.work, name + ".vol")
        fx.build_volume(path, written, hives, meta, F.work, SIZE, 4096, 0, "Windows")
        mnt = os.path.join(F.work, "mnt")
        with fx.Mount(path, mnt, when=meta["hive_time"]):
            for copy, src in links:
                dst = os.path.join(mnt, *src.path)
                os.link(os.path.join(mnt, *copy.path), dst)
                src.bytes = copy.bytes
                fx.set_times(dst, copy.mtime)
                src.mtime = copy.mtime
        fx.log("%-34s %7d bytes, %d hard links" % (name, SIZE, len(links)))
        return path, files + store_files + manifests + extra, hives, meta

    inet = "\\Windows\\System32\\inetsrv\\"
    cases = [
        ("w2k8r2-store-healthy", r2_base, "healthy",
         "Windows Server 2008 R2 SP1 x64 with IIS 7.5 whose WinSxS holds the IIS components "
         "(6.1.7601.17514, plain XML manifests with each file's SHA-256) and every System32\\inetsrv file a "
         "hard link to its component's copy (ntfs-3g link): quiet, the store checked by hard links, manifest "
         "hashes and component versions.", [], "evaluated", ""),
        ("w2k8r2-store-manifest-mismatch", r2_base, "manifest-mismatch",
         "The healthy store image whose inetsrv\\iiscore.dll is a separate file at 7.5.7601.17000 (copied from "
         "another server): its SHA-256 is not the digest the 6.1.7601.17514 corewebengine manifest gives, its "
         "revision is not the component's, and it is not the component's MFT record.",
         [fx.finding("not-store-copy", "error", inet + "iiscore.dll")], "evaluated", ""),
        ("w2k8r2-store-older-component", r2_base, "older-component",
         "The healthy store image with a later corewebengine component (6.1.7601.23505) in WinSxS while "
         "inetsrv\\iiscore.dll is still the hard link to the 17514 copy; WinSxS\\pending.xml and Session "
         "Manager SetupExecute (poqexec) say servicing waits for a reboot, which the finding notes.",
         [fx.finding("not-store-copy", "warning", inet + "iiscore.dll")], "evaluated", ""),
        ("w2k19-store-healthy", w2019_base, "healthy",
         "Windows Server 2019 (10.0.17763.1852) with IIS 10: every inetsrv file a hard link to its component "
         "copy (10.0.17763.1852); the manifests are delta-compressed (DCM), so the store is judged by hard "
         "links and folder versions only: quiet.", [], "evaluated", ""),
        ("w2k19-store-not-linked", w2019_base, "not-linked",
         "The Server 2019 store image whose inetsrv\\iiscore.dll is a separate file at 10.0.17763.1697 (another "
         "revision than its component's 1852: error) and whose w3wp.exe is a separate file at the component's "
         "own version (not the store's copy: warning).",
         [fx.finding("not-store-copy", "error", inet + "iiscore.dll"),
          fx.finding("not-store-copy", "warning", inet + "w3wp.exe")], "evaluated", ""),
        ("w2k8r2-store-hostile", r2_base, "hostile",
         "The healthy store image with damage a store parser must survive: the staticcontent manifest cut "
         "mid-element, the defaultdocument manifest carrying a DTD with nested entities (refused, never "
         "expanded), and a component folder whose name is 252 characters long (skipped and said). No "
         "finding; partial, naming what could not be read.", [], "partial", "could not be read"),
    ]
    for name, base, kind, desc, findings, status, reason in cases:
        vol, files, hives, meta = store_volume(name, base, kind)
        F.place(vol, name + ".img")
        F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta, desc, findings,
              status=status, reason=reason)

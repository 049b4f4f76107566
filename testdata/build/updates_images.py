"""What each update recorded it installed (issue 12): Windows 2000 + IIS 5
images whose SOFTWARE hive records MS01-044 (Q301625) the way Update.exe-era
installers did, under SOFTWARE\\Microsoft\\Updates\\Windows 2000\\SP3\\Q301625
(InstalledBy, InstalledDate as month/day/year, Type, Description; KB 888535)
with one numbered Filelist subkey per file (FileName, Version, Location,
BuildDate; KB 922979), beside its Hotfix\\Q301625 key and the
$NtUninstallQ301625$ folder holding the files it replaced.

The file versions are Q301625's own file table (knowledge/iis5-updates.toml,
from the KB article); the files it does not ship keep the illustrative
versions of factory.w2k_image. schmupd.exe is left out (its folder is not in
the table).

Images:
- w2k-iis5-updates-healthy: the record matches the disk: quiet.
- w2k-iis5-update-undone: infocomm.dll back at 5.0.2195.3649, written
  2001-11-02, after the update's install (2001-08-20): undone-update.
- w2k-iis5-update-predates: the same older infocomm.dll, last written
  2001-06-15, before the install: undone-update says the order cannot tell
  a failed install from a copy that kept its build time.
- w2k-iis5-updates-hostile: values of the wrong types, an entry without a
  name, a version that is no version, a record without Filelist, a string
  past the cap: each said as unreadable, no finding from the bogus records.

Called from factory.build_all as updates_images.build(F, factory_module).
"""

REG_BINARY = 3
REG_DWORD = 4

T_Q301625 = "2001-08-20T16:45:00Z"
Q301625_DATE = "8/20/2001"
T_PUT_BACK = "2001-11-02T10:20:00Z"
LOCATION = "%windir%\\system32\\inetsrv"
UPD = "Microsoft\\Updates\\Windows 2000\\SP3\\Q301625"

# Q301625's file table (KB Q301625; knowledge/iis5-updates.toml), inetsrv files.
Q301625 = {
    "adsiis.dll": 4051, "asp.dll": 4051, "fscfg.dll": 3649, "ftpctrs2.dll": 4051, "ftpmib.dll": 4051,
    "httpext.dll": 4051, "httpmib.dll": 4051, "httpodbc.dll": 4051, "iisrtl.dll": 4063, "infoadmn.dll": 4051,
    "infocomm.dll": 4051, "isatq.dll": 4051, "ism.dll": 3649, "ssinc.dll": 3747, "w3ctrs.dll": 4051,
    "w3svc.dll": 4051,
}
# Files of the base image Q301625 does not ship (illustrative SP2-era builds).
OTHERS = {"ftpsvc2.dll": 2096, "iislog.dll": 2096, "mdsync.dll": 2096}


def base(fx, infocomm=None):
    """factory.w2k_image with MS02-018 replaced by MS01-044 (Q301625).
    `infocomm`: (build, mtime) of an older infocomm.dll put in its place."""
    files, sysh, sw, meta = fx.w2k_image()
    inetsrv = ("WINNT", "system32", "inetsrv")
    keep = [f for f in files if f.path[1] != "$NtUninstallQ319733$"
            and f.path[-1] not in Q301625 and f.path[-1] not in OTHERS]
    files = keep
    for n, b in sorted(Q301625.items()):
        when = T_Q301625
        if n == "infocomm.dll" and infocomm:
            b, when = infocomm
        files.append(fx.FileSpec(inetsrv + (n,), when,
                                 pe=fx.Pe(n, (5, 0, 2195, b), "5.00.2195.%d" % b, fx.W2K_DESC[n], fx.W2K_PRODUCT)))
    for n, b in sorted(OTHERS.items()):
        desc = fx.W2K_DESC.get(n, "IIS Metabase Synchronization" if n == "mdsync.dll" else n)
        files.append(fx.FileSpec(inetsrv + (n,), fx.T_W2K_SP2,
                                 pe=fx.Pe(n, (5, 0, 2195, b), "5.00.2195.%d" % b, desc, fx.W2K_PRODUCT)))
    # The files the update replaced, kept in its uninstall folder.
    for n in ("infocomm.dll", "w3svc.dll"):
        files.append(fx.FileSpec(("WINNT", "$NtUninstallQ301625$", n), T_Q301625,
                                 pe=fx.Pe(n, (5, 0, 2195, 3649), "5.00.2195.3649", fx.W2K_DESC[n], fx.W2K_PRODUCT)))
    for k in [k for k in sw.keys if "Q319733" in k]:
        del sw.keys[k]
    sw.key("Microsoft\\Windows NT\\CurrentVersion\\Hotfix\\Q301625", [
        ("Installed", fx.reg_dword(1)), ("Backup Dir", fx.reg_sz("C:\\WINNT\\$NtUninstallQ301625$")),
        ("Fix Description", fx.reg_sz("MS01-044: Patch for SSI Privilege Elevation Vulnerability")),
        ("Installed By", fx.reg_sz("Administrator")), ("Installed On", fx.reg_sz(Q301625_DATE)),
        ("Service Pack", fx.reg_dword(3)), ("Valid", fx.reg_dword(1))], when=T_Q301625)
    meta.update(hotfixes=["Q301625"],
                dir_times={("WINNT", "$NtUninstallQ301625$"): T_Q301625})
    return files, sysh, sw, meta


def record(fx, sw, files=None):
    """The Updates record of Q301625 with its Filelist (every file its table
    lists in inetsrv, at the table's version)."""
    sw.key(UPD, [("Description", fx.reg_sz("MS01-044: Patch for SSI Privilege Elevation Vulnerability")),
                 ("InstalledBy", fx.reg_sz("Administrator")), ("InstalledDate", fx.reg_sz(Q301625_DATE)),
                 ("Type", fx.reg_sz("Update"))], when=T_Q301625)
    for i, (n, b) in enumerate(sorted((files or Q301625).items())):
        sw.key("%s\\Filelist\\%d" % (UPD, i), [
            ("FileName", fx.reg_sz(n)), ("Version", fx.reg_sz("5.0.2195.%d" % b)),
            ("Location", fx.reg_sz(LOCATION)), ("BuildDate", fx.reg_sz("Fri Aug 10 11:02:00 2001"))])


def healthy(fx):
    files, sysh, sw, meta = base(fx)
    record(fx, sw)
    return files, sysh, sw, meta


def undone(fx, when):
    def build():
        files, sysh, sw, meta = base(fx, infocomm=(3649, when))
        record(fx, sw)
        return files, sysh, sw, meta
    return build


def hostile(fx):
    files, sysh, sw, meta = base(fx)
    sz, dw = fx.reg_sz, fx.reg_dword
    # The real record, its values mistyped and its entries damaged.
    sw.key(UPD, [("Description", dw(44)), ("InstalledBy", (REG_BINARY, b"\x01\x02\x03")),
                 ("InstalledDate", sz("the twentieth of August")), ("Type", sz("U" * 2000))], when=T_Q301625)
    entries = [
        [("FileName", sz("infocomm.dll")), ("Version", dw(4051)), ("Location", sz(LOCATION))],
        [("Version", sz("5.0.2195.9999")), ("Location", sz(LOCATION))],
        [("FileName", sz("w3svc.dll")), ("Version", sz("five.oh")), ("Location", sz(LOCATION))],
        [("FileName", (REG_BINARY, b"w3svc.dll")), ("Version", sz("5.0.2195.9999")), ("Location", sz(LOCATION))],
        [("FileName", sz("isatq.dll")), ("Version", sz("5.0.2195.4051")), ("Location", dw(7))],
    ]
    for i, vals in enumerate(entries):
        sw.key("%s\\Filelist\\%d" % (UPD, i), vals)
    # A record without its Filelist. (Counts past the caps are tested on
    # hives built in memory, src/windows/updates.rs: hivex grows a hive by
    # megabytes for a thousand subkeys of one key.)
    sw.key("Microsoft\\Updates\\Windows 2000\\SP3\\Q999991", [("Description", sz("no file list")),
                                                              ("InstalledDate", sz("13/45/2001"))])
    return files, sysh, sw, meta


def build(F, fx):
    size = fx.NT4_SIZE
    story = ("Windows 2000 SP2 + IIS 5 with MS01-044 (Q301625) installed on 2001-08-20: its Hotfix key, its "
             "$NtUninstallQ301625$ folder (infocomm.dll and w3svc.dll as they were before it) and its record "
             "under SOFTWARE\\Microsoft\\Updates\\Windows 2000\\SP3\\Q301625 with a Filelist entry per file "
             "(FileName, Version, Location %windir%\\system32\\inetsrv); files at Q301625's own versions "
             "(KB table: most 5.0.2195.4051, iisrtl .4063, ssinc .3747, fscfg and ism .3649)")
    inf = "\\WINNT\\system32\\inetsrv\\infocomm.dll"

    vol, files, hives, meta = F.volume("w2k-iis5-updates-healthy", lambda: healthy(fx), size)
    F.place(vol, "w2k-iis5-updates-healthy.img")
    F.add("w2k-iis5-updates-healthy", "w2k-iis5-updates-healthy.img", "raw", "bare", 0, 4096, files, hives, meta,
          story + ". Every file matches its record: quiet.", [])

    vol, files, hives, meta = F.volume("w2k-iis5-update-undone", undone(fx, T_PUT_BACK), size)
    F.place(vol, "w2k-iis5-update-undone.img")
    F.add("w2k-iis5-update-undone", "w2k-iis5-update-undone.img", "raw", "bare", 0, 4096, files, hives, meta,
          story + "; but infocomm.dll is back at 5.0.2195.3649, written 2001-11-02, after the install: the record "
          "says 5.0.2195.4051 (undone-update), and its peers at versions only Q301625 shipped say the same "
          "without the record (behind-update).",
          [fx.finding("behind-update", "error", inf), fx.finding("undone-update", "error", inf)])

    vol, files, hives, meta = F.volume("w2k-iis5-update-predates", undone(fx, fx.T_W2K_SP2), size)
    F.place(vol, "w2k-iis5-update-predates.img")
    F.add("w2k-iis5-update-predates", "w2k-iis5-update-predates.img", "raw", "bare", 0, 4096, files, hives, meta,
          story + "; but infocomm.dll is at 5.0.2195.3649, last written 2001-06-15, before the install: "
          "undone-update still reports it (the file is the truth) and says the order cannot tell an update that "
          "never replaced it from an older copy that kept its build time.",
          [fx.finding("behind-update", "error", inf), fx.finding("undone-update", "error", inf)])

    vol, files, hives, meta = F.volume("w2k-iis5-updates-hostile", lambda: hostile(fx), size)
    F.place(vol, "w2k-iis5-updates-hostile.img")
    k = "\\WINNT\\system32\\config\\SOFTWARE\\" + UPD
    F.add("w2k-iis5-updates-hostile", "w2k-iis5-updates-hostile.img", "raw", "bare", 0, 4096, files, hives, meta,
          "The healthy Q301625 image with a hostile Updates tree: Description a REG_DWORD, InstalledBy binary, "
          "InstalledDate no date, Type 2000 characters; Filelist entries with a DWORD version, no FileName, "
          "'five.oh' for a version, a binary FileName, a DWORD Location; a record without Filelist. Each is "
          "said as unreadable; no finding.",
          [], status="partial", reason="could not be read",
          expect_unreadable=[k + "\\Description", k + "\\InstalledBy", k + "\\Type",
                             k + "\\Filelist\\0\\Version", k + "\\Filelist\\1", k + "\\Filelist\\2\\Version",
                             k + "\\Filelist\\3\\FileName", k + "\\Filelist\\4\\Location"])

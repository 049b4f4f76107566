"""Installs across volumes and drive letters (issue 11).

NT 4.0 as it was often set up: a small FAT16 boot partition C: holding only
the boot files (boot.ini, NTLDR, NTDETECT.COM), \\WINNT on an NTFS D:, and
applications on a third volume E:. The SYSTEM hive says which letter is
which partition in NT 4.0's way: the binary value HKLM\\SYSTEM\\DISK\\Information
(DISK_CONFIG_HEADER + DISK_REGISTRY, layout from the DDK's ntdskreg.h and
ntddft.h, DISK_PARTITION packed to 4 bytes: 52 bytes each).

Tools: mkfs.fat + mtools (FAT16 C:), mkntfs + ntfs-3g (D:, E:), sfdisk
(the table), hivex (the hives, through factory.Hive).

Called from factory.build_all as multivol.build(F, factory_module).
"""

import os
import struct
import subprocess

SECTOR = 512
DISK_SIGNATURE = 0x4E543430  # "NT40" in the MBR at 0x1B8
BOOT_SECTORS = 5120  # 2.5 MiB: FAT16 with 512-byte clusters (> 4085 clusters)
REG_BINARY = 3

T_NT_SETUP = "1999-11-19T09:00:00Z"

# Windows 2000 setup writes signature() when the BIOS cannot reach the disk;
# here it names this disk, so the entry still leads to D:.
W2K_BOOT_INI = (
    b"[boot loader]\r\n"
    b"timeout=30\r\n"
    b"default=signature(4e543430)disk(0)rdisk(0)partition(2)\\WINNT\r\n"
    b"[operating systems]\r\n"
    b"signature(4e543430)disk(0)rdisk(0)partition(2)\\WINNT=\"Microsoft Windows 2000 Server\" /fastdetect\r\n"
    b"multi(0)disk(0)rdisk(1)partition(1)\\WINNT=\"Windows 2000 on the second disk\" /fastdetect\r\n"
)

BOOT_INI = (
    b"[boot loader]\r\n"
    b"timeout=30\r\n"
    b"default=multi(0)disk(0)rdisk(0)partition(2)\\WINNT\r\n"
    b"[operating systems]\r\n"
    b"; written by NT 4.0 setup\r\n"
    b"multi(0)disk(0)rdisk(0)partition(2)\\WINNT=\"Windows NT Server Version 4.00\"\r\n"
    b"MULTI(0)DISK(0)RDISK(0)PARTITION(2)\\WINNT=\"Windows NT Server Version 4.00 [VGA mode]\" /basevideo /sos\r\n"
    b"C:\\=\"MS-DOS\"\r\n"
)


def disk_information(signature, parts):
    """The NT 4.0 DISK\\Information value for one disk: parts are
    (byte offset, byte length, letter or None)."""
    reg = struct.pack("<HH", 1, 0) + struct.pack("<HHI", len(parts), 0, signature)
    for i, (offset, length, letter) in enumerate(parts):
        reg += struct.pack(
            "<IIqqqII BBHHHB3s",
            4,  # FtType: NotAnFtMember
            0,  # FtState: Healthy
            offset, length, 0,  # StartingOffset, Length, FtLength
            0, 0,  # ReservedTwoLongs
            ord(letter) if letter else 0,  # DriveLetter
            1 if letter else 0,  # AssignDriveLetter
            i + 1,  # LogicalNumber
            0, 0,  # FtGroup, FtMember
            0, b"\0\0\0")  # Modified, ReservedChars
    assert len(reg) == 4 + 8 + 52 * len(parts)
    header = struct.pack("<II B3s IIIIIIII", 3, 0, 0, b"\0\0\0",
                         44, len(reg), 44 + len(reg), 0, 0, 0, 0, 0)
    assert len(header) == 44
    return header + reg


def _rewrite(h, old, new):
    """Replaces `old` by `new` in every string value of hive description h."""
    for parts, vals in h.keys.items():
        for i, (n, (t, v)) in enumerate(vals):
            if t in (1, 2, 7):
                s = v.decode("utf-16-le")
                if old in s:
                    vals[i] = (n, (t, s.replace(old, new).encode("utf-16-le")))


def mounted_devices(signature, parts):
    """Windows 2000 SYSTEM\\MountedDevices values: `\\DosDevices\\X:` = disk
    signature (4 bytes) + partition byte offset (8 bytes) for each (letter,
    offset); a CD-ROM letter and a volume GUID name as Windows writes them."""
    vals = []
    for letter, offset in parts:
        vals.append(("\\DosDevices\\%s:" % letter, (REG_BINARY, struct.pack("<IQ", signature, offset))))
        vals.append(("\\??\\Volume{6f0e3a52-7c1b-11d6-9a2b-806d6172696f}" if letter == "C" else
                     "\\??\\Volume{6f0e3a53-7c1b-11d6-9a2b-806d6172696f}",
                     (REG_BINARY, struct.pack("<IQ", signature, offset))))
    cd = "\\??\\IDE#CdRomATAPI_CD-ROM_DRIVE-32X\\5&1b1b1b1b&0&1.0.0#{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
    vals.append(("\\DosDevices\\F:", (REG_BINARY, cd.encode("utf-16-le"))))
    return vals


def fat16_boot_volume(fx, path, hidden, work, boot_ini=BOOT_INI, volid="4E543431"):
    """mkfs.fat FAT16 C: with the NT boot files, written by mcopy -m (mtimes
    set with touch under TZ=UTC first). Returns the manifest file entries."""
    with open(path, "wb") as f:
        f.truncate(BOOT_SECTORS * SECTOR)
    fx.run(fx.frozen(T_NT_SETUP) + ["mkfs.fat", "-F", "16", "-s", "1", "-n", "BOOT", "-i", volid,
                                    "-h", str(hidden), "--invariant", path],
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    src = os.path.join(work, "bootfiles-" + volid)
    os.makedirs(src, exist_ok=True)
    files = [("BOOT.INI", boot_ini, fx.T_OP_INSTALL),
             ("NTLDR", b"NTLDR stub (not a loader)\r\n" + b"\0" * 230, T_NT_SETUP),
             ("NTDETECT.COM", b"NTDETECT stub\r\n" + b"\0" * 100, T_NT_SETUP)]
    env = dict(os.environ, TZ="UTC", MTOOLS_SKIP_CHECK="1")
    out = []
    for name, data, when in files:
        p = os.path.join(src, name)
        with open(p, "wb") as f:
            f.write(data)
        subprocess.run(["touch", "-d", when.replace("T", " ").replace("Z", " UTC"), p], check=True, env=env)
        subprocess.run(fx.frozen(when) + ["mcopy", "-m", "-o", "-i", path, p, "::/" + name], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        out.append({"path": "\\" + name, "size": len(data), "modified": when, "file_version": "",
                    "product_version": "", "file_version_string": "", "volume": "C:"})
    return out


def make_disk(fx, path, vols):
    """An MBR disk (signature DISK_SIGNATURE) holding `vols`: (start sector,
    image file, type); the first is active. Returns nothing."""
    end = max(s + os.path.getsize(v) // SECTOR for s, v, _ in vols)
    with open(path, "wb") as f:
        f.truncate(end * SECTOR)
    lines = ["label: dos", "label-id: 0x%08x" % DISK_SIGNATURE, "unit: sectors", ""]
    for i, (s, v, t) in enumerate(vols):
        lines.append("start=%d, size=%d, type=%s%s" % (s, os.path.getsize(v) // SECTOR, t,
                                                      ", bootable" if i == 0 else ""))
    fx.run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", "-f", path],
           input=("\n".join(lines) + "\n").encode(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for s, v, _ in vols:
        fx.dd_into(path, v, s * SECTOR)


def build(F, fx):
    """The multi-volume NT 4.0 images, added to F's manifest."""
    work = F.work
    c_start = 63
    d_start = c_start + BOOT_SECTORS
    d_sectors = fx.NT4_SIZE // SECTOR
    e_start = d_start + d_sectors
    e_sectors = fx.NT4_SIZE // SECTOR
    c_len, d_len, e_len = BOOT_SECTORS * SECTOR, d_sectors * SECTOR, e_sectors * SECTOR
    W3 = "\\WINNT\\system32\\inetsrv\\w3svc.dll"
    boot = os.path.join(work, "mv-boot.vol")
    boot_files = fat16_boot_volume(fx, boot, c_start, work)
    c_vol = {"offset": c_start * SECTOR, "filesystem": "fat16", "letter": "C:"}
    d_vol = {"offset": d_start * SECTOR, "filesystem": "ntfs-3.1", "letter": "D:"}
    e_vol = {"offset": e_start * SECTOR, "filesystem": "ntfs-3.1", "letter": "E:"}

    def nt4_on_d(kind, proxy=False, letters=("C", "D")):
        def builder():
            files, sysh, sw, meta = fx.nt4_image(kind, proxy=proxy)
            # boot.ini lives on C:, not beside \WINNT.
            files = [f for f in files if f.path[-1].lower() != "boot.ini"]
            _rewrite(sysh, "C:\\", "D:\\")
            _rewrite(sw, "C:\\", "D:\\")
            parts = [(c_start * SECTOR, c_len, "C"), (d_start * SECTOR, d_len, "D")]
            if "E" in letters:
                parts.append((e_start * SECTOR, e_len, "E"))
            sysh.key("DISK", [("Information", (REG_BINARY, disk_information(DISK_SIGNATURE, parts)))])
            if proxy:
                # Proxy Server installed on E:; its config DLLs live there.
                moved = [f for f in files if f.path[-2].lower() == "inetsrv" and f.pe is not None
                         and f.pe.product == "Microsoft(R) Proxy Server"]
                files = [f for f in files if f not in moved]
                for f in moved:
                    f.path = ("Proxy", f.path[-1])
                meta["elsewhere"] = moved
                addon = sw.keys[("Microsoft", "INetMgr", "Parameters", "AddOnServices")]
                addon[:] = [v for v in addon if v[0] in ("WWW", "FTP")] + [
                    ("Web Proxy", fx.reg_sz("E:\\Proxy\\W3pcfg.dll::SUPCFG:D:\\WINNT\\System32\\inetsrv\\w3scfg.dll")),
                    ("WinSock Proxy", fx.reg_sz("E:\\Proxy\\Wspcfg.dll")),
                    ("Socks Proxy", fx.reg_sz("E:\\Proxy\\Sockscfg.dll")),
                ]
            return files, sysh, sw, meta
        return builder

    def apps_volume(name, moved):
        for f in moved:
            f.bytes = fx.build_pe(f.pe, work)
        meta = dict(install_time=T_NT_SETUP, hive_time=fx.T_PROXY, dir_times={("Proxy",): fx.T_PROXY})
        path = os.path.join(work, name + "-e.vol")
        fx.build_volume(path, moved, [], meta, work, fx.NT4_SIZE, 4096, e_start, label="APPS")
        return path, [dict(e, volume="E:") for e in fx.spec_entries(moved, [], meta)]

    def image(name, kind, description, findings, proxy=False, with_e=True, status="evaluated", reason="",
              expect_unreadable=()):
        letters = ("C", "D", "E") if proxy and with_e else ("C", "D")
        d, files, hives, meta = F.volume(name, nt4_on_d(kind, proxy, letters), fx.NT4_SIZE, part_start=d_start)
        vols = [(c_start, boot, "6"), (d_start, d, "7")]
        volumes = [c_vol, d_vol]
        extra = []
        if proxy and with_e:
            e, extra = apps_volume(name, meta["elsewhere"])
            vols.append((e_start, e, "7"))
            volumes.append(e_vol)
        disk = os.path.join(work, name + ".img")
        make_disk(fx, disk, vols)
        F.place(disk, name + ".img")
        entries = boot_files + fx.spec_entries(files, hives, meta) + extra
        e = F.add(name, name + ".img", "raw", "mbr", d_start * SECTOR, 4096, files, hives, meta, description,
                  findings, extra_files=entries, status=status, reason=reason,
                  expect_unreadable=expect_unreadable)
        e["volumes"] = volumes
        return e

    # Windows 2000: letters from MountedDevices (signature + offset), no DISK\\Information.
    w2k_boot = os.path.join(work, "mv-boot-w2k.vol")
    w2k_boot_files = fat16_boot_volume(fx, w2k_boot, c_start, work, W2K_BOOT_INI, "57324B31")

    def w2k_on_d():
        files, sysh, sw, meta = fx.w2k_image()
        _rewrite(sysh, "C:\\", "D:\\")
        _rewrite(sw, "C:\\", "D:\\")
        sysh.key("MountedDevices", mounted_devices(DISK_SIGNATURE, [("C", c_start * SECTOR),
                                                                    ("D", d_start * SECTOR)]))
        return files, sysh, sw, meta

    name = "w2k-iis5-bootc-mounted"
    d, files, hives, meta = F.volume(name, w2k_on_d, fx.NT4_SIZE, part_start=d_start)
    disk = os.path.join(work, name + ".img")
    make_disk(fx, disk, [(c_start, w2k_boot, "6"), (d_start, d, "7")])
    F.place(disk, name + ".img")
    e = F.add(name, name + ".img", "raw", "mbr", d_start * SECTOR, 4096, files, hives, meta,
              "w2k-iis5-healthy on the C:/D: layout: FAT16 boot partition C: whose boot.ini names the disk by "
              "signature(4e543430) (and has a second entry on another disk, rdisk(1)), \\WINNT on NTFS D:; "
              "SYSTEM\\MountedDevices maps \\DosDevices\\C: and D: by disk signature and partition offset "
              "(and F: to a CD-ROM device); every registry path names D:.",
              [], extra_files=w2k_boot_files + fx.spec_entries(files, hives, meta))
    e["volumes"] = [c_vol, d_vol]

    image("nt4-iis4-kb291589-bootc", "kb291589",
          "Image 1 as NT 4.0 was often installed: a FAT16 boot partition C: (active, type 0x06) holding boot.ini "
          "(partition(2)\\WINNT), NTLDR and NTDETECT.COM stubs, and \\WINNT on an NTFS D: (partition 2); "
          "DISK\\Information gives C: and D: as sticky letters; every registry path names D:.",
          [fx.lockstep_w3svc()])
    image("nt4-iis4-healthy-bootc", "healthy",
          "The healthy twin of nt4-iis4-kb291589-bootc (image 2's files on the same C:/D: layout).", [])
    image("nt4-iis4-addon-e", "kb291589",
          "nt4-iis4-kb291589-bootc plus Proxy Server 2.0 installed on a third volume E: (NTFS, partition 3, "
          "mapped in DISK\\Information): AddOnServices names E:\\Proxy\\W3pcfg.dll (with a ::SUPCFG: on D:), "
          "E:\\Proxy\\Wspcfg.dll and E:\\Proxy\\Sockscfg.dll, which is absent from E:.",
          [fx.lockstep_w3svc(), fx.finding("missing-addon-dll", "error", "E:\\Proxy\\Sockscfg.dll")], proxy=True)
    image("nt4-iis4-addon-e-unmapped", "kb291589",
          "nt4-iis4-addon-e without its E: volume (the disk holding it was not imaged) and no E: in "
          "DISK\\Information: the add-on DLLs on E: cannot be checked, so they are unreadable, never missing.",
          [fx.lockstep_w3svc()], proxy=True, with_e=False, status="partial",
          reason="could not be read",
          expect_unreadable=["E:\\Proxy\\W3pcfg.dll", "E:\\Proxy\\Wspcfg.dll", "E:\\Proxy\\Sockscfg.dll"])

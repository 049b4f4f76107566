"""The seed's NT 4.0 install as NT 4.0 really left it: on FAT volumes
(mkfs.fat + mtools), with a damaged SYSTEM and a good SYSTEM.ALT, and with a
dirty SOFTWARE hive whose old-format SOFTWARE.LOG holds the last write.

`build(F, fx)` adds the images to the factory `F`; `fx` is factory.py's
module (its helpers and the seed's file sets).

FAT stores local time. These volumes belong to installs whose SYSTEM hive
records a time zone (`Control\\TimeZoneInformation`, `Bias` in minutes, UTC =
local + Bias); every time written to them is the seed's UTC time minus the
Bias, so that a tool which converts with the Bias sees the seed's times, and
one that does not is off by the Bias.
"""

import os
import struct
import subprocess

import hivelog

SECTOR = 512
REG_BINARY = 3

# Pacific Standard Time as NT 4.0 writes it (the rules of its day: daylight
# time from the first Sunday of April to the last Sunday of October, 02:00).
PACIFIC = dict(bias=480, std="Pacific Standard Time", dst="Pacific Daylight Time", dst_bias=-60,
               std_start=(0, 10, 0, 5, 0, 2, 0, 0, 0), dst_start=(0, 4, 0, 1, 0, 2, 0, 0, 0))
# W. Europe (Berlin): local time ahead of UTC, so the Bias is negative.
BERLIN = dict(bias=-60, std="W. Europe Standard Time", dst="W. Europe Daylight Time", dst_bias=-60,
              std_start=(0, 10, 0, 5, 0, 3, 0, 0, 0), dst_start=(0, 3, 0, 5, 0, 2, 0, 0, 0))


def with_time_zone(built, zone, fx):
    """Adds TimeZoneInformation to both control sets of an nt4_image()."""
    files, sysh, sw, meta = built

    def systemtime(t):
        return (REG_BINARY, struct.pack("<8H", *t[:8]))

    for cs in ("ControlSet001", "ControlSet002"):
        sysh.key(cs + "\\Control\\TimeZoneInformation", [
            ("Bias", fx.reg_dword(zone["bias"] & 0xFFFFFFFF)),
            ("StandardName", fx.reg_sz(zone["std"])),
            ("StandardBias", fx.reg_dword(0)),
            ("StandardStart", systemtime(zone["std_start"])),
            ("DaylightName", fx.reg_sz(zone["dst"])),
            ("DaylightBias", fx.reg_dword(zone["dst_bias"] & 0xFFFFFFFF)),
            ("DaylightStart", systemtime(zone["dst_start"])),
            ("ActiveTimeBias", fx.reg_dword((zone["bias"] + zone["dst_bias"]) & 0xFFFFFFFF)),
        ])
    meta["bias"] = zone["bias"]
    return files, sysh, sw, meta


def local(iso, bias, fx):
    """The local wall-clock time (as "YYYY-MM-DD HH:MM:SS") of UTC time `iso`
    under `bias` minutes (UTC = local + bias)."""
    import datetime
    t = datetime.datetime.fromtimestamp(fx.iso_to_unix(iso) - bias * 60, datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def mtools(cmd, when=None, fx=None, **kw):
    """An mtools/dosfstools command in UTC (the times given are already
    local), its clock frozen at `when`; file times are never faked (mcopy -m
    reads the source's real mtime)."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", TZ="UTC", NO_FAKE_STAT="1")
    # mtools stamps SOURCE_DATE_EPOCH (make-all.sh's) instead of the clock.
    env.pop("SOURCE_DATE_EPOCH", None)
    pre = fx.frozen(when) if when else []
    subprocess.run(pre + cmd, check=True, env=env, stdout=subprocess.DEVNULL, **kw)


def build_fat(path, files, hives, meta, work, fat, size, hidden, fx):
    """mkfs.fat + mtools: the tree with long names, every time written as the
    install's local time (the seed's UTC time minus the Bias)."""
    bias = meta["bias"]
    with open(path, "wb") as f:
        f.truncate(size)
    bits = {"fat16": "16", "fat32": "32"}[fat]
    mtools(["mkfs.fat", "-F", bits, "-s", "1", "-S", str(SECTOR), "-h", str(hidden), "-n", "WINNT",
            "-i", "1a2b3c4d", "--invariant", path], fx=fx, stderr=subprocess.DEVNULL)
    img = ["-i", path]
    dirs = {}
    for fs in files:
        for i in range(1, len(fs.path)):
            dirs.setdefault(fs.path[:i], None)
    for hp, _ in hives:
        for i in range(1, len(hp)):
            dirs.setdefault(hp[:i], None)
    for d in meta.get("extra_dirs", []):
        for i in range(1, len(d) + 1):
            dirs.setdefault(d[:i], None)
    dtimes = meta.get("dir_times", {})
    for d in sorted(dirs, key=lambda p: (len(p), p)):
        # A directory's entry is stamped when it is made: its creation time
        # is what a service-pack or hotfix marker folder dates.
        when = local(dtimes.get(d, meta["hive_time"]), bias, fx)
        mtools(["mmd"] + img + ["::/" + "/".join(d)], when=when, fx=fx)
    src = os.path.join(work, "fat-src", os.path.basename(path))
    os.makedirs(src, exist_ok=True)
    items = [(fs.path, fs.bytes, fs.mtime) for fs in files] + [(hp, data, meta["hive_time"]) for hp, data in hives]
    for n, (parts, data, mtime) in enumerate(items):
        # mcopy names the copy after its source: one folder per file.
        d = os.path.join(src, "%03d" % n)
        os.makedirs(d)
        p = os.path.join(d, parts[-1])
        with open(p, "wb") as f:
            f.write(data)
        t = fx.iso_to_unix(mtime) - bias * 60
        os.utime(p, (t, t))
        dest = "::/" + "/".join(parts[:-1]) + ("/" if len(parts) > 1 else "")
        mtools(["mcopy", "-m"] + img + [p, dest], when=local(mtime, bias, fx), fx=fx)


def fsstat_type(path, sector_offset, fx):
    cmd = ["fsstat"] + (["-o", str(sector_offset)] if sector_offset else []) + [path]
    for line in fx.out_of(cmd).splitlines():
        if line.startswith("File System Type:"):
            return line.split(":", 1)[1].strip()
    return ""


def fat_image(F, fx, name, builder, fat, size, mbr):
    """A FAT volume holding the install built by `builder`, bare or behind an
    MBR at sector 63 (partition type 0x06, active, as NT 4.0's setup left a
    FAT16 C:). Returns (file, partition offset, files, hives, meta)."""
    files, sysh, sw, meta = builder()
    hives = F.prepare(files, sysh, sw, meta, name)
    vol = os.path.join(F.work, name + ".vol")
    hidden = 63 if mbr else 0
    build_fat(vol, files, hives, meta, F.work, fat, size, hidden, fx)
    want = {"fat16": "FAT16", "fat32": "FAT32"}[fat]
    got = fsstat_type(vol, 0, fx)
    if got != want:
        raise RuntimeError("%s: fsstat says %r, not %s" % (name, got, want))
    rel = name + ".img"
    if not mbr:
        F.place(vol, rel)
        return rel, 0, files, hives, meta
    disk = os.path.join(F.work, name + ".disk")
    vsz = os.path.getsize(vol) // SECTOR
    with open(disk, "wb") as f:
        f.truncate((63 + vsz) * SECTOR)
    script = "label: dos\nlabel-id: 0x4e543430\nunit: sectors\n\nstart=63, size=%d, type=6, bootable\n" % vsz
    fx.run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", "-f", disk], input=script.encode(),
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fx.dd_into(disk, vol, 63 * SECTOR)
    F.place(disk, rel)
    return rel, 63 * SECTOR, files, hives, meta


def ntfs_image(F, fx, name, builder, change):
    """Like F.volume, with `change(hives, meta)` rewriting the hive files
    (path tuple, bytes) before they are written to the volume."""
    files, sysh, sw, meta = builder()
    hives = F.prepare(files, sysh, sw, meta, name)
    hives = change(hives, sysh, sw, meta)
    path = os.path.join(F.work, name + ".vol")
    free = fx.build_volume(path, files, hives, meta, F.work, fx.NT4_SIZE, 4096)
    fx.log("%-34s %7d bytes, %6d free" % (name, fx.NT4_SIZE, free))
    rel = name + ".img"
    F.place(path, rel)
    return rel, files, hives, meta


def build(F, fx):
    seed = "NT 4.0 SP6 + IIS 4 with the seed's KB Q291589 mismatch (w3svc.dll at Option Pack RTM 4.2.622.1 " \
           "beside MS01-044's 4.2.769.1)"
    fat_note = ("Every time on the volume is local time (the seed's UTC time minus the Bias of %d minutes that "
                "the SYSTEM hive's TimeZoneInformation records); the manifest's times are UTC.")

    # FAT16 C: in an MBR, Pacific time.
    for name, kind, findings in [("nt4-iis4-kb291589-fat16", "kb291589", [fx.lockstep_w3svc()]),
                                 ("nt4-iis4-healthy-fat16", "healthy", [])]:
        rel, off, files, hives, meta = fat_image(
            F, fx, name, lambda: with_time_zone(fx.nt4_image(kind), PACIFIC, fx), "fat16", 4 << 20, mbr=True)
        what = seed if kind == "kb291589" else "The healthy NT 4.0 SP6 + IIS 4 (image 2)"
        e = F.add(name, rel, "raw", "mbr", off, SECTOR, files, hives, meta,
                  "%s on a FAT16 C: (mkfs.fat, 512-byte clusters, long names by mtools) behind an MBR at sector "
                  "63, partition type 0x06, as NT 4.0 setup left it; Pacific time. " % what
                  + fat_note % PACIFIC["bias"], findings)
        e["filesystem"] = "fat16"

    # FAT32, bare: a zone east of Greenwich (negative Bias).
    rel, off, files, hives, meta = fat_image(
        F, fx, "nt4-iis4-kb291589-fat32", lambda: with_time_zone(fx.nt4_image(), BERLIN, fx), "fat32",
        33 << 20, mbr=False)
    # 33 MiB cannot shrink (FAT32 needs 65,525 clusters), so it is kept as
    # split raw, four 8.25 MiB segments (.001 to .004), as dd/split leave an
    # acquisition: every segment stays far below what a repository should track.
    whole = os.path.join(F.out, rel)
    stem = os.path.join(F.out, "nt4-iis4-kb291589-fat32.")
    subprocess.run(["split", "-b", str((33 << 20) // 4), "-d", "-a", "3", "--numeric-suffixes=1", whole, stem],
                   check=True)
    os.unlink(whole)
    segs = ["nt4-iis4-kb291589-fat32.%03d" % i for i in range(1, 5)]
    e = F.add("nt4-iis4-kb291589-fat32", segs[0], "split-raw", "bare", off, SECTOR, files, hives, meta,
              seed + " on a bare FAT32 volume (mkfs.fat, 512-byte clusters: 33 MiB is the least that holds "
              "the 65,525 clusters FAT32 needs), stored as split raw in four segments; W. Europe time. "
              + fat_note % BERLIN["bias"],
              [fx.lockstep_w3svc()], segments=segs)
    e["filesystem"] = "fat32"

    cfg = "\\WINNT\\system32\\config\\"

    # A damaged SYSTEM beside a good SYSTEM.ALT (NTFS).
    def alt(hives, sysh, sw, meta):
        (sp, sdata), rest = hives[0], hives[1:]
        assert sp[-1] == "SYSTEM"
        scratch = os.path.join(F.work, "hives", "system-alt-damaged")
        broken = fx.damage_hive(sdata, "zero-base", scratch)
        return [(sp, broken), (sp[:-1] + ("SYSTEM.ALT",), sdata)] + rest

    rel, files, hives, meta = ntfs_image(F, fx, "nt4-iis4-kb291589-system-alt", fx.nt4_image, alt)
    e = F.add("nt4-iis4-kb291589-system-alt", rel, "raw", "bare", 0, 4096, files, hives, meta,
              seed + ", whose SYSTEM hive has its 4096-byte base block zeroed (reglookup refuses it) while "
              "SYSTEM.ALT beside it holds the good copy: a correct tool reads SYSTEM.ALT, says it did (hive "
              "state alternate), keeps SYSTEM listed as unreadable, and finds everything the seed gives: partial, "
              "since the copy may be older than the primary was.",
              [fx.lockstep_w3svc()], expect_unreadable=[cfg + "SYSTEM"], status="partial",
              reason="SYSTEM read from")
    e["hive_state"] = {"SYSTEM": "alternate", "SOFTWARE": "primary"}

    # A dirty SOFTWARE with its old-format SOFTWARE.LOG (NTFS): the last write
    # (MS01-044's Hotfix\Q301625 key) is only in the log.
    newest = "Q301625"

    def dirty(hives, sysh, sw, meta):
        (wp, new), rest = hives[1], hives[:1]
        assert wp[-1] == "SOFTWARE"
        older = fx.Hive(sw.when)
        older.keys = {k: list(v) for k, v in sw.keys.items() if newest not in k}
        older.key_times = dict(sw.key_times)
        d = os.path.join(F.work, "hives", "dirty-log")
        os.makedirs(d, exist_ok=True)
        old = older.build(os.path.join(d, "SOFTWARE.old"), d)
        seq = struct.unpack_from("<I", new, 4)[0] + 1
        primary, log, pages = hivelog.dirty_pair(old, new, seq)
        recovered = hivelog.replay(primary, log)
        bins = struct.unpack_from("<I", new, 0x28)[0]
        if recovered[4096:4096 + bins] != new[4096:4096 + bins] or recovered[12:20] != new[12:20]:
            raise RuntimeError("the log does not replay to the newer SOFTWARE hive")
        for what, data, has in [("primary", primary, False), ("replayed", recovered, True)]:
            p = os.path.join(d, what)
            with open(p, "wb") as f:
                f.write(data)
            r = subprocess.run(["reglookup", "-t", "KEY", p], capture_output=True, text=True, check=True)
            listed = "/Microsoft/Windows NT/CurrentVersion/Hotfix/" + newest in r.stdout
            if listed != has:
                raise RuntimeError("reglookup %s Hotfix\\%s in the %s SOFTWARE" %
                                   ("misses" if has else "lists", newest, what))
        fx.log("SOFTWARE.LOG: %d dirty pages of %d" % (pages, bins // 512))
        return rest + [(wp, primary), (wp[:-1] + ("SOFTWARE.LOG",), log)]

    rel, files, hives, meta = ntfs_image(F, fx, "nt4-iis4-kb291589-dirty-log", fx.nt4_image, dirty)
    e = F.add("nt4-iis4-kb291589-dirty-log", rel, "raw", "bare", 0, 4096, files, hives, meta,
              seed + ", whose SOFTWARE hive is dirty: its base block's sequence numbers differ and its bins are "
              "as they were before the last write, which only SOFTWARE.LOG (old format: base block, DIRT bitmap, "
              "dirty pages, written by the factory from the difference) holds: Hotfix\\%s exists only after "
              "the log is replayed. A correct tool replays it in memory (hive state replayed) and lists the "
              "seed's hotfixes." % newest,
              [fx.lockstep_w3svc()])
    e["hive_state"] = {"SYSTEM": "primary", "SOFTWARE": "replayed"}

"""Old-format registry transaction logs (`<hive>.LOG`, NT 4.0 to Windows 7),
written from the difference between two hives, following the format's public
description (msuhanov, "Windows registry file format specification",
https://github.com/msuhanov/regf, "Format of transaction log files: Old
format" and "Dirty state of a hive"):

  * sector 0: the base block (its first 512 bytes) as it is in memory: file
    type 1 (log), both sequence numbers equal (the log was written
    completely), XOR-32 checksum of the 508 bytes before 0x1FC;
  * sector 1: "DIRT" and a bitmap, one bit per 512-byte page of the hive bins
    data (hive bins data size / 512 bits), least significant bit first;
  * from the next sector boundary: the dirty pages, one after another, in
    bit order; the page of bit i belongs at file offset 4096 + 512 * i.

The primary file is the hive as it was on disk before the logged write
reached it: its primary sequence number already incremented to the log's,
its secondary one not (a dirty hive), and the same last-written timestamp as
the log's base block. Nothing here uses verskew.
"""

import struct

SECTOR = 512
BASE = 4096


def checksum(b):
    cs = 0
    for (w,) in struct.iter_unpack("<I", bytes(b[:508])):
        cs ^= w
    return {0: 1, 0xFFFFFFFF: 0xFFFFFFFE}.get(cs, cs)


def _seal(b):
    struct.pack_into("<I", b, 508, checksum(b))


def dirty_pair(old, new, seq):
    """(primary file, log) such that replaying the log over the primary file
    gives `new`'s hive bins data and base block: `old` is the hive before the
    write, `new` after it; `seq` the sequence number of the logged write."""
    assert old[:4] == new[:4] == b"regf"
    bins = struct.unpack_from("<I", new, 0x28)[0]
    assert bins % BASE == 0 and len(new) >= BASE + bins
    assert len(old) <= BASE + bins, "the older hive must not be larger"
    stamp = struct.unpack_from("<Q", new, 0x0C)[0]

    primary = bytearray(old)
    struct.pack_into("<IIQ", primary, 4, seq, seq - 1, stamp)
    _seal(primary)

    head = bytearray(new[:SECTOR])
    struct.pack_into("<IIQ", head, 4, seq, seq, stamp)
    struct.pack_into("<I", head, 28, 1)  # file type: transaction log
    _seal(head)

    pages = bins // SECTOR
    dirty = []
    for i in range(pages):
        a = BASE + i * SECTOR
        if old[a:a + SECTOR] != new[a:a + SECTOR]:
            dirty.append(i)
    bitmap = bytearray(pages // 8)
    for i in dirty:
        bitmap[i // 8] |= 1 << (i % 8)
    vector = b"DIRT" + bytes(bitmap)
    vector += b"\0" * (-len(vector) % SECTOR)
    log = bytes(head) + vector + b"".join(new[BASE + i * SECTOR:BASE + (i + 1) * SECTOR] for i in dirty)
    return bytes(primary), log, len(dirty)


def replay(primary, log):
    """The recovered hive, as the specification describes recovery (used to
    prove the pair: the result must be the newer hive)."""
    assert log[28:32] == struct.pack("<I", 1)
    assert log[4:8] == log[8:12] == primary[4:8] and primary[4:8] != primary[8:12]
    assert log[12:20] == primary[12:20] and checksum(log) == struct.unpack_from("<I", log, 508)[0]
    assert log[SECTOR:SECTOR + 4] == b"DIRT"
    bins = struct.unpack_from("<I", log, 0x28)[0]
    pages = bins // SECTOR
    bitmap = log[SECTOR + 4:SECTOR + 4 + pages // 8]
    at = -(-(SECTOR + 4 + len(bitmap)) // SECTOR) * SECTOR
    out = bytearray(primary) + bytearray(max(0, BASE + bins - len(primary)))
    for i in range(pages):
        if bitmap[i // 8] >> (i % 8) & 1:
            out[BASE + i * SECTOR:BASE + (i + 1) * SECTOR] = log[at:at + SECTOR]
            at += SECTOR
    out[:508] = log[:508]
    struct.pack_into("<I", out, 28, 0)
    _seal(out)
    return bytes(out)

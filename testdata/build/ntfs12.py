#!/usr/bin/python3
"""Turn a small mkntfs (NTFS 3.1) volume into NTFS 1.2 as NT 3.51/4.0 wrote it.

    ntfs12.py IMAGE [--offset BYTES]

Changed in place (the volume starts at --offset in IMAGE):

  * every FILE record of $MFT, and the copies in $MFTMirr, gets the NTFS 1.2
    header: the update sequence array at 0x2A (the 3.1 "reserved" word and
    the record number at 0x2C are gone), so the first attribute moves from
    0x38 to 0x30; the first-attribute offset and bytes-in-use are fixed and
    the fixups re-applied with the record's own update sequence number;
  * $STANDARD_INFORMATION is cut to its 48-byte 1.2 form (no owner id,
    security id, quota charge or USN);
  * every in-use base record without a $SECURITY_DESCRIPTOR whose
    $STANDARD_INFORMATION named a security id gets one, resident, holding
    the descriptor that id named in $Secure:$SDS (NT4 kept a descriptor in
    each record; the shared store came with 3.0). ntfs-3g already writes one
    per file it creates; $MFT, which mkntfs gave security id 0, gets the
    system files' descriptor ($MFTMirr's);
  * $Volume's $VOLUME_INFORMATION says 1.2;
  * $AttrDef holds the 1.2 table (0x40 $VOLUME_VERSION, 0xC0
    $SYMBOLIC_LINK, 0xF0 $PROPERTY_SET; $STANDARD_INFORMATION 48..48);
  * $Extend (new in 3.0) is gone: its entry leaves the root directory's
    index block, its record and those of the files it held ($Quota, $ObjId,
    $Reparse) become empty free records, their $MFT bitmap bits cleared
    (all were resident: no cluster is freed).

Everything else stays as mkntfs/ntfs-3g wrote it (testdata/README.md lists
it): the boot sectors, $LogFile, $Bitmap, $UpCase, the other index entries,
the $Secure record (NT4's record 9 was an unused $Quota) and, above all,
every byte of file data: no run list, size or data cluster is touched.  The
converter refuses (exit 1) anything it does not expect rather than guess:
an attribute type that means something else in 1.2 (0x40, 0xC0, 0x100), a
record that would not fit, a bad fixup, a root index it would have to
rebalance.
"""

import argparse
import struct
import sys

SECTOR = 512
END = 0xFFFFFFFF
SI, ATTR_LIST, FILE_NAME, SEC_DESC, VOL_INFO, DATA = 0x10, 0x20, 0x30, 0x50, 0x70, 0x80
# Types whose meaning differs in 1.2 ($OBJECT_ID/$VOLUME_VERSION,
# $REPARSE_POINT/$SYMBOLIC_LINK) or that 1.2 does not know.
FOREIGN = {0x40: "$OBJECT_ID", 0xC0: "$REPARSE_POINT", 0x100: "$LOGGED_UTILITY_STREAM"}
HDR12 = 0x2A  # update sequence array offset of an NTFS 1.2 FILE record

# $AttrDef of NTFS 1.2 as Windows NT 4.0 SP6a wrote it (linux-ntfs
# "attribute_definitions" notes and flatcap's $AttrDef page: display and
# collation rules zero, flags 0x40 resident-only, 0x80 may be non-resident,
# 0x02 indexed). (name, type, flags, min, max); -1 is "no limit".
ATTRDEF_12 = [
    ("$STANDARD_INFORMATION", 0x10, 0x40, 0x30, 0x30),
    ("$ATTRIBUTE_LIST", 0x20, 0x80, 0, -1),
    ("$FILE_NAME", 0x30, 0x42, 0x44, 0x242),
    ("$VOLUME_VERSION", 0x40, 0x40, 0x8, 0x8),
    ("$SECURITY_DESCRIPTOR", 0x50, 0x80, 0, -1),
    ("$VOLUME_NAME", 0x60, 0x40, 0x2, 0x100),
    ("$VOLUME_INFORMATION", 0x70, 0x40, 0xC, 0xC),
    ("$DATA", 0x80, 0x00, 0, -1),
    ("$INDEX_ROOT", 0x90, 0x40, 0, -1),
    ("$INDEX_ALLOCATION", 0xA0, 0x80, 0, -1),
    ("$BITMAP", 0xB0, 0x80, 0, -1),
    ("$SYMBOLIC_LINK", 0xC0, 0x80, 0, -1),
    ("$EA_INFORMATION", 0xD0, 0x40, 0x8, 0x8),
    ("$EA", 0xE0, 0x00, 0, 0x10000),
    ("$PROPERTY_SET", 0xF0, 0x80, 0, -1),
]


class Refused(Exception):
    pass


def attrdef_12(size):
    out = bytearray()
    for name, ty, flags, lo, hi in ATTRDEF_12:
        e = bytearray(0xA0)
        n = name.encode("utf-16-le")
        e[:len(n)] = n
        struct.pack_into("<IIIIqq", e, 0x80, ty, 0, 0, flags, lo, hi)
        out += e
    if len(out) > size:
        raise Refused("$AttrDef holds %d bytes, the 1.2 table needs %d" % (size, len(out)))
    return bytes(out) + bytes(size - len(out))


class Vol:
    def __init__(self, f, offset):
        self.f, self.offset = f, offset
        bs = self.read(0, SECTOR)
        if bs[3:11] != b"NTFS    ":
            raise Refused("no NTFS boot sector at offset %d" % offset)
        bps = struct.unpack_from("<H", bs, 11)[0]
        if bps != SECTOR:
            raise Refused("%d-byte sectors" % bps)
        self.cluster = bps * bs[13]
        self.mft_lcn, self.mirr_lcn = struct.unpack_from("<QQ", bs, 0x30)
        cpr = struct.unpack_from("<b", bs, 0x40)[0]
        self.rec = self.cluster * cpr if cpr > 0 else 1 << -cpr
        # $MFT's own runs, from record 0 at the boot sector's LCN.
        r0 = fixed_up(self.read(self.mft_lcn * self.cluster, self.rec), 0)
        self.mft = self.data_extents(r0, 0)
        self.nrec = sum(n for _, n in self.mft) * self.cluster // self.rec

    def read(self, at, n):
        self.f.seek(self.offset + at)
        b = self.f.read(n)
        if len(b) != n:
            raise Refused("short read at volume offset %d" % at)
        return b

    def write(self, at, b):
        self.f.seek(self.offset + at)
        self.f.write(b)

    def record_at(self, n):
        """Byte offset of MFT record n, following $MFT's runs."""
        pos = n * self.rec
        for lcn, count in self.mft:
            if pos < count * self.cluster:
                if lcn is None:
                    raise Refused("MFT record %d lies in a sparse run of $MFT" % n)
                return lcn * self.cluster + pos
            pos -= count * self.cluster
        raise Refused("MFT record %d lies past $MFT's runs" % n)

    def load(self, n):
        return fixed_up(self.read(self.record_at(n), self.rec), n)

    def data_extents(self, rec, n, name=""):
        for a in attributes(rec, n):
            if a.ty == DATA and a.name == name:
                if not a.non_resident:
                    raise Refused("record %d: resident $DATA%s" % (n, ":" + name if name else ""))
                return runs(a.raw[struct.unpack_from("<H", a.raw, 0x20)[0]:], n)
        raise Refused("record %d has no $DATA%s" % (n, ":" + name if name else ""))

    def read_stream(self, rec, n, name=""):
        a = [a for a in attributes(rec, n) if a.ty == DATA and a.name == name][0]
        size = struct.unpack_from("<Q", a.raw, 0x30)[0]
        out = bytearray()
        for lcn, count in self.data_extents(rec, n, name):
            if lcn is None:
                out += bytes(count * self.cluster)
            else:
                out += self.read(lcn * self.cluster, count * self.cluster)
        return bytes(out[:size])


def fixed_up(buf, n):
    b = bytearray(buf)
    if b[:4] != b"FILE":
        return b
    off, cnt = struct.unpack_from("<HH", b, 4)
    if cnt != len(b) // SECTOR + 1 or off + 2 * cnt > len(b):
        raise Refused("record %d: update sequence array at 0x%x, %d entries" % (n, off, cnt))
    usn = b[off:off + 2]
    for k in range(1, cnt):
        end = k * SECTOR - 2
        if b[end:end + 2] != usn:
            raise Refused("record %d: fixup mismatch in sector %d" % (n, k - 1))
        b[end:end + 2] = b[off + 2 * k:off + 2 * k + 2]
    return b


def apply_fixup(b, off, usn):
    cnt = len(b) // SECTOR + 1
    struct.pack_into("<HH", b, 4, off, cnt)
    b[off:off + 2] = usn
    for k in range(1, cnt):
        end = k * SECTOR - 2
        b[off + 2 * k:off + 2 * k + 2] = b[end:end + 2]
        b[end:end + 2] = usn


def runs(b, n):
    """Mapping pairs -> [(lcn or None, clusters)]."""
    out, lcn, i = [], 0, 0
    while i < len(b) and b[i]:
        lo, ho = b[i] & 15, b[i] >> 4
        count = int.from_bytes(b[i + 1:i + 1 + lo], "little")
        if ho:
            lcn += int.from_bytes(b[i + 1 + lo:i + 1 + lo + ho], "little", signed=True)
            out.append((lcn, count))
        else:
            out.append((None, count))
        i += 1 + lo + ho
    if not out:
        raise Refused("record %d: empty run list" % n)
    return out


class Attr:
    def __init__(self, raw):
        self.raw = bytearray(raw)
        self.ty = struct.unpack_from("<I", raw, 0)[0]
        self.non_resident = raw[8] != 0
        nlen, noff = raw[9], struct.unpack_from("<H", raw, 10)[0]
        self.name = bytes(raw[noff:noff + 2 * nlen]).decode("utf-16-le")

    def value(self):
        vlen, voff = struct.unpack_from("<IH", self.raw, 0x10)
        return bytes(self.raw[voff:voff + vlen])

    def set_value(self, v):
        """Resident: replace the value, keep header and name."""
        voff = struct.unpack_from("<H", self.raw, 0x14)[0]
        body = self.raw[:voff] + v
        body += bytes(-len(body) % 8)
        struct.pack_into("<II", body, 0, self.ty, len(body))
        struct.pack_into("<I", body, 0x10, len(v))
        self.raw = body


def attributes(rec, n):
    if rec[:4] != b"FILE":
        return []
    off = struct.unpack_from("<H", rec, 0x14)[0]
    used = struct.unpack_from("<I", rec, 0x18)[0]
    out = []
    while True:
        if off + 4 > min(used, len(rec)):
            raise Refused("record %d: attributes run past bytes in use" % n)
        ty = struct.unpack_from("<I", rec, off)[0]
        if ty == END:
            return out
        ln = struct.unpack_from("<I", rec, off + 4)[0]
        if ln < 0x18 or ln % 8 or off + ln > used:
            raise Refused("record %d: attribute at 0x%x has length %d" % (n, off, ln))
        out.append(Attr(rec[off:off + ln]))
        off += ln


def resident_attr(ty, instance, value):
    raw = bytearray(0x18) + value
    raw += bytes(-len(raw) % 8)
    struct.pack_into("<IIBBHHHIHBB", raw, 0, ty, len(raw), 0, 0, 0x18, 0, instance, len(value), 0x18, 0, 0)
    return Attr(raw)


def security_store(vol):
    """security id -> self-relative descriptor, from $Secure:$SDS (record 9)."""
    rec = vol.load(9)
    sds = vol.read_stream(rec, 9, "$SDS")
    out, at = {}, 0
    while at + 20 <= len(sds):
        _hash, sid, off, ln = struct.unpack_from("<IIQI", sds, at)
        if ln >= 20 and off == at and at + ln <= len(sds):
            out.setdefault(sid, sds[at + 20:at + ln])
            at += (ln + 15) & ~15
        else:
            at += 16
    return out


def security_id_of(rec, n):
    for a in attributes(rec, n):
        if a.ty == SI and len(a.value()) >= 0x38:
            return struct.unpack_from("<I", a.value(), 0x34)[0]
    return None


def convert_record(rec, n, sds, system_sd=None):
    if rec[:4] != b"FILE":
        return None
    hdr_off = struct.unpack_from("<H", rec, 4)[0]
    if hdr_off == HDR12:
        raise Refused("record %d already has the NTFS 1.2 header" % n)
    usn = bytes(rec[hdr_off:hdr_off + 2])
    attrs = attributes(rec, n)
    base = struct.unpack_from("<Q", rec, 0x20)[0] == 0
    in_use = struct.unpack_from("<H", rec, 0x16)[0] & 1
    security_id = None
    for a in attrs:
        if a.ty in FOREIGN:
            raise Refused("record %d holds %s (0x%x), which NTFS 1.2 reads as something else" %
                          (n, FOREIGN[a.ty], a.ty))
        if a.ty == SI:
            v = a.value()
            if len(v) >= 0x38:
                security_id = struct.unpack_from("<I", v, 0x34)[0]
            if len(v) > 48:
                a.set_value(v[:48])
        if a.ty == VOL_INFO and n == 3:
            v = bytearray(a.value())
            v[8], v[9] = 1, 2
            a.set_value(bytes(v))
    if security_id == 0 and n < 16:
        # mkntfs gives $MFT no security id; NT4 gave the system files one
        # descriptor, which $MFTMirr's id names here.
        security_id, sds = -1, {-1: system_sd}
    if base and in_use and not any(a.ty == SEC_DESC for a in attrs) and security_id:
        sd = sds.get(security_id)
        if sd is None:
            raise Refused("record %d: security id %d not in $Secure:$SDS" % (n, security_id))
        inst = struct.unpack_from("<H", rec, 0x28)[0]
        # Types ascend within a record: it goes after the last type below it.
        at = sum(1 for a in attrs if a.ty < SEC_DESC)
        attrs.insert(at, resident_attr(SEC_DESC, inst, sd))
        struct.pack_into("<H", rec, 0x28, inst + 1)
    first = (HDR12 + 2 * (len(rec) // SECTOR + 1) + 7) & ~7
    body = b"".join(bytes(a.raw) for a in attrs) + struct.pack("<II", END, 0)
    if first + len(body) > len(rec):
        raise Refused("record %d: %d bytes of attributes do not fit" % (n, len(body)))
    out = bytearray(len(rec))
    out[:HDR12] = rec[:HDR12]
    struct.pack_into("<H", out, 0x14, first)
    struct.pack_into("<I", out, 0x18, first + len(body))
    out[first:first + len(body)] = body
    apply_fixup(out, HDR12, usn)
    return out


EXTEND = 11  # $Extend, new in 3.0
ROOT = 5
INDEX_ALLOC, BITMAP = 0xA0, 0xB0


def undo_fixup(buf, what):
    b = bytearray(buf)
    off, cnt = struct.unpack_from("<HH", b, 4)
    if cnt != len(b) // SECTOR + 1 or off + 2 * cnt > len(b):
        raise Refused("%s: update sequence array at 0x%x, %d entries" % (what, off, cnt))
    usn = bytes(b[off:off + 2])
    for k in range(1, cnt):
        end = k * SECTOR - 2
        if b[end:end + 2] != usn:
            raise Refused("%s: fixup mismatch in sector %d" % (what, k - 1))
        b[end:end + 2] = b[off + 2 * k:off + 2 * k + 2]
    return b, off, usn


def extend_records(vol):
    """$Extend and the records whose $FILE_NAME names it as parent."""
    out = {EXTEND}
    for n in range(16, vol.nrec):
        rec = vol.load(n)
        if rec[:4] != b"FILE" or not struct.unpack_from("<H", rec, 0x16)[0] & 1:
            continue
        for a in attributes(rec, n):
            if a.ty == FILE_NAME and struct.unpack_from("<Q", a.value(), 0)[0] & 0xFFFFFFFFFFFF == EXTEND:
                out.add(n)
    return out


class Stream:
    """Byte access to a non-resident attribute through its runs."""

    def __init__(self, vol, attr, n):
        self.vol, self.lcns = vol, []
        for lcn, count in runs(attr.raw[struct.unpack_from("<H", attr.raw, 0x20)[0]:], n):
            if lcn is None:
                raise Refused("record %d: sparse run where none is expected" % n)
            self.lcns += range(lcn, lcn + count)
        self.size = struct.unpack_from("<Q", attr.raw, 0x30)[0]

    def _pieces(self, at, n):
        cs = self.vol.cluster
        while n:
            k = min(n, cs - at % cs)
            yield self.lcns[at // cs] * cs + at % cs, k
            at, n = at + k, n - k

    def read(self, at, n):
        return b"".join(self.vol.read(d, k) for d, k in self._pieces(at, n))

    def write(self, at, b):
        for d, k in self._pieces(at, len(b)):
            self.vol.write(d, b[:k])
            b = b[k:]


def drop_from_root_index(vol, gone):
    """Removes the root directory's index entries naming a record in `gone`
    from the leaf blocks of its $INDEX_ALLOCATION; refuses any other layout
    (an entry in $INDEX_ROOT or with a subnode)."""
    attrs = attributes(vol.load(ROOT), ROOT)
    root = [a for a in attrs if a.ty == 0x90 and a.name == "$I30"][0].value()
    block = struct.unpack_from("<I", root, 8)[0]
    first, used = struct.unpack_from("<II", root, 0x10)
    e = 0x10 + first
    while e + 0x10 <= min(0x10 + used, len(root)):
        ref, ln, _klen, flags = struct.unpack_from("<QHHH", root, e)
        if not flags & 2 and ref & 0xFFFFFFFFFFFF in gone:
            raise Refused("the root's $INDEX_ROOT names record %d" % (ref & 0xFFFFFFFFFFFF))
        if flags & 2 or ln < 0x10:
            break
        e += ln
    alloc = [a for a in attrs if a.ty == INDEX_ALLOC and a.name == "$I30"]
    if not alloc:
        raise Refused("the root directory's index has no $INDEX_ALLOCATION")
    stream = Stream(vol, alloc[0], ROOT)
    removed = 0
    for at in range(0, stream.size, block):
        raw = stream.read(at, block)
        if raw[:4] != b"INDX":
            continue
        b, usa, usn = undo_fixup(raw, "root index block at stream offset %d" % at)
        hdr = 0x18
        first, used = struct.unpack_from("<II", b, hdr)
        e, changed = hdr + first, False
        while e + 0x10 <= hdr + used:
            ref, ln, _klen, flags = struct.unpack_from("<QHHH", b, e)
            if flags & 2 or ln < 0x10:
                break
            if ref & 0xFFFFFFFFFFFF in gone:
                if flags & 1:
                    raise Refused("root index entry for record %d has a subnode" % (ref & 0xFFFFFFFFFFFF))
                end = hdr + used
                b[e:end - ln] = b[e + ln:end]
                used -= ln
                # Zero the slack: no stale entry (this one or older ones
                # ntfs-3g left) for a slack-scanning reader to resurrect.
                b[hdr + used:] = bytes(len(b) - hdr - used)
                struct.pack_into("<I", b, hdr + 4, used)
                removed, changed = removed + 1, True
                continue
            e += ln
        if changed:
            apply_fixup(b, usa, usn)
            stream.write(at, bytes(b))
    if removed == 0:
        raise Refused("no root index entry names $Extend")
    return removed


def blank_record(rec):
    first = struct.unpack_from("<H", rec, 0x14)[0]
    out = bytearray(len(rec))
    out[:first] = rec[:first]
    struct.pack_into("<HHH", out, 0x12, 0, first, 0)  # no links, first attribute, not in use
    struct.pack_into("<I", out, 0x18, first + 8)
    struct.pack_into("<QH", out, 0x20, 0, 0)  # no base record, no attribute ids
    struct.pack_into("<II", out, first, END, 0)
    return out


def clear_mft_bitmap(vol, gone):
    a = [a for a in attributes(vol.load(0), 0) if a.ty == BITMAP][0]
    if not a.non_resident:
        raise Refused("resident $MFT:$BITMAP")
    bitmap = Stream(vol, a, 0)
    for n in gone:
        if n // 8 >= bitmap.size:
            raise Refused("$MFT:$BITMAP does not cover record %d" % n)
        byte = bitmap.read(n // 8, 1)[0]
        bitmap.write(n // 8, bytes([byte & ~(1 << (n % 8))]))


def convert(path, offset=0):
    with open(path, "r+b") as f:
        vol = Vol(f, offset)
        gone = extend_records(vol)
        sds = security_store(vol)
        mirror = vol.data_extents(vol.load(1), 1)
        system_sd = sds.get(security_id_of(vol.load(1), 1))
        attrdef_rec = vol.load(4)
        attrdef = vol.read_stream(attrdef_rec, 4)
        attrdef_ext = vol.data_extents(attrdef_rec, 4)
        new = {}
        for n in range(vol.nrec):
            rec = vol.load(n)
            if n in gone:
                # $Extend and its files did not exist before 3.0: their
                # records become free and empty, as mkntfs leaves 16 to 23.
                rec = blank_record(rec)
            out = convert_record(rec, n, sds, system_sd)
            if out is not None:
                new[n] = out
        drop_from_root_index(vol, gone)
        clear_mft_bitmap(vol, gone)
        for n, out in new.items():
            vol.write(vol.record_at(n), out)
        # $MFTMirr: the first records again, as many as its runs hold.
        at = 0
        for lcn, count in mirror:
            for k in range(count * vol.cluster // vol.rec):
                if at in new:
                    vol.write(lcn * vol.cluster + k * vol.rec, new[at])
                at += 1
        table = attrdef_12(len(attrdef))
        pos = 0
        for lcn, count in attrdef_ext:
            chunk = table[pos:pos + count * vol.cluster]
            vol.write(lcn * vol.cluster, chunk)
            pos += len(chunk)
            if pos >= len(table):
                break
        return len(new)


# --------------------------------------------------------------------------
# Proof with The Sleuth Kit
# --------------------------------------------------------------------------

def _tsk(cmd, offset):
    import subprocess
    if offset:
        cmd = cmd[:1] + ["-o", str(offset // SECTOR)] + cmd[1:]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def tsk_listing(img, offset=0):
    """fls -r -p of the volume: {path: inode} of every regular file, system
    files included, and the set of listed lines."""
    out = {}
    text = _tsk(["fls", "-r", "-p", img], offset).decode("utf-8", "replace")
    for ln in text.splitlines():
        meta, _, path = ln.partition("\t")
        # "-/r": TSK could not type the name (it does so for the entries of
        # index blocks past the first when clusters exceed the index block).
        kind = meta.split(" ")[0]
        if kind.endswith("/r") and "*" not in meta:
            out[path] = meta.split()[-1].rstrip(":")
    return out, text


def tsk_extract(img, inode, offset=0):
    return _tsk(["icat", img, inode], offset)


def prove(img, before, written, offset=0):
    """Fail unless The Sleuth Kit reads `img` as NTFS 1.2 holding what it
    held before the conversion: fsstat says version 1.2 ("Windows NT"), fls -r
    lists the same tree less $Extend, icat gives every regular file byte for byte as
    before (`before`: tsk_listing and contents taken from the 3.1 volume),
    and every file the factory wrote (`written`: path -> bytes) as written."""
    fsstat = _tsk(["fsstat", img], offset).decode()
    if "Version: Windows NT" not in fsstat:
        raise Refused("%s: fsstat does not report NTFS 1.2 (Windows NT)" % img)
    files, listing = tsk_listing(img, offset)
    old_files, old_listing, old_data = before
    # The same tree, less $Extend and what it held.
    kept = "".join(ln + "\n" for ln in old_listing.splitlines()
                   if not ln.partition("\t")[2].startswith("$Extend"))
    if listing != kept:
        raise Refused("%s: fls -r lists a different tree after the conversion" % img)
    for path, inode in files.items():
        if path in ("$AttrDef", "$MFT", "$MFTMirr"):
            continue  # what the conversion rewrites
        if tsk_extract(img, inode, offset) != old_data[path]:
            raise Refused("%s: icat %s (%s) differs from the 3.1 volume" % (img, inode, path))
    for path, data in written.items():
        if path not in files:
            raise Refused("%s: fls -r does not list %s" % (img, path))
        if tsk_extract(img, files[path], offset) != data:
            raise Refused("%s: icat %s differs from what was written" % (img, path))
    return len(files)


def snapshot(img, offset=0):
    """What prove() compares against, taken before the conversion."""
    files, listing = tsk_listing(img, offset)
    return files, listing, {p: tsk_extract(img, i, offset) for p, i in files.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--offset", type=int, default=0, help="byte offset of the volume in the image")
    a = ap.parse_args()
    try:
        n = convert(a.image, a.offset)
    except Refused as e:
        print("ntfs12.py: %s: %s" % (a.image, e), file=sys.stderr)
        return 1
    print("ntfs12.py: %s: %d MFT records now NTFS 1.2" % (a.image, n), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

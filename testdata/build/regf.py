"""Write a minimal, empty Windows registry hive (regf) from nothing.

python3-hivex can edit a hive but cannot create one, so the factory starts
every hive from the bytes written here: a 4096-byte base block, one 4096-byte
hive bin holding the root key (nk) cell, one security (sk) cell and a free
cell for the rest of the bin.  Layout follows the public "Windows registry
file format specification" (Maxim Suhanov).  hivex then adds keys and values.
"""

import struct

HBIN_SIZE = 4096


def _sid(revision, authority, *subs):
    return struct.pack("<BB", revision, len(subs)) + authority.to_bytes(6, "big") + b"".join(
        struct.pack("<I", s) for s in subs
    )


def _security_descriptor():
    """Self-relative SD: owner Administrators, group SYSTEM, DACL granting
    KEY_ALL_ACCESS to Administrators and SYSTEM, KEY_READ to Everyone."""
    admins = _sid(1, 5, 32, 544)
    system = _sid(1, 5, 18)
    everyone = _sid(1, 1, 0)

    def ace(mask, sid):
        size = 8 + len(sid)
        # ACCESS_ALLOWED_ACE, flags CONTAINER_INHERIT_ACE (0x02)
        return struct.pack("<BBHI", 0, 0x02, size, mask) + sid

    aces = ace(0xF003F, admins) + ace(0xF003F, system) + ace(0x20019, everyone)
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(aces), 3, 0) + aces
    header_len = 20
    owner_off = header_len
    group_off = owner_off + len(admins)
    dacl_off = group_off + len(system)
    # control: SE_SELF_RELATIVE | SE_DACL_PRESENT
    header = struct.pack("<BBHIIII", 1, 0, 0x8004, owner_off, group_off, 0, dacl_off)
    return header + admins + system + acl


def _cell(data):
    """Allocated cell: negative size, 8-byte aligned."""
    size = (4 + len(data) + 7) & ~7
    return struct.pack("<i", -size) + data + b"\0" * (size - 4 - len(data))


def empty_hive(root_name="$$$PROTO.HIV", filetime=0, file_name=""):
    """Return the bytes of an empty hive (base block + one hbin)."""
    root_off = 0x20  # first cell after the 32-byte hbin header
    name = root_name.encode("ascii")
    nk_len = 76 + len(name)
    nk_cell_size = (4 + nk_len + 7) & ~7
    sk_off = root_off + nk_cell_size

    nk = struct.pack(
        "<2sHQIIIIIIIIIIIIIIIHH",
        b"nk",
        0x2C,  # KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
        filetime,
        0,  # access bits / spare
        0,  # parent (none for the root)
        0,  # subkeys
        0,  # volatile subkeys
        0xFFFFFFFF,  # subkeys list
        0xFFFFFFFF,  # volatile subkeys list
        0,  # values
        0xFFFFFFFF,  # values list
        sk_off,  # security key
        0xFFFFFFFF,  # class name
        0,  # largest subkey name length
        0,  # largest subkey class length
        0,  # largest value name length
        0,  # largest value data size
        0,  # WorkVar
        len(name),
        0,  # class name length
    ) + name
    assert len(nk) == nk_len

    sd = _security_descriptor()
    sk = struct.pack("<2sHIIII", b"sk", 0, sk_off, sk_off, 1, len(sd)) + sd

    cells = _cell(nk) + _cell(sk)
    free = HBIN_SIZE - 0x20 - len(cells)
    cells += struct.pack("<i", free) + b"\0" * (free - 4)

    hbin = struct.pack("<4sIIQQI", b"hbin", 0, HBIN_SIZE, 0, filetime, 0) + cells
    assert len(hbin) == HBIN_SIZE

    base = bytearray(4096)
    struct.pack_into(
        "<4sIIQIIIIIII",
        base,
        0,
        b"regf",
        1,  # primary sequence number
        1,  # secondary sequence number (equal: hive is clean)
        filetime,
        1,  # major version
        3,  # minor version (NT 4.0 .. XP use 1.3)
        0,  # file type: primary
        1,  # file format: direct memory load
        root_off,
        HBIN_SIZE,  # hive bins data size
        1,  # clustering factor
    )
    fname = file_name.encode("utf-16-le")[:64]
    base[0x30 : 0x30 + len(fname)] = fname
    checksum = 0
    for (word,) in struct.iter_unpack("<I", bytes(base[:508])):
        checksum ^= word
    if checksum == 0xFFFFFFFF:
        checksum = 0xFFFFFFFE
    elif checksum == 0:
        checksum = 1
    struct.pack_into("<I", base, 508, checksum)
    return bytes(base) + hbin

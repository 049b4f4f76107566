#!/usr/bin/python3
"""WOF (Windows Overlay Filter) compressed test data for verskew.

Compression is done by wimlib's own compressors (libwim.so.15 through
ctypes): an encoder independent of verskew's decoders.  WOF's on-disk form,
as wimlib's documentation and its NTFS-3G "system compression" notes
describe it:

  * the file carries a reparse point, tag 0x80000017 (IO_REPARSE_TAG_WOF),
    whose data is WOF_EXTERNAL_INFO {version 1, provider 2 (file)} then
    FILE_PROVIDER_EXTERNAL_INFO_V1 {version 1, algorithm};
    algorithm 0 XPRESS4K, 1 LZX (32 KiB chunks), 2 XPRESS8K, 3 XPRESS16K;
  * the unnamed $DATA has the logical size and no data (sparse);
  * the named stream "WofCompressedData" holds a chunk table (one offset per
    chunk after the first, relative to the end of the table; 4 bytes each, 8
    when the file is over 4 GiB) and then the chunks; a chunk that would not
    shrink is stored as is.

Two products:
  vectors(outdir)  testdata/wof/vectors/*.wof: bare WofCompressedData
                   streams for the decoders' unit tests, plus vectors.toml
                   (algorithm, size, SHA-256 of the original bytes);
  image(outdir)    testdata/wof/wof.img: an NTFS volume made by mkntfs and
                   ntfs-3g holding WOF-compressed files, plus
                   testdata/wof/manifest.toml with each file's SHA-256.
"""

import ctypes
import hashlib
import os
import random
import struct
import subprocess
import sys
import tempfile

WIMLIB_XPRESS, WIMLIB_LZX = 1, 2
ALGOS = {
    # WOF algorithm number: (name, wimlib type, chunk size)
    0: ("xpress4k", WIMLIB_XPRESS, 4096),
    1: ("lzx", WIMLIB_LZX, 32768),
    2: ("xpress8k", WIMLIB_XPRESS, 8192),
    3: ("xpress16k", WIMLIB_XPRESS, 16384),
}

_lib = None


def lib():
    global _lib
    if _lib is None:
        _lib = ctypes.CDLL("libwim.so.15")
        _lib.wimlib_create_compressor.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_uint,
                                                  ctypes.POINTER(ctypes.c_void_p)]
        _lib.wimlib_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                         ctypes.c_size_t, ctypes.c_void_p]
        _lib.wimlib_compress.restype = ctypes.c_size_t
        _lib.wimlib_create_decompressor.argtypes = [ctypes.c_int, ctypes.c_size_t,
                                                    ctypes.POINTER(ctypes.c_void_p)]
        _lib.wimlib_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                           ctypes.c_size_t, ctypes.c_void_p]
    return _lib


def compress_chunk(ctype, chunk_size, data):
    """wimlib's compressed form of `data`, or None when it would not shrink."""
    L = lib()
    comp = ctypes.c_void_p()
    if L.wimlib_create_compressor(ctype, chunk_size, 0, ctypes.byref(comp)) != 0:
        raise RuntimeError("wimlib_create_compressor failed")
    try:
        src = ctypes.create_string_buffer(bytes(data), len(data))
        out = ctypes.create_string_buffer(len(data))
        n = L.wimlib_compress(src, len(data), out, len(data) - 1, comp)
    finally:
        L.wimlib_free_compressor(comp)
    if n == 0:
        return None
    packed = out.raw[:n]
    # Check with wimlib's own decompressor.
    dec = ctypes.c_void_p()
    if L.wimlib_create_decompressor(ctype, chunk_size, ctypes.byref(dec)) != 0:
        raise RuntimeError("wimlib_create_decompressor failed")
    try:
        back = ctypes.create_string_buffer(len(data))
        if L.wimlib_decompress(packed, n, back, len(data), dec) != 0 or back.raw != bytes(data):
            raise RuntimeError("wimlib round trip failed")
    finally:
        L.wimlib_free_decompressor(dec)
    return packed


def wof_stream(algo, data):
    """(WofCompressedData bytes, chunks stored raw) for `data`."""
    _, ctype, csize = ALGOS[algo]
    chunks = [data[i:i + csize] for i in range(0, len(data), csize)]
    entry = "<Q" if len(data) > 0xFFFFFFFF else "<I"
    bodies, raw = [], 0
    for c in chunks:
        p = compress_chunk(ctype, csize, c)
        if p is None:
            p, raw = bytes(c), raw + 1
        bodies.append(p)
    table, off = b"", 0
    for b in bodies[:-1]:
        off += len(b)
        table += struct.pack(entry, off)
    return table + b"".join(bodies), raw


def sample(seed, size, kind="mixed"):
    """Deterministic test content: text, x86-like code with E8 calls (LZX's
    E8 translation), and random (incompressible) stretches."""
    r = random.Random(seed)
    words = [b"IIS", b"w3svc", b"module", b"Version", b"\r\n", b"inetsrv", b"DLL", b"  ", b"0x%04x"]
    out = bytearray()
    while len(out) < size:
        part = kind if kind != "mixed" else r.choice(["text", "code", "random", "zeros"])
        n = r.randint(500, 12000)
        if part == "text":
            while n > 0:
                w = r.choice(words)
                if b"%" in w:
                    w = w % r.randint(0, 0xFFFF)
                out += w + b" "
                n -= len(w) + 1
        elif part == "code":
            for _ in range(n // 8):
                op = r.random()
                if op < 0.3:
                    out += b"\xe8" + struct.pack("<i", r.randint(-40000, 40000))
                elif op < 0.4:
                    out += b"\xe8" + struct.pack("<i", r.randint(-2**31, 2**31 - 1))
                else:
                    out += bytes(r.choice([b"\x55\x8b\xec", b"\x83\xec\x08", b"\x5d\xc3", b"\x90", b"\x33\xc0"]))
        elif part == "random":
            out += r.randbytes(n)
        else:
            out += bytes(n)
    return bytes(out[:size])


# (name, algorithm, size, kind): empty, one chunk, several, sizes that are
# not a multiple of the chunk, incompressible chunks among compressible ones.
FILES = [
    ("empty-xpress4k.bin", 0, 0, "text"),
    ("one-byte-lzx.bin", 1, 1, "text"),
    ("small-xpress4k.bin", 0, 1000, "text"),
    ("one-chunk-xpress4k.bin", 0, 4096, "text"),
    ("mixed-xpress4k.bin", 0, 150_001, "mixed"),
    ("random-xpress4k.bin", 0, 9000, "random"),
    ("mixed-xpress8k.bin", 2, 100_000, "mixed"),
    ("mixed-xpress16k.bin", 3, 140_000, "mixed"),
    ("one-chunk-lzx.bin", 1, 32768, "code"),
    ("mixed-lzx.bin", 1, 300_007, "mixed"),
    ("code-lzx.bin", 1, 70_000, "code"),
    ("random-lzx.bin", 1, 40_000, "random"),
]


def vectors(outdir):
    os.makedirs(outdir, exist_ok=True)
    lines = ["# Generated by testdata/build/wof_images.py: WofCompressedData streams",
             "# compressed by wimlib (libwim.so.15); sha256 is of the original bytes.", ""]
    for seed, (name, algo, size, kind) in enumerate(FILES):
        data = sample(seed, size, kind)
        stream, raw = wof_stream(algo, data)
        base = name.replace(".bin", ".wof")
        with open(os.path.join(outdir, base), "wb") as f:
            f.write(stream)
        lines += ["[[vector]]", f'file = "{base}"', f"algorithm = {algo}", f"size = {size}",
                  f"raw_chunks = {raw}", f'sha256 = "{hashlib.sha256(data).hexdigest()}"', ""]
    with open(os.path.join(outdir, "vectors.toml"), "w") as f:
        f.write("\n".join(lines))


def reparse_wof(algo):
    """REPARSE_DATA_BUFFER of a WOF file-provider file."""
    body = struct.pack("<IIII", 1, 2, 1, algo)
    return struct.pack("<IHH", 0x80000017, len(body), 0) + body


def image(outdir, size_mb=4):
    """testdata/wof/wof.img (NTFS, mkntfs + ntfs-3g) and manifest.toml."""
    os.makedirs(outdir, exist_ok=True)
    img = os.path.join(outdir, "wof.img")
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(size_mb << 20)
    subprocess.run(["mkntfs", "-q", "-F", "-Q", "-c", "4096", "-L", "WOF", "-T", img], check=True)
    mnt = tempfile.mkdtemp(prefix="wof-mnt-")
    subprocess.run(["ntfs-3g", "-o", "streams_interface=windows", img, mnt], check=True)
    lines = ["# Generated by testdata/build/wof_images.py: WOF-compressed files on an",
             "# NTFS volume (mkntfs + ntfs-3g), compressed by wimlib (libwim.so.15).",
             "# sha256 is of the original bytes; `unreadable` files must be refused.", ""]
    try:
        os.mkdir(os.path.join(mnt, "wof"))
        for seed, (name, algo, size, kind) in enumerate(FILES):
            data = sample(seed, size, kind)
            stream, raw = wof_stream(algo, data)
            path = os.path.join(mnt, "wof", name)
            with open(path, "wb") as f:
                f.truncate(size)  # sparse: the logical size only
            with open(path + ":WofCompressedData", "wb") as f:
                f.write(stream)
            os.setxattr(path, "system.ntfs_reparse_data", reparse_wof(algo))
            lines += ["[[file]]", f"path = '\\wof\\{name}'", f'algorithm = "{ALGOS[algo][0]}"',
                      f"size = {size}", f"raw_chunks = {raw}",
                      f'sha256 = "{hashlib.sha256(data).hexdigest()}"', ""]
        # Control: a plain file, and a deduplicated file whose data is in a
        # chunk store elsewhere (never to be read as its sparse zeros).
        plain = sample(99, 5000, "text")
        with open(os.path.join(mnt, "wof", "plain.txt"), "wb") as f:
            f.write(plain)
        lines += ["[[file]]", "path = '\\wof\\plain.txt'", 'algorithm = "none"', "size = 5000",
                  "raw_chunks = 0", f'sha256 = "{hashlib.sha256(plain).hexdigest()}"', ""]
        dedup = os.path.join(mnt, "wof", "dedup.bin")
        with open(dedup, "wb") as f:
            f.truncate(20000)
        os.setxattr(dedup, "system.ntfs_reparse_data",
                    struct.pack("<IHH", 0x80000013, 8, 0) + bytes(8))
        lines += ["[[unreadable]]", "path = '\\wof\\dedup.bin'", 'reason = "Deduplication"', ""]
    finally:
        subprocess.run(["umount", mnt], check=True)
        os.rmdir(mnt)
    with open(os.path.join(outdir, "manifest.toml"), "w") as f:
        f.write("\n".join(lines))


def convert(src, dst, folder="WINDOWS/system32/inetsrv"):
    """Copy image `src` to `dst` and WOF-compress every file of `folder` in
    it (the algorithms taken in turn, so all four occur), keeping each
    file's times: what `compact /c /exe:<alg>` leaves on Windows 10."""
    import shutil
    shutil.copyfile(src, dst)
    mnt = tempfile.mkdtemp(prefix="wof-mnt-")
    subprocess.run(["ntfs-3g", "-o", "streams_interface=windows", dst, mnt], check=True)
    done = []
    try:
        base = os.path.join(mnt, *folder.split("/"))
        for k, name in enumerate(sorted(os.listdir(base))):
            path = os.path.join(base, name)
            if not os.path.isfile(path):
                continue
            algo = (1, 0, 3, 2)[k % 4]
            times = os.getxattr(path, "system.ntfs_times")
            with open(path, "rb") as f:
                data = f.read()
            stream, raw = wof_stream(algo, data)
            with open(path, "wb") as f:
                f.truncate(len(data))
            with open(path + ":WofCompressedData", "wb") as f:
                f.write(stream)
            os.setxattr(path, "system.ntfs_reparse_data", reparse_wof(algo))
            os.setxattr(path, "system.ntfs_times", times)
            done.append((name, ALGOS[algo][0], len(data), raw))
    finally:
        os.sync()
        subprocess.run(["umount", mnt], check=True)
        os.rmdir(mnt)
    for d in done:
        print("  %-16s %-9s %7d bytes, %d raw chunks" % d, file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(sys.argv[2], sys.argv[3])
        sys.exit(0)
    what, out = sys.argv[1], sys.argv[2]
    {"vectors": vectors, "image": image}[what](out)

"""Builds a few of the loader images' mingw DLLs (testdata/build/loader_images.py)
into src/pe/testdata/imports/ with their pefile listings beside them
(<name>.txt), which src/pe/imports.rs's tests compare with our reader.

Run with a python that has both hivex (factory.py imports it) and pefile, or
as here: /usr/bin/python3 builds, pefile's python lists:
    /usr/bin/python3 testdata/build/pe_listings.py build OUT_DIR
    python3 testdata/build/pe_listings.py list OUT_DIR
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# (case, folder, name, stored as)
PICK = [
    ("delay", "inet", "w3svc.dll", "w3svc-delay.dll"),
    ("healthy", "s32", "kernel32.dll", "kernel32.dll"),
    ("healthy", "inet", "infocomm.dll", "infocomm.dll"),
    ("wrong-machine", "inet", "authfilt.dll", "authfilt64.dll"),
]


def build(out):
    sys.path.insert(0, HERE)
    import factory as fx
    import loader_images as L
    work = tempfile.mkdtemp(prefix="verskew-pe-listings-")
    try:
        cache = {}
        for case, folder, name, stored in PICK:
            if case not in cache:
                cache[case] = L.dlls(work, fx, case)
            data = cache[case][(folder, name)][0]
            with open(os.path.join(out, stored), "wb") as f:
                f.write(data)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sym(i):
    return i.name.decode() if i.name else "#%d" % i.ordinal


def listing(path):
    import pefile
    pe = pefile.PE(path)
    out = ["machine 0x%x" % pe.FILE_HEADER.Machine]
    for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", []):
        for i in e.imports:
            out.append("import %s %s" % (e.dll.decode(), sym(i)))
    for e in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", []):
        for i in e.imports:
            out.append("delay %s %s" % (e.dll.decode(), sym(i)))
    if hasattr(pe, "DIRECTORY_ENTRY_EXPORT"):
        for s in pe.DIRECTORY_ENTRY_EXPORT.symbols:
            line = "export %d %s" % (s.ordinal, s.name.decode() if s.name else "-")
            if s.forwarder:
                line += " -> " + s.forwarder.decode()
            out.append(line)
    return "\n".join(out) + "\n"


def main():
    what, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if what == "build":
        build(out)
    else:
        for _, _, _, stored in PICK:
            p = os.path.join(out, stored)
            with open(p[:-4] + ".txt", "w") as f:
                f.write(listing(p))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Run the factory twice into two temporary directories and compare:
#   * images.toml must be byte-identical;
#   * every file listed in the manifest (DLLs, hives, text files) must have
#     identical bytes in both runs (read back with The Sleuth Kit);
#   * whole image files are compared too: the NTFS images, E01, qcow2 and
#     split raw come out byte-identical (mkntfs/ntfs-3g/ewfacquire/qemu-img
#     run under a frozen clock); VHD, VHDX and VMDK carry random UUIDs/CIDs
#     from qemu-img, so they differ (reported, not an error).
# Usage: sudo testdata/build/check-determinism.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
a=$(mktemp -d /tmp/verskew-det-a.XXXXXX)
b=$(mktemp -d /tmp/verskew-det-b.XXXXXX)
trap 'rm -rf "$a" "$b"' EXIT
"$here/make-all.sh" "$a" >/dev/null 2>&1
"$here/make-all.sh" "$b" >/dev/null 2>&1
cmp "$a/images.toml" "$b/images.toml"
echo "images.toml: byte-identical ($(wc -c <"$a/images.toml") bytes)"
/usr/bin/python3 - "$a" "$b" <<'PY'
import subprocess, sys, tomllib
a, b = sys.argv[1:]
m = tomllib.load(open(a + "/images.toml", "rb"))
files = same = 0
diff_imgs = []
for img in m["image"]:
    if open(f"{a}/{img['file']}", "rb").read() != open(f"{b}/{img['file']}", "rb").read():
        diff_imgs.append(img["name"])
    if img["format"] != "raw":
        continue
    off = str(img["partition_offset"] // 512)
    bad = set(img.get("expect_unreadable", []))
    for f in img["files"]:
        if any(f["path"] == u or f["path"].startswith(u.rstrip("\\") + "\\") for u in bad):
            continue
        p = f["path"].lstrip("\\").replace("\\", "/")
        got = []
        for d in (a, b):
            ino = subprocess.run(["ifind", "-o", off, "-n", p, f"{d}/{img['file']}"], capture_output=True,
                                 text=True, check=True).stdout.strip()
            got.append(subprocess.run(["icat", "-o", off, f"{d}/{img['file']}", ino], capture_output=True,
                                      check=True).stdout)
        files += 1
        if got[0] == got[1]:
            same += 1
        else:
            print("DIFFERS:", img["name"], f["path"])
print(f"file contents: {same}/{files} identical across the two runs")
print(f"whole image files identical: {len(m['image']) - len(diff_imgs)} of {len(m['image'])}")
if diff_imgs:
    print("differ (random container UUIDs, expected for vhd/vhdx/vmdk):", ", ".join(diff_imgs))
for name in diff_imgs:
    fmt = next(i["format"] for i in m["image"] if i["name"] == name)
    if fmt not in ("vhd", "vhdx", "vmdk"):
        print("UNEXPECTED whole-file difference:", name)
        sys.exit(1)
sys.exit(0 if same == files else 1)
PY

#!/usr/bin/env bash
# LZNT1 through whole files, side by side (issue 15): builds an NTFS image
# whose \c folder ntfs-3g compresses as Windows does (LZNT1, 64 KiB units),
# then times in one run, alternating tool by tool:
#   - verskew: `cargo bench --bench lznt1` (NtfsVolume::read, in process)
#   - libfsntfs (pip libfsntfs-python): reading each file with a fresh entry
#   - ntfs-3g: `cat` of each file from a read-only mount (FUSE included, warm)
#
#   benches/lznt1_peers.sh [IMG]     IMG default /tmp/verskew-lznt1.img (kept)
#
# Needs root (FUSE), mkntfs/ntfs-3g, python3 with pyfsntfs. Not run by CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
img=${1:-/tmp/verskew-lznt1.img}
runs=${VERSKEW_RUNS:-9}
mnt=$(mktemp -d)
trap 'mountpoint -q "$mnt" && umount "$mnt"; rmdir "$mnt"' EXIT

if [ ! -f "$img" ]; then
    truncate -s 256M "$img"
    mkntfs -q -F -Q -c 4096 "$img"
    ntfs-3g -o compression "$img" "$mnt"
    mkdir "$mnt/c"
    python3 -c "import os; os.setxattr('$mnt/c', 'system.ntfs_attrib_be', (0x800).to_bytes(4, 'big'))"
    # DLL-like bytes (system32 itself is the real-world case) and text.
    python3 - "$mnt/c" <<'EOF'
import os, random, sys
d = sys.argv[1]
r = random.Random(7)
def dll(n):
    out = bytearray()
    while len(out) < n:
        k = r.randrange(6)
        if k == 0: out += bytes([0x55, 0x8B, 0xEC, 0x83, 0xEC, r.randrange(64), 0x53, 0x56, 0x57])
        elif k == 1: out += b"GetProcAddress\0LoadLibraryA\0HeapAlloc\0"
        elif k == 2: out += bytes(r.randrange(200))
        elif k == 3 and len(out) > 256:
            a = r.randrange(len(out) - 64); out += out[a:a + 3 + r.randrange(60)]
        else: out += bytes(r.randrange(256) for _ in range(r.randrange(48)))
    return bytes(out[:n])
open(os.path.join(d, "dll-like-8m.bin"), "wb").write(dll(8 << 20))
open(os.path.join(d, "text-8m.txt"), "wb").write((b"[boot loader]\r\ntimeout=30\r\n" * 400000)[:8 << 20])
EOF
    sync
    umount "$mnt"
fi

echo "== verskew (cargo bench --bench lznt1)"
(cd "$here/.." && VERSKEW_RUNS=$runs VERSKEW_LZNT1_IMAGE=$img cargo bench --locked --bench lznt1 2>/dev/null)

echo "== libfsntfs"
VERSKEW_RUNS=$runs python3 - "$img" <<'EOF'
import os, statistics, sys, time
import pyfsntfs
runs = int(os.environ["VERSKEW_RUNS"])
v = pyfsntfs.volume(); v.open(sys.argv[1])
for name in ["dll-like-8m.bin", "text-8m.txt"]:
    per = []
    for _ in range(runs):
        t, n = time.perf_counter(), 0
        while time.perf_counter() - t < 0.2:
            e = v.get_file_entry_by_path("\\c\\" + name)
            e.read_buffer(e.size); n += 1
        per.append((time.perf_counter() - t) / n)
    print("%-26s %10d %12.1f MB/s" % ("image " + name, e.size, e.size / statistics.median(per) / 1e6))
EOF

echo "== ntfs-3g (read-only mount, cat, warm)"
ntfs-3g -o ro "$img" "$mnt"
for name in dll-like-8m.bin text-8m.txt; do
    f=$mnt/c/$name
    size=$(stat -c %s "$f")
    per=()
    for _ in $(seq "$runs"); do
        t0=$(date +%s.%N); cat "$f" >/dev/null; t1=$(date +%s.%N)
        per+=("$(echo "$t1 - $t0" | bc -l)")
    done
    med=$(printf '%s\n' "${per[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-26s %10d %12.1f MB/s\n' "image $name" "$size" "$(echo "$size / $med / 1000000" | bc -l)"
done

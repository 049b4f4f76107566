#!/usr/bin/env bash
# Builds a large NTFS image (NOT committed) for the size-independence and
# census benchmarks: a sparse volume of tens of GB holding a realistic Windows
# tree of hundreds of thousands of files, with the seed image's \WINNT tree
# (the IIS 4 / KB Q291589 case) copied in the middle of the MFT.
#
#   benches/make-large-image.sh [OUT.img] [FILES] [SIZE]
#     OUT    default /tmp/verskew-large.img
#     FILES  default 300000 (files created besides the seed's \WINNT)
#     SIZE   default 40G (sparse; only the written clusters take disk space)
#
# Needs root (FUSE), mkntfs and ntfs-3g (apt-get install ntfs-3g). On the
# shared 2-core development machine 300,000 files built in 284 s (ntfs-3g
# created 550-1,750 files/s; the PE files are padded to 4-512 KiB); the image
# takes 6.5 GB on disk (40 GiB apparent).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-/tmp/verskew-large.img}
files=${2:-300000}
size=${3:-40G}
seed=${SEED:-$repo/testdata/nt4-iis4-kb291589.img}

for tool in mkntfs ntfs-3g python3; do
    command -v "$tool" >/dev/null || { echo "make-large-image: $tool is missing (apt-get install ntfs-3g)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/verskew-large.XXXXXX)
mnt=$work/mnt
seedmnt=$work/seed
mkdir -p "$mnt" "$seedmnt"
cleanup() {
    mountpoint -q "$seedmnt" && umount "$seedmnt" || true
    mountpoint -q "$mnt" && umount "$mnt" || true
    rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
rm -f "$out"
truncate -s "$size" "$out"
# -Q quick (no zeroing), -F force on a regular file; 4 KiB clusters as Windows.
mkntfs -Q -F -c 4096 -L LARGE "$out" >/dev/null
ntfs-3g "$out" "$mnt"
# The seed volume, read-only: its \WINNT tree (hives + inetsrv DLLs) is copied
# in after the first half of the files, so its MFT records sit mid-table.
ntfs-3g -o ro "$seed" "$seedmnt"

echo "make-large-image: first half ($((files / 2)) files)" >&2
python3 "$here/peers/populate.py" "$mnt" --seed-tree "$seedmnt/WINNT" --count "$files" --part 1
echo "make-large-image: copying the seed \\WINNT tree" >&2
cp -a "$seedmnt/WINNT/." "$mnt/WINNT/"
[ -f "$seedmnt/boot.ini" ] && cp -a "$seedmnt/boot.ini" "$mnt/"
echo "make-large-image: second half" >&2
python3 "$here/peers/populate.py" "$mnt" --seed-tree "$seedmnt/WINNT" --count "$files" --part 2
umount "$seedmnt"
umount "$mnt"
end=$(date +%s)
echo "make-large-image: $out: $(du -h --apparent-size "$out" | cut -f1) apparent, $(du -h "$out" | cut -f1) on disk, built in $((end - start)) s" >&2

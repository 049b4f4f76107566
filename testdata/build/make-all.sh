#!/usr/bin/env bash
# Regenerate every verskew test fixture (testdata/*.img, testdata/containers/,
# testdata/damaged/, testdata/images.toml) with one command:
#
#   sudo testdata/build/make-all.sh            # writes into testdata/
#   sudo testdata/build/make-all.sh /tmp/out   # writes elsewhere (determinism checks)
#
# Needs root (ntfs-3g FUSE mounts) and the Debian packages listed in
# testdata/README.md. CI never runs this: the outputs are committed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$(dirname "$here")}

if [ "$(id -u)" -ne 0 ]; then
    echo "make-all.sh: must run as root (ntfs-3g mounts through FUSE)" >&2
    exit 1
fi
missing=()
for t in mkntfs ntfs-3g i686-w64-mingw32-gcc i686-w64-mingw32-windres x86_64-w64-mingw32-gcc x86_64-w64-mingw32-windres qemu-img sfdisk ewfacquire \
         fls icat istat ifind fsstat reglookup split umount faketime mkfs.fat mmd mcopy; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if ! /usr/bin/python3 -c 'import hivex' 2>/dev/null; then missing+=("python3-hivex"); fi
if [ ${#missing[@]} -ne 0 ]; then
    echo "make-all.sh: missing tools: ${missing[*]}" >&2
    echo "  apt-get install ntfs-3g python3-hivex gcc-mingw-w64-i686 gcc-mingw-w64-x86-64 qemu-utils fdisk ewf-tools sleuthkit reglookup faketime dosfstools mtools" >&2
    exit 1
fi

# Reproducibility: fixed epoch for the toolchain, UTC, C locale.
export SOURCE_DATE_EPOCH=946684800   # 2000-01-01T00:00:00Z
export TZ=UTC LC_ALL=C PYTHONDONTWRITEBYTECODE=1
umask 022

mkdir -p "$out"
/usr/bin/python3 "$here/factory.py" --out "$out"
# WOF-compressed files (wimlib's compressors through libwim.so.15).
/usr/bin/python3 "$here/wof_images.py" vectors "$out/wof/vectors"
/usr/bin/python3 "$here/wof_images.py" image "$out/wof"
for n in w2k3-iis6-sp1-on-sp2 w2k3-iis6-healthy; do
    /usr/bin/python3 "$here/wof_images.py" convert "$out/$n.img" "$out/wof/$n-wof.img" 2>/dev/null
done
echo "make-all.sh: done; images in $out" >&2
du -sh --apparent-size "$out" >&2

#!/usr/bin/env bash
# verskew against peer tools on the same job, side by side.
#
#   benches/peers.sh                 # seed image, 10 alternating runs per tool
#   LARGE=/tmp/verskew-large.img benches/peers.sh
#                                    # also the large image (built by
#                                    # benches/make-large-image.sh if missing
#                                    # and BUILD_LARGE=1), 3 runs per tool
#   RUNS=20 benches/peers.sh         # more runs
#
# Installs what it needs and says so: apt-get (sleuthkit, reglookup, time,
# ntfs-3g) and pip (pefile, dissect.target, libfsntfs-python,
# libregf-python). A peer whose package does not install is skipped, with a
# note. Needs root for apt-get (skipped when the tools are already there).
# Prints the Markdown results table to stdout (paste it into
# benches/RESULTS.md), then verskew alone on each image: wall time and peak
# RSS (os.wait4), alternating.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-10}
large_runs=${LARGE_RUNS:-3}
seed=$repo/testdata/nt4-iis4-kb291589.img
say() { echo "peers.sh: $*" >&2; }

# --- tools -----------------------------------------------------------------
need_apt=()
for pair in fls:sleuthkit icat:sleuthkit mmls:sleuthkit reglookup:reglookup ntfs-3g:ntfs-3g; do
    command -v "${pair%%:*}" >/dev/null || need_apt+=("${pair#*:}")
done
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
    say "installing with apt-get: ${need_apt[*]}"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2 \
        || say "apt-get install failed; the TSK peer may be skipped"
else
    say "sleuthkit, reglookup, ntfs-3g and time are installed"
fi
py=${PYTHON:-python3}
for pkg in pefile:pefile dissect.target:dissect.target pyfsntfs:libfsntfs-python pyregf:libregf-python; do
    mod=${pkg%%:*}; dist=${pkg#*:}
    if "$py" -c "import $mod" 2>/dev/null; then
        say "$dist is installed"
    else
        say "installing with pip: $dist"
        "$py" -m pip install -q "$dist" >&2 || say "$dist did not install; its peer is skipped"
    fi
done
"$py" -c "import pefile" || { say "pefile is required"; exit 2; }

# --- verskew -----------------------------------------------------------------
say "building verskew (release)"
(cd "$repo" && cargo build --release -q --bin verskew)
verskew=$repo/target/release/verskew

images=("$seed")
if [ -n "${LARGE:-}" ]; then
    if [ ! -f "$LARGE" ] && [ "${BUILD_LARGE:-0}" = 1 ]; then
        say "building the large image $LARGE (several minutes)"
        "$here/make-large-image.sh" "$LARGE"
    fi
    if [ -f "$LARGE" ]; then images+=("$LARGE"); else say "no $LARGE; set BUILD_LARGE=1 to build it"; fi
fi

# --- side by side --------------------------------------------------------------
"$py" "$here/peers/run.py" --verskew "$verskew" --runs "$runs" --large-runs "$large_runs" "${images[@]}"

# (run.py ends with verskew alone on each image: wall time and peak RSS,
# alternating images, from os.wait4's rusage.)

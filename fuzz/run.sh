#!/usr/bin/env bash
# Runs every target for SECS seconds (default 420), two at a time, niced.
# Usage: fuzz/run.sh [SECS] [target...]; logs in $LOGS (default /tmp/verskew-fuzz-logs).
# EXTRA="-len_control=0" adds libFuzzer flags; SUFFIX names a second log.
# Seeds first: (cd fuzz && cargo run --bin seeds --no-default-features).
set -u
cd "$(dirname "$0")"
SECS=${1:-420}; shift || true
TARGETS=${*:-"diagnose ntfs_patch hive pe index lznt1 volume image_open ntfs fat"}
LOGS=${LOGS:-/tmp/verskew-fuzz-logs}
mkdir -p "$LOGS" artifacts
maxlen() {
  case $1 in
    ntfs|fat) echo 4194304 ;; image_open) echo 1048576 ;; hive) echo 1048576 ;;
    pe) echo 262144 ;; volume) echo 65536 ;; *) echo 65536 ;;
  esac
}
run() {
  t=$1
  mkdir -p "corpus/$t" "artifacts/$t"
  nice -n 10 cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$SECS" -timeout=30 -rss_limit_mb=2048 -max_len="$(maxlen "$t")" \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" ${EXTRA:-} >"$LOGS/$t${SUFFIX:-}.log" 2>&1
  echo "$t exit $?" >>"$LOGS/summary"
}
set -- $TARGETS
while [ $# -gt 0 ]; do
  run "$1" & p1=$!
  shift
  if [ $# -gt 0 ]; then run "$1" & p2=$!; shift; wait $p2; fi
  wait $p1
done

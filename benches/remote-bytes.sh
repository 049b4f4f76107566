#!/usr/bin/env bash
# Bytes and requests a diagnosis costs over HTTP: serves an image from nginx
# on loopback (its own configuration, pid and logs in a temporary folder, a
# free port, stopped on exit) and runs `verskew diagnose` and `verskew info`
# on its URL, printing the `remote` object of each report.
#
#   benches/remote-bytes.sh [IMAGE]
#     IMAGE  default /tmp/verskew-large.img, made by
#            benches/make-large-image.sh /tmp/verskew-large.img 300000 40G
#     VERSKEW=path/to/verskew  (default: target/release/verskew, built if absent)
#
# Target: under 4 MiB fetched for the 40 GiB benchmark image. Needs nginx
# (apt-get install nginx) and python3. Sends traffic to 127.0.0.1 only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
image=${1:-/tmp/verskew-large.img}
verskew=${VERSKEW:-$repo/target/release/verskew}
nginx=$(command -v nginx || echo /usr/sbin/nginx)

[ -f "$image" ] || { echo "remote-bytes: no image at $image (see benches/make-large-image.sh)" >&2; exit 2; }
[ -x "$nginx" ] || { echo "remote-bytes: nginx is missing (apt-get install nginx)" >&2; exit 2; }
[ -x "$verskew" ] || (cd "$repo" && cargo build --release --locked)

work=$(mktemp -d /tmp/verskew-remote.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/www" "$work/tmp"
ln -s "$(readlink -f "$image")" "$work/www/image"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 64; }
http {
    access_log $work/access.log;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $work/www;
        disable_symlinks off;
    }
}
CONF
"$nginx" -p "$work" -c "$work/nginx.conf" -g 'daemon off; master_process off;' &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.1
done

url="http://127.0.0.1:$port/image?X-Amz-Signature=not-a-real-one"
size=$(stat -L -c %s "$image")
for cmd in diagnose info; do
    start=$(date +%s.%N)
    "$verskew" "$cmd" --format json "$url" > "$work/$cmd.json" || true
    end=$(date +%s.%N)
    python3 - "$cmd" "$size" "$start" "$end" "$work/$cmd.json" <<'PY'
import json, sys
cmd, size, start, end, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
r = json.loads(open(path).readline())
if "error" in r:
    sys.exit(f"{cmd}: {r['error']}")
t = r["remote"]
print(f"{cmd}: {t['bytes_fetched']:,} bytes ({t['bytes_fetched'] / 2**20:.2f} MiB) in "
      f"{t['requests']} requests, {t['retries']} retried, {end - start:.2f} s; "
      f"image {size:,} bytes ({size / 2**30:.1f} GiB)")
PY
done

#!/usr/bin/env bash
# Capture the migration stream Debian's C xenstored (Xen 4.17) writes during
# a live update, on the fake-Xen harness (docs/fakexen.md). This made
# cxenstored-4.17.bin (see README.md in this folder).
#
#   tests/migration/golden/capture-cxenstored.sh [BUILD_DIR [OUTPUT]]
#
# BUILD_DIR (default: build) holds xstore-fakexen; OUTPUT defaults to
# cxenstored-4.17.bin next to this script. Needs Debian's xen-utils-4.17 and
# xenstore-utils, and root or unprivileged user namespaces (the reference
# daemon runs in a private mount namespace, see docs/fakexen.md).
#
# The stand-in for the "new binary" of `xenstore-control live-update` copies
# the state file the old daemon just wrote, then execs the real daemon with
# the arguments it was given, so the update completes and the client gets
# its OK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
output=${2:-$here/cxenstored-4.17.bin}
xen=/usr/lib/xen-4.17/bin
fakexen=$build/tools/fakexen/xstore-fakexen

for f in "$fakexen" "$xen/xenstored" "$xen/xenstore-control" /usr/bin/xenstore-watch; do
  [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() {  # wait_for FILE: up to 10 s for FILE to appear
  for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2
  exit 1
}

export XSTORE_FAKEXEN=$work/host
mkdir -p "$XSTORE_FAKEXEN" "$work/run"
"$fakexen" init
"$fakexen" create 1-3
eval "$("$fakexen" env)"
export XENSTORED_RUNDIR=$work/run XENSTORED_PATH=$work/run/socket

cat > "$work/new-xenstored" <<EOF
#!/bin/sh
cp "\$XENSTORED_RUNDIR/state_dump" "$work/state_dump.copy"
exec $xen/xenstored "\$@"
EOF
chmod +x "$work/new-xenstored"

"$fakexen" exec -- "$xen/xenstored" -N &
pids+=($!)
wait_for "$XENSTORED_PATH"

# Guests 1-3 with their homes, /foo readable by 1 and writable by 2.
"$fakexen" introduce 1-3 --home
xenstore-write /foo bar
xenstore-chmod /foo n0 r1 w2

# A dom0 watch on a socket, and guest 1's watch through its ring.
xenstore-watch /foo > /dev/null &
pids+=($!)
"$fakexen" proxy 1 --listen "$work/guest1.sock" > "$work/proxy.log" &
pids+=($!)
wait_for "$work/guest1.sock"
XENSTORED_PATH=$work/guest1.sock xenstore-watch /local/domain/1/data > /dev/null &
pids+=($!)
sleep 1  # both watches registered (their first events delivered)

"$xen/xenstore-control" live-update "$work/new-xenstored"
wait_for "$work/state_dump.copy"
cp "$work/state_dump.copy" "$output"
echo "wrote $output ($(stat -c %s "$output") bytes)"

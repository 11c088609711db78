#!/usr/bin/env bash
# xstore-dump on the golden streams: key lines, --summary, and the exit
# codes (0 a whole stream, 1 a malformed or unreadable one, 2 usage).
#
#   dump_test.sh XSTORE_DUMP GOLDEN_DIR
set -uo pipefail
dump=$1
golden=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run ARGS...: the dump's stdout, stderr and status in $work/{out,err}, $status
run() { "$dump" "$@" > "$work/out" 2> "$work/err"; status=$?; }

expect_status() { [ "$status" = "$1" ] || fail "$2: exit $status, expected $1 (stderr: $(head -c 300 "$work/err"))"; }
expect_line() {  # expect_line FILE LINE: LINE is one of FILE's lines, exactly
  grep -Fxq -- "$2" "$work/$1" || fail "no line '$2' in $1"
}
expect_none() {  # expect_none FILE PATTERN
  ! grep -Eq -- "$2" "$work/$1" || fail "'$2' in $1"
}

run "$golden/cxenstored-4.17.bin"
expect_status 0 "the C daemon's stream"
expect_line out '@16 GLOBAL_DATA length 8: socket_fd=4 evtchn_fd=8'
expect_line out '@32 CONNECTION_DATA length 24: conn=1 ring domid=0 target=none evtchn=6 in=0 out=0 out_partial=0'
expect_line out '@96 WATCH_DATA length 56: conn=2 path="/local/domain/1/data" token="fx1:/local/domain/1/data"'
expect_line out '    out: CONTROL req_id=0 tx_id=0 len=3 "OK\x00"'
expect_line out '@344 NODE_DATA length 40: path="@releaseDomain" perms=n0 value=""'
expect_line out '@696 NODE_DATA length 48: path="/local/domain/1/domid" perms=n0,r1 value="1"'
expect_line out '@1128 NODE_DATA length 40: path="/foo" perms=n0,r1,w2 value="bar"'
expect_line out '@1176 END'
expect_line out 'summary: version 1, little-endian, 1184 bytes, 27 records'
expect_line out '  NODE_DATA: 17'
expect_line out '  CONNECTION_DATA: 6'
expect_line out '  lengths: all multiples of 8 (padding counted)'
[ -s "$work/err" ] && fail "stderr not empty: $(cat "$work/err")"

run --summary "$golden/cxenstored-4.17.bin"
expect_status 0 "--summary"
expect_none out '^@'
[ "$(head -n 1 "$work/out")" = 'summary: version 1, little-endian, 1184 bytes, 27 records' ] ||
  fail "--summary: first line $(head -n 1 "$work/out")"

run "$golden/xstored-v2-le.bin"
expect_status 0 "our version 2 stream"
expect_line out '@424 WATCH_DATA_EXTENDED length 24: conn=2 path="data" token="tok" depth=2'
expect_line out '    entry 2: SET_PERMS code=0 path="/local/domain/1/data/x" perms=n1,r0,b9!'
expect_line out '@1104 NODE_DATA length 32: path="/bin" perms=n0 value="a\x00b\xff"'
expect_line out '  nodes: 9 committed, 2 pending; paths 151 bytes, values 6 bytes'
expect_line out 'summary: version 2, little-endian, 1456 bytes, 27 records'

run "$golden/xstored-v1-be.bin"
expect_status 0 "our version 1 stream"
expect_line out 'summary: version 1, big-endian, 1080 bytes, 23 records'
expect_none out '^@.*(XS_TRANSACTION|WATCH_DATA_EXTENDED|pending)'

# Cut inside the NODE_DATA record at 600: what came before, then the error.
head -c 620 "$golden/cxenstored-4.17.bin" > "$work/truncated.bin"
run "$work/truncated.bin"
expect_status 1 "a truncated stream"
expect_line out '@560 NODE_DATA length 32: path="/local" perms=n0 value=""'
expect_none out '^summary'
expect_line err 'xstore-dump: record NODE_DATA at offset 600: length 40 past the end of the stream (12 bytes left)'

printf 'not a stream at all' > "$work/junk.bin"
run "$work/junk.bin"
expect_status 1 "not a stream"
expect_line err 'xstore-dump: stream header: not a xenstore stream (no "xenstore" ident)'

run "$work/missing.bin"
expect_status 1 "a missing file"

run
expect_status 2 "no argument"
grep -q '^usage: xstore-dump' "$work/err" || fail "no usage on stderr"
run --bogus "$golden/cxenstored-4.17.bin"
expect_status 2 "an unknown option"
run "$golden/cxenstored-4.17.bin" "$golden/xstored-v2-le.bin"
expect_status 2 "two streams"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all xstore-dump checks passed"

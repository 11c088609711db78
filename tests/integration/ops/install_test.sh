#!/bin/sh
# meson install into a scratch DESTDIR: the daemon in sbindir, the operator
# tools in bindir, xstored(8) (naming this sysconfdir's files), the systemd
# unit (with this prefix's paths), the drop-in for Xen's unit, the config
# files; nothing of the test harness or the benchmarks.
# usage: install_test.sh BUILDDIR
set -eu
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
# DESTDIR as packaging scripts set it (the same as --destdir).
DESTDIR=$dest meson install -C "$build" --no-rebuild --quiet >/dev/null || { echo "meson install failed"; exit 1; }

prefix=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["sbindir"], o["bindir"], o["mandir"], o["sysconfdir"], o["datadir"])')
set -- $prefix
p=$1; sbin=$2; bin=$3; man=$4; etc=$5; data=$6
abs() { case $1 in /*) echo "$1" ;; *) echo "$p/$1" ;; esac; }
sbin=$(abs "$sbin"); bin=$(abs "$bin"); man=$(abs "$man"); etc=$(abs "$etc"); data=$(abs "$data")

fail=0
need() { [ -e "$dest$1" ] || { echo "missing: $1"; fail=1; }; }
need_x() { [ -x "$dest$1" ] || { echo "missing or not executable: $1"; fail=1; }; }
absent() { if [ -n "$(find "$dest" -name "$1" | head -1)" ]; then echo "installed but should not be: $1"; fail=1; fi; }

need_x "$sbin/xstored"
need_x "$bin/xstore-dump"
need_x "$bin/xstore-top"
need "$man/man8/xstored.8"
need "$p/lib/systemd/system/xstored.service"
need "$data/xstored/xenstored.service.d/50-xstored.conf"
need "$etc/xstored.conf"
need "$etc/default/xstored"
absent 'xstore-fakexen'
absent 'xstore-bench*'
absent 'libxenctrl*'

unit="$dest$p/lib/systemd/system/xstored.service"
if [ -e "$unit" ]; then
  grep -q "^Type=notify$" "$unit" || { echo "xstored.service is not Type=notify"; fail=1; }
  grep -q "^ExecStart=$sbin/xstored -N .*--config $etc/xstored.conf" "$unit" ||
    { echo "xstored.service does not start $sbin/xstored with $etc/xstored.conf:"; grep ExecStart "$unit"; fail=1; }
  grep -q "@" "$unit" && { echo "unsubstituted @...@ in xstored.service"; fail=1; }
fi
grep -q "^ExecStart=$sbin/xstored " "$dest$data/xstored/xenstored.service.d/50-xstored.conf" 2>/dev/null ||
  { echo "the drop-in does not start $sbin/xstored"; fail=1; }
# The installed daemon runs and its page is a man page.
"$dest$sbin/xstored" --version | grep -q '^xstored ' || { echo "installed xstored --version failed"; fail=1; }
head -1 "$dest$man/man8/xstored.8" | grep -q '^\.TH XSTORED 8' || { echo "xstored.8 has no .TH line"; fail=1; }
grep -q "^\.B $etc/xstored.conf\$" "$dest$man/man8/xstored.8" 2>/dev/null ||
  { echo "xstored.8 does not name $etc/xstored.conf in FILES"; fail=1; }
# The installed sample config is one the daemon accepts.
"$dest$sbin/xstored" --config "$dest$etc/xstored.conf" --socket "$dest/none" --help >/dev/null ||
  { echo "xstored refuses the installed xstored.conf"; fail=1; }
[ $fail -eq 0 ] && echo "install tree complete under $p"
exit $fail

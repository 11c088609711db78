#!/usr/bin/env python3
"""The pure layers link without any of the host's system calls.

Every symbol the given static libraries leave undefined (and do not define
among themselves) must match the allowlist (pure_symbols.txt): memory and
string functions, the C++ runtime, libstdc++ internals. A system call or an
I/O facility of libstdc++ (files, threads, clocks) fails the test, naming
the library and object that needs it.

usage: pure_layers_test.py ALLOWLIST LIB.a...
       pure_layers_test.py --no-sockets PROGRAM

The second form checks a program (xstored-stubdom) imports nothing that
makes or uses a socket, io_uring or epoll.
"""
import fnmatch
import subprocess
import sys

# Named in the failure message when one of them shows up.
SYSCALLS = {"open", "open64", "openat", "read", "write", "close", "socket", "bind", "listen", "accept",
            "accept4", "connect", "mmap", "mmap64", "munmap", "ioctl", "poll", "epoll_wait", "fork",
            "execv", "execve", "stat", "fstat", "clock_gettime", "getpid", "syscall", "pthread_create"}


def nm(args, lib):
    """(object, mangled name) pairs; mangled names have no spaces."""
    out = subprocess.run(["nm", "-A"] + args + [lib], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.rsplit(None, 2)
        if len(parts) == 3 and len(parts[1]) == 1:
            yield parts[0].split(":")[1] if ":" in parts[0] else lib, parts[2].split("@")[0]


def demangle(names):
    names = list(names)
    out = subprocess.run(["c++filt"], input="\n".join(names), check=True, capture_output=True, text=True).stdout
    return dict(zip(names, out.splitlines()))


def load_allowlist(path):
    patterns = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line)
    return patterns


def allowed(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) if p.endswith("*") else name == p for p in patterns)


SOCKETS_AND_LOOPS = ["socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "send", "sendmsg",
                     "recv", "recvmsg", "io_uring_*", "epoll_*"]


def check_program(program):
    out = subprocess.run(["nm", "-D", "--undefined-only", program], check=True, capture_output=True,
                         text=True).stdout
    names = [line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()]
    bad = sorted({n for n in names if allowed(n, SOCKETS_AND_LOOPS)})
    for n in bad:
        print(f"{program} imports {n}")
    if not names:
        print("FAIL: no imports at all: the program was not read")
        return 1
    if bad:
        print(f"FAIL: {len(bad)} socket or event-loop functions")
        return 1
    print(f"OK: {program}: {len(names)} imports, no socket, io_uring or epoll")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--no-sockets":
        return check_program(sys.argv[2])
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    patterns = load_allowlist(sys.argv[1])
    libs = sys.argv[2:]
    defined = {name for lib in libs for _, name in nm(["--defined-only"], lib)}
    needed = {}
    for lib in libs:
        for where, name in nm(["--undefined-only"], lib):
            if name not in defined:
                needed.setdefault(name, set()).add(where)
    readable = demangle(needed)
    bad = {readable[n]: needed[n] for n in needed if not allowed(readable[n], patterns)}
    undefined = len(needed)
    for name in sorted(bad):
        kind = "a system call" if name in SYSCALLS else "not in the allowlist"
        bad[name] = sorted(bad[name])
        print(f"{name}: {kind}, needed by {', '.join(bad[name])}")
    if bad:
        print(f"FAIL: {len(bad)} symbols of the pure layers are not pure (see {sys.argv[1]})")
        return 1
    if undefined == 0:
        print("FAIL: no undefined symbols at all: the libraries were not read")
        return 1
    print(f"OK: {len(libs)} libraries, {undefined} symbols from outside them, all pure")
    return 0


if __name__ == "__main__":
    sys.exit(main())

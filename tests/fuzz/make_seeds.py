#!/usr/bin/env python3
"""Write seed inputs for xstore-fuzz-daemon: ordinary client sessions in the
fuzzer's script format (tests/fuzz/script.hpp, daemon_fuzz.cpp), so that
mutation starts from requests the daemon accepts.

usage: make_seeds.py DIR
"""
import struct
import sys
from pathlib import Path

# Message types (xs_wire.h).
CONTROL, DIRECTORY, READ, GET_PERMS, WATCH, UNWATCH, TX_START, TX_END = 0, 1, 2, 3, 4, 5, 6, 7
INTRODUCE, RELEASE, GET_DOMAIN_PATH, WRITE, MKDIR, RM, SET_PERMS = 8, 9, 10, 11, 12, 13, 14
IS_INTRODUCED, RESUME, SET_TARGET, RESET_WATCHES, DIRECTORY_PART = 17, 18, 19, 21, 22
GET_FEATURE, SET_FEATURE, GET_QUOTA, SET_QUOTA = 23, 24, 25, 26

# Script operations: the low two bits pick the client (0, 1: dom0 sockets;
# 2, 3: the guests, domains 1 and 2), the rest the action.
MESSAGE, RAW, TURN, STALL, HANGUP, SEND = 0, 3, 4, 5, 6, 7
MISCHIEF = HANGUP  # for a guest
RECONNECT, REQ_PROD_UP, RSP_CONS_UP, REQ_PROD_DOWN, DIE = 0, 1, 2, 3, 4
NO_TX, LIVE_TX = 0, 1
GUEST1, GUEST2 = 2, 3


def op(action, client=0):
    return bytes([(action << 2) | client])


def msg(mtype, payload, client=0, tx=NO_TX, req=1):
    """A MESSAGE action whose header length matches the payload."""
    assert mtype < 0xf0 and len(payload) < 0xe0
    return op(MESSAGE, client) + bytes([mtype, req, tx, len(payload)]) + payload + b"\x00"


def turn():
    return op(TURN)


SESSIONS = {
    "nodes": [
        msg(WRITE, b"/a/b\x00value"), msg(READ, b"/a/b\x00"), msg(MKDIR, b"/a/c\x00"),
        msg(DIRECTORY, b"/a\x00"), msg(DIRECTORY_PART, b"/a\x000\x00"),
        msg(GET_PERMS, b"/a/b\x00"), msg(SET_PERMS, b"/a/b\x00r0\x00b1\x00w2\x00"),
        msg(RM, b"/a\x00"), turn(),
    ],
    "watches": [
        msg(WATCH, b"/a\x00tok\x00", client=1), msg(WATCH, b"@releaseDomain\x00rel\x00", client=1),
        msg(WATCH, b"/\x00deep\x001\x00", client=2), turn(),
        msg(WRITE, b"/a/x\x001"), msg(RM, b"/a\x00"), turn(),
        msg(UNWATCH, b"/a\x00tok\x00", client=1), msg(RESET_WATCHES, b"", client=2), turn(),
    ],
    "transactions": [
        msg(TX_START, b"\x00"), turn(),
        msg(WRITE, b"/t/one\x001", tx=LIVE_TX), msg(READ, b"/t/one\x00", tx=LIVE_TX),
        msg(WRITE, b"/t/one\x00other", client=1), turn(),
        msg(TX_END, b"T\x00", tx=LIVE_TX), turn(),
        msg(TX_START, b"\x00"), turn(), msg(RM, b"/t\x00", tx=LIVE_TX), msg(TX_END, b"F\x00", tx=LIVE_TX), turn(),
    ],
    "domains": [
        msg(GET_DOMAIN_PATH, b"1\x00"), msg(IS_INTRODUCED, b"0\x00"),
        msg(INTRODUCE, b"1\x00" + b"1044476\x00" + b"7\x00"), msg(RELEASE, b"1\x00"),
        msg(RESUME, b"1\x00"), msg(SET_TARGET, b"1\x002\x00"),
        msg(GET_FEATURE, b"0\x00"), msg(SET_FEATURE, b"1\x001\x00"), turn(),
    ],
    "quota": [
        msg(GET_QUOTA, b""), msg(GET_QUOTA, b"0\x00"), msg(SET_QUOTA, b"nodes\x005\x00"),
        msg(SET_QUOTA, b"0\x00watches\x003\x00"), msg(CONTROL, b"quota\x000\x00"),
        msg(CONTROL, b"quota-soft\x00set\x00memory\x001000\x00"), msg(CONTROL, b"check\x00"), turn(),
    ],
    "flow": [
        op(STALL, 1), msg(WATCH, b"/\x00all\x00", client=1)] + [
        msg(WRITE, b"/f/%d\x00x" % i) for i in range(40)] + [
        turn(), op(SEND, 1) + b"\x07", op(STALL, 1), turn(), op(HANGUP, 1), turn(),
    ],
    "guests": [
        msg(WRITE, b"data/x\x001", client=GUEST1), msg(READ, b"data/x\x00", client=GUEST1),
        msg(WATCH, b"/local/domain/2\x00peer\x00", client=GUEST1), msg(WATCH, b"@releaseDomain\x00rel\x00", client=GUEST1),
        msg(TX_START, b"\x00", client=GUEST2), turn(),
        msg(WRITE, b"a\x00b", client=GUEST2, tx=LIVE_TX), msg(TX_END, b"T\x00", client=GUEST2, tx=LIVE_TX),
        msg(SET_PERMS, b"data\x00n1\x00r2\x00", client=GUEST1), msg(GET_DOMAIN_PATH, b"2\x00", client=GUEST2),
        msg(SET_TARGET, b"2\x001\x00"), turn(),
    ],
    "guest-quota": [
        op(STALL, GUEST1)] + [msg(WRITE, b"n%d\x00%s" % (i, b"v" * 60), client=GUEST1) for i in range(30)] + [
        turn(), op(STALL, GUEST1), turn(), msg(RM, b"/local/domain/1\x00"), turn(),
    ],
    "guest-mischief": [
        msg(WRITE, b"x\x00y", client=GUEST1), op(MISCHIEF, GUEST1) + bytes([RECONNECT, 0]), turn(),
        msg(WRITE, b"x\x00y", client=GUEST2), op(MISCHIEF, GUEST2) + bytes([REQ_PROD_UP, 100]), turn(),
        op(MISCHIEF, GUEST1) + bytes([DIE, 0]), turn(), msg(IS_INTRODUCED, b"1\x00"), turn(),
    ],
    "framing": [
        op(RAW) + bytes([20]) + struct.pack("<IIII", READ, 9, 0, 5000) + b"/a\x00x",
        op(RAW, 1) + bytes([7]) + struct.pack("<IIII", WRITE, 1, 0, 3)[:7], turn(),
    ],
}


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, steps in SESSIONS.items():
        (out / f"seed-{name}").write_bytes(b"".join(steps))


if __name__ == "__main__":
    main()

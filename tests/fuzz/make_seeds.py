#!/usr/bin/env python3
"""Write seed inputs for xstore-fuzz-daemon: ordinary client sessions in the
fuzzer's script format (tests/fuzz/script.hpp, daemon_fuzz.cpp), so that
mutation starts from requests the daemon accepts. With --update, the seeds
of xstore-fuzz-update (update_fuzz.cpp): the same sessions (every client a
dom0 socket there) with live updates in them.

usage: make_seeds.py [--update] DIR
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


# Steps from 0xe0 up (the low two bits still name a client).
CONTROL_CMD, CLOCK, POKE, KICK, DEATH, DOM0_RING = 0, 1, 2, 3, 4, 5  # daemon target
UPDATE = 1  # update target: 0 is CONTROL_CMD, 2 the clock


def extra(action, client=0):
    return bytes([0xe0 | (action << 2) | client])


def control(pick, client=0, args=b"\x00\x00\x00"):
    """A CONTROL command from the script's table (Script::control): the
    bytes for the quota name, value and domid, then the pick and request id
    (print reads its length byte before the pick)."""
    return extra(CONTROL_CMD, client) + args + b"\x00" + b"\x00\x00" + bytes([pick, 1])


def update(how=0):
    return extra(UPDATE) + bytes([how])


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
    "control": [control(i) for i in range(21)] + [turn()],
    "time": [
        msg(WATCH, b"/\x00all\x00", client=GUEST1), op(STALL, GUEST1), msg(WRITE, b"/e\x001"), turn(),
        extra(CLOCK) + b"\x40", turn(), op(STALL, GUEST1), turn(),
        msg(TX_START, b"\x00", client=GUEST2), turn()] + [
        msg(WRITE, b"w%d\x00x" % i, client=GUEST2, tx=LIVE_TX) for i in range(8)] + [
        turn(), extra(CLOCK, GUEST2) + b"\x20", turn(),
    ],
    "rings": [
        extra(DOM0_RING) + bytes([MESSAGE << 0]) + bytes([WRITE, 1, NO_TX, 5]) + b"/d0\x001" + b"\x00",
        extra(DOM0_RING) + bytes([TURN]), extra(POKE, GUEST1) + b"\x01" + struct.pack("<I", 4000),
        extra(KICK, GUEST1), turn(), extra(POKE, 0) + b"\x02" + struct.pack("<I", 7), extra(KICK, 0), turn(),
        extra(DEATH, GUEST2) + b"\x01", turn(), extra(DEATH, GUEST1) + b"\x02", turn(),
    ],
    "framing": [
        op(RAW) + bytes([20]) + struct.pack("<IIII", READ, 9, 0, 5000) + b"/a\x00x",
        op(RAW, 1) + bytes([7]) + struct.pack("<IIII", WRITE, 1, 0, 3)[:7], turn(),
    ],
}


UPDATE_SESSIONS = ("nodes", "watches", "transactions", "quota", "flow", "guests", "control", "framing")


def main():
    args = sys.argv[1:]
    updates = args[0] == "--update"
    out = Path(args[-1])
    out.mkdir(parents=True, exist_ok=True)
    for name, steps in SESSIONS.items():
        if not updates:
            (out / f"seed-{name}").write_bytes(b"".join(steps))
            continue
        if name not in UPDATE_SESSIONS:
            continue
        # An update halfway and one at the end, in both byte orders.
        half = len(steps) // 2
        (out / f"seed-{name}").write_bytes(b"".join(steps[:half] + [update(0)] + steps[half:] + [update(3)]))
        (out / f"seed-{name}-early").write_bytes(b"".join([update(1)] + steps + [update(2)]))


if __name__ == "__main__":
    main()

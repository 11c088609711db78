#!/usr/bin/env python3
"""A tiny in-memory xenstore server for testing xstore-bench's answer checks
before a real daemon is available: the subset of the protocol the workloads
use (READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART, SET_PERMS, WATCH,
UNWATCH, TRANSACTION_START/END), with watch events and whole-store
transaction snapshots. A commit fails with EAGAIN when anything was committed
since the transaction started, so the benchmark's retry path is exercised.
Slow and simple on purpose; not a model of any daemon's performance.

  model_xenstored.py --socket PATH [--break-reads]

--break-reads answers every READ with a wrong value (to test that the
benchmark reports an error instead of a number).
"""
import argparse
import selectors
import signal
import socket
import struct

HDR = struct.Struct("=IIII")
DIRECTORY, READ, WATCH, UNWATCH, TX_START, TX_END = 1, 2, 4, 5, 6, 7
WRITE, MKDIR, RM, SET_PERMS, WATCH_EVENT, ERROR, DIRECTORY_PART = 11, 12, 13, 14, 15, 16, 22


class XsError(Exception):
    pass


class Store:
    def __init__(self):
        self.nodes = {"/": ["", []]}  # path -> [value, children names in order]

    def copy(self):
        s = Store()
        s.nodes = {p: [v, list(c)] for p, (v, c) in self.nodes.items()}
        return s

    @staticmethod
    def parent(path):
        return path.rsplit("/", 1)[0] or "/"

    def create(self, path, value, changed):
        if path in self.nodes:
            self.nodes[path][0] = value
        else:
            par = self.parent(path)
            if par not in self.nodes:
                self.create(par, "", changed)
            self.nodes[par][1].append(path.rsplit("/", 1)[1])
            self.nodes[path] = [value, []]
        changed.append((path, "subtree"))

    def rm(self, path, changed):
        if path not in self.nodes:
            if self.parent(path) not in self.nodes:
                raise XsError("ENOENT")
            return
        def drop(p):
            for c in self.nodes[p][1]:
                drop(p.rstrip("/") + "/" + c)
                changed.append((p.rstrip("/") + "/" + c, "exact"))
            del self.nodes[p]
        drop(path)
        par = self.parent(path)
        self.nodes[par][1].remove(path.rsplit("/", 1)[1])
        changed.append((path, "subtree"))


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.inbuf = b""
        self.out = bytearray()
        self.watches = set()
        self.txs = {}
        self.next_tx = 1


class Server:
    def __init__(self, path, break_reads):
        self.store = Store()
        self.gen = 0
        self.conns = []
        self.break_reads = break_reads
        self.sel = selectors.DefaultSelector()
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(path)
        self.lsock.listen(64)
        self.sel.register(self.lsock, selectors.EVENT_READ, None)

    def fire(self, changed):
        for conn in self.conns:
            for wpath, token in conn.watches:
                for path, mode in changed:
                    hit = path == wpath or (mode == "subtree" and (wpath == "/" or path.startswith(wpath + "/")))
                    if hit:
                        self.send(conn, WATCH_EVENT, 0, 0, path.encode() + b"\0" + token.encode() + b"\0")

    def send(self, conn, typ, req, tx, payload):
        conn.out += HDR.pack(typ, req, tx, len(payload)) + payload

    def handle(self, conn, typ, req, tx, payload):
        args = payload.split(b"\0")
        path = args[0].decode(errors="replace")
        store = self.store
        if tx and typ not in (WATCH, UNWATCH):
            if tx not in conn.txs:
                raise XsError("ENOENT")
            store = conn.txs[tx]["store"]
        changed = []
        if typ == READ:
            if path not in store.nodes:
                raise XsError("ENOENT")
            return b"broken" if self.break_reads else store.nodes[path][0].encode()
        if typ == WRITE:
            store.create(path, payload[len(args[0]) + 1:].decode(), changed)
        elif typ == MKDIR:
            if path not in store.nodes:
                store.create(path, "", changed)
        elif typ == RM:
            store.rm(path, changed)
        elif typ == SET_PERMS:
            if path not in store.nodes:
                raise XsError("ENOENT")
        elif typ == DIRECTORY:
            if path not in store.nodes:
                raise XsError("ENOENT")
            body = b"".join(c.encode() + b"\0" for c in store.nodes[path][1])
            if len(body) > 4096:
                raise XsError("E2BIG")
            return body
        elif typ == DIRECTORY_PART:
            if path not in store.nodes:
                raise XsError("ENOENT")
            gen = str(self.gen).encode()
            body = b"".join(c.encode() + b"\0" for c in store.nodes[path][1])
            off = int(args[1])
            chunk, pos = b"", off
            while pos < len(body):
                end = body.index(b"\0", pos) + 1
                if len(chunk) + end - pos >= 4094 - len(gen):
                    break
                chunk += body[pos:end]
                pos = end
            if pos >= len(body):
                chunk += b"\0"
            return gen + b"\0" + chunk
        elif typ == WATCH:
            conn.watches.add((path, args[1].decode()))
            return ("initial", path, args[1].decode())
        elif typ == UNWATCH:
            key = (path, args[1].decode())
            if key not in conn.watches:
                raise XsError("ENOENT")
            conn.watches.discard(key)
        elif typ == TX_START:
            tid = conn.next_tx
            conn.next_tx += 1
            conn.txs[tid] = {"store": self.store.copy(), "gen": self.gen, "changed": []}
            return str(tid).encode() + b"\0"
        elif typ == TX_END:
            t = conn.txs.pop(tx, None) if tx else None
            if t is None:
                raise XsError("ENOENT")
            if payload == b"T\0":
                if t["changed"] and t["gen"] != self.gen:
                    raise XsError("EAGAIN")
                if t["changed"]:
                    self.store = t["store"]
                    self.gen += 1
                    self.fire(t["changed"])
        else:
            raise XsError("ENOSYS")
        if changed:
            if tx:
                conn.txs[tx]["changed"] += changed
            else:
                self.gen += 1
                self.fire(changed)
        return b"OK\0"

    def on_input(self, conn):
        try:
            data = conn.sock.recv(65536)
        except OSError:
            return False
        if not data:
            return False
        conn.inbuf += data
        while len(conn.inbuf) >= HDR.size:
            typ, req, tx, ln = HDR.unpack_from(conn.inbuf)
            if len(conn.inbuf) < HDR.size + ln:
                break
            payload = conn.inbuf[HDR.size:HDR.size + ln]
            conn.inbuf = conn.inbuf[HDR.size + ln:]
            try:
                reply = self.handle(conn, typ, req, tx, payload)
                if isinstance(reply, tuple):
                    self.send(conn, typ, req, tx, b"OK\0")
                    self.send(conn, WATCH_EVENT, 0, 0, reply[1].encode() + b"\0" + reply[2].encode() + b"\0")
                else:
                    self.send(conn, typ, req, tx, reply)
            except XsError as e:
                self.send(conn, ERROR, req, tx, str(e).encode() + b"\0")
        return True

    def flush(self):
        for conn in self.conns:
            if conn.out:
                try:
                    conn.sock.setblocking(True)
                    conn.sock.sendall(conn.out)
                    conn.sock.setblocking(False)
                except OSError:
                    pass  # the client is gone; its close is seen on the next read
                conn.out.clear()

    def serve(self, stop):
        while not stop:
            for key, _ in self.sel.select(timeout=0.5):
                if key.data is None:
                    s, _ = self.lsock.accept()
                    s.setblocking(False)
                    conn = Conn(s)
                    self.conns.append(conn)
                    self.sel.register(s, selectors.EVENT_READ, conn)
                elif not self.on_input(key.data):
                    self.sel.unregister(key.data.sock)
                    key.data.sock.close()
                    self.conns.remove(key.data)
            self.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--break-reads", action="store_true")
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    Server(a.socket, a.break_reads).serve(stop)


if __name__ == "__main__":
    main()

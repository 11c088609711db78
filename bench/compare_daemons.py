"""How bench/compare.py starts each daemon it measures, every one fresh on its
own fake-Xen host (docs/fakexen.md) or socket, pinned to one CPU:

* xstore-echo: the physical-limit baseline, on a unix socket;
* xstored: this project's daemon, on the fake host through the drop-in
  libraries (LD_LIBRARY_PATH);
* xenstored and oxenstored: Debian's reference daemons, unchanged, run by
  `xstore-fakexen exec` in a private mount namespace where /proc/xen is the
  fake host's.
"""
import os
import shutil
import socket
import subprocess
import time

REFERENCE_BIN = "/usr/lib/xen-4.17/bin"

# Every daemon bench/compare.py knows, in report order.
DAEMONS = ["xstore-echo", "xstored", "xenstored", "oxenstored"]

# oxenstored's settings: Debian's shipped /etc/xen/oxenstored.conf, with the
# paths moved onto the fake host. The access log is off (--no-access-log):
# the C daemon logs nothing per request either, and oxenstored's log dumps
# the whole store at every rotation.
OXENSTORED_SETTINGS = [
    ("test-eagain", "false"), ("merge-activate", "true"), ("conflict-burst-limit", "5.0"),
    ("conflict-max-history-seconds", "0.05"), ("conflict-rate-limit-is-aggregate", "true"),
    ("perms-activate", "true"), ("perms-watch-activate", "true"), ("quota-activate", "true"),
    ("quota-maxentity", "1000"), ("quota-maxsize", "2048"), ("quota-maxwatch", "100"),
    ("quota-transaction", "10"), ("quota-maxrequests", "1024"), ("quota-path-max", "1024"),
    ("quota-maxoutstanding", "1024"), ("quota-maxwatchevents", "1024"), ("persistent", "false"),
]


class DaemonError(Exception):
    pass


class Binaries:
    """The programs of a build tree."""

    def __init__(self, build_dir):
        self.build_dir = build_dir
        self.bench = os.path.join(build_dir, "bench", "xstore-bench")
        self.echo = os.path.join(build_dir, "bench", "xstore-echo")
        self.xstored = os.path.join(build_dir, "daemon", "xstored")
        self.fakexen = os.path.join(build_dir, "tools", "fakexen", "xstore-fakexen")
        self.fake_libs = os.path.join(build_dir, "tools", "fakexen")
        self.migration = os.path.join(build_dir, "bench", "xstore-bench-migration")
        self.memory = os.path.join(build_dir, "bench", "xstore-bench-memory")

    def missing(self):
        return [p for p in (self.bench, self.echo, self.xstored, self.fakexen, self.migration, self.memory)
                if not os.access(p, os.X_OK)]


def reference_binary(name):
    return os.path.join(REFERENCE_BIN, name)


def available(name):
    """Why `name` cannot run here, or None."""
    if name in ("xenstored", "oxenstored") and not os.access(reference_binary(name), os.X_OK):
        return f"{reference_binary(name)} is not installed"
    return None


def _connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Daemon:
    """One daemon process on its own directory (fake host, run dir, logs)."""

    def __init__(self, name, binaries, workdir, cpu):
        self.name = name
        self.bin = binaries
        self.dir = workdir
        self.cpu = cpu
        self.host = os.path.join(workdir, "host")
        self.rundir = os.path.join(workdir, "run")
        self.socket = os.path.join(self.rundir, "socket")
        self.log = os.path.join(workdir, "daemon.log")
        self.proc = None

    @property
    def fakexen_host(self):
        """The fake host guests can attach to, or None (xstore-echo)."""
        return None if self.name == "xstore-echo" else self.host

    def start(self, timeout=20.0):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.rundir)
        if self.name != "xstore-echo":
            subprocess.run([self.bin.fakexen, "--host", self.host, "init"], check=True,
                           stdout=subprocess.DEVNULL)
        argv, env = self._command()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["taskset", "-c", str(self.cpu)] + argv, env=env,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DaemonError(f"{self.name} exited with {self.proc.returncode} at start: {self.log_tail()}")
            if os.path.exists(self.socket) and _connectable(self.socket):
                return
            time.sleep(0.01)
        self.stop()
        raise DaemonError(f"{self.name} did not listen on {self.socket} within {timeout} s")

    @staticmethod
    def _reference_env(env):
        # Debian's daemons load our fake-Xen libraries; in a sanitizer build
        # of those, the runtimes must be preloaded (and their leaks are not ours).
        preload = env.get("XSTORED_SANITIZER_PRELOAD")
        if preload:
            env["LD_PRELOAD"] = preload
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        return env

    def _command(self):
        env = dict(os.environ)
        if self.name == "xstore-echo":
            return [self.bin.echo, "--socket", self.socket], env
        if self.name == "xstored":
            env["XSTORE_FAKEXEN"] = self.host
            env["LD_LIBRARY_PATH"] = self.bin.fake_libs
            env["XENSTORED_RUNDIR"] = self.rundir  # where a live update writes its state
            return [self.bin.xstored, "-N", "--socket", self.socket,
                    "--xsd-kva", os.path.join(self.host, "xsd_kva"),
                    "--xsd-port", os.path.join(self.host, "xsd_port")], env
        if self.name == "xenstored":
            env = self._reference_env(env)
            env["XENSTORED_RUNDIR"] = self.rundir
            return [self.bin.fakexen, "--host", self.host, "exec", "--",
                    reference_binary("xenstored"), "-N"], env
        if self.name == "oxenstored":
            env = self._reference_env(env)
            conf = self._oxenstored_conf()
            return [self.bin.fakexen, "--host", self.host, "exec", "--rundir", self.rundir, "--",
                    reference_binary("oxenstored"), "--no-fork", "--no-access-log",
                    "--config-file", conf], env
        raise DaemonError(f"unknown daemon {self.name}")

    def _oxenstored_conf(self):
        conf = os.path.join(self.dir, "oxenstored.conf")
        lines = [f"{k} = {v}" for k, v in OXENSTORED_SETTINGS]
        lines += [f"xenstored-kva = {self.host}/xsd_kva",
                  f"xenstored-port = {self.host}/xsd_port",
                  f"pid-file = {self.rundir}/xenstored.pid",
                  f"xenstored-log-file = {self.dir}/oxenstored.log"]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return conf

    def create_domains(self, first, last):
        """Domains first..last on the fake host (nothing for xstore-echo)."""
        if self.fakexen_host:
            subprocess.run([self.bin.fakexen, "--host", self.host, "create", f"{first}-{last}"], check=True,
                           stdout=subprocess.DEVNULL)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Stop the daemon; its exit status (negative: the signal that ended it),
        or None when it was not running."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        status = self.proc.returncode
        self.proc = None
        return status

    def log_tail(self, limit=400):
        try:
            with open(self.log, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return text[-limit:].strip()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

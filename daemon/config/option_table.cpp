#include "daemon/config/option_table.hpp"

#include <array>

#include "daemon/config/handoff_env.hpp"

namespace xs::daemon {

namespace {

using G = OptionGroup;
using A = OptionSpec::Arg;

// In the order --help and the man page list them.
constexpr std::array kOptions = {
    OptionSpec{'N', "no-fork", 'N', A::None, "", G::Daemon,
               "stay in the foreground and log to stderr",
               "Stay in the foreground and log to stderr instead of syslog. Under systemd the unit "
               "passes it: stderr then goes to the journal, with each line's level.",
               false},
    OptionSpec{'F', "pid-file", 'F', A::Required, "FILE", G::Daemon,
               "write the daemon's pid to FILE and keep it locked",
               "Write the daemon's pid to FILE (mode 0644) and keep the file locked while the daemon runs; "
               "a second daemon with the same FILE refuses to start. Removed at a clean exit.",
               false},
    OptionSpec{'T', "trace-file", 'T', A::Required, "FILE", G::Daemon,
               "trace every request and reply to FILE",
               "Trace every request and reply to FILE, one line each (mode 0600, appended). SIGHUP reopens "
               "it; CONTROL log on|off switches it.",
               false},
    OptionSpec{0, "config", kConfig, A::Required, "FILE", G::Daemon,
               "read run-time settings from FILE (again on SIGHUP)",
               "Read run-time settings from FILE: one long option per line without its dashes, as NAME or "
               "NAME = VALUE (for example \"quota = nodes=2000\" or \"verbose\"); empty lines and lines "
               "starting with # are skipped. Only the options marked \"run time\" here may appear. The "
               "command line wins over the file. SIGHUP reads the file again and applies it.",
               false},
    OptionSpec{'D', "no-domain-init", 'D', A::None, "", G::Daemon,
               "do not introduce dom0 at start (sockets only)",
               "Do not introduce the store domain's own ring at start: only socket clients are served until "
               "a domain is introduced.",
               false},
    OptionSpec{'K', "keep-orphans", 'K', A::None, "", G::Daemon,
               "keep a dead domain's nodes (owner becomes dom0)",
               "When a domain dies, keep the nodes it owns outside its own tree (they pass to the privileged "
               "domain) instead of deleting them.",
               false},
    OptionSpec{'V', "verbose", 'V', A::None, "", G::Daemon,
               "log debug messages",
               "Log debug messages too (default: info and above).",
               true},
    OptionSpec{'U', "live-update", 'U', A::None, "", G::Daemon,
               "restore the state of a live update (set by the update itself)",
               "Start from the state a live update left in RUNDIR/state_dump and the file descriptors the "
               "previous daemon left open. Added by the live update itself, not by hand.",
               false},
    OptionSpec{0, "live-update-stream", kLiveUpdateStream, A::Required, "V", G::Daemon,
               "stream version a live update writes (default 2; 1 for Xen 4.17)",
               "The migration stream version a live update writes when its -s carries no -v: 2 carries "
               "everything, 1 is what Xen 4.17's C xenstored reads. Default 2.",
               true},
    OptionSpec{'P', "output-pid", 'P', A::None, "", G::Daemon,
               "print the daemon's pid on stdout once it runs",
               "Print the daemon's pid on stdout once it serves.",
               false},
    OptionSpec{0, "socket", kSocket, A::Required, "PATH", G::Daemon,
               "listen on PATH (see ENVIRONMENT for the default)",
               "The Unix socket clients connect to. Default: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, "
               "else /var/run/xenstored/socket.",
               false},
    OptionSpec{0, "master-domid", kMasterDomid, A::Required, "ID", G::Daemon,
               "the domain the daemon runs in (default 0)",
               "The domain the daemon runs in. Default 0.",
               false},
    OptionSpec{0, "priv-domid", kPrivDomid, A::Required, "ID", G::Daemon,
               "the privileged (control) domain (default 0)",
               "The privileged (control) domain. Default 0.",
               false},
    OptionSpec{0, "event-loop", kEventLoop, A::Required, "KIND", G::Daemon,
               "auto, io_uring or epoll (default auto)",
               "auto, io_uring or epoll. auto uses io_uring when the kernel allows it, epoll otherwise. "
               "Default auto.",
               false},
    OptionSpec{0, "xsd-kva", kXsdKva, A::Required, "PATH", G::Daemon,
               "dom0's ring page (default /proc/xen/xsd_kva)",
               "The file that maps the store domain's own ring page. Default /proc/xen/xsd_kva.",
               false},
    OptionSpec{0, "xsd-port", kXsdPort, A::Required, "PATH", G::Daemon,
               "dom0's event channel (default /proc/xen/xsd_port)",
               "The file that holds the store domain's event channel. Default /proc/xen/xsd_port.",
               false},
    OptionSpec{0, "socket-queue", kSocketQueue, A::Required, "BYTES", G::Daemon,
               "stop reading a client whose unread replies exceed BYTES",
               "A client whose unread replies and events exceed BYTES is not read until they drain to half. "
               "Default 4194304.",
               true},
    OptionSpec{0, "event-queue", kEventQueue, A::Required, "N", G::Daemon,
               "watch events that may wait for one connection (default 65536)",
               "Watch events that may wait for one connection; later ones are dropped (logged). "
               "Default 65536.",
               true},
    OptionSpec{0, "event-queue-bytes", kEventQueueBytes, A::Required, "BYTES", G::Daemon,
               "memory of the watch events waiting for one connection (16777216)",
               "Memory the watch events waiting for one connection may take (each counts its bytes plus 128 "
               "of bookkeeping); later ones are dropped (logged). Default 16777216.",
               true},
    OptionSpec{0, "write-rate", kWriteRate, A::Required, "N", G::Daemon,
               "a guest's changes per second while transactions are open (200)",
               "While any transaction is open, a guest may change nodes N times per second; beyond that its "
               "ring is not read until its credit recovers. 0 disables. Default 200.",
               true},
    OptionSpec{0, "write-burst", kWriteBurst, A::Required, "N", G::Daemon,
               "... and this many changes at once (default 10)",
               "The changes a guest may make at once under --write-rate. Default 10.",
               true},
    OptionSpec{0, "transaction-pin", kTransactionPin, A::Required, "BYTES", G::Daemon,
               "old tree versions one transaction may keep alive (2621440)",
               "When the committed tree has let go of more than BYTES of nodes an open transaction's "
               "snapshot still holds, the transaction is rebased: its view becomes the committed tree with "
               "its own changes made again, and its later reads see newer data. Its commit outcome does not "
               "change. 0 disables. Default 2621440 (the memory quota).",
               true},
    OptionSpec{'E', "entry-nb", 'E', A::Required, "N", G::Quota,
               "nodes per domain (default 1000)",
               "Quota nodes: nodes a domain may own. Default 1000.",
               true},
    OptionSpec{'S', "entry-size", 'S', A::Required, "N", G::Quota,
               "size of a node in bytes (default 2048)",
               "Quota node-size: size of one node record in bytes. Default 2048.",
               true},
    OptionSpec{'W', "watch-nb", 'W', A::Required, "N", G::Quota,
               "watches per domain (default 128)",
               "Quota watches: watches a domain may register. Default 128.",
               true},
    OptionSpec{'t', "transaction", 't', A::Required, "N", G::Quota,
               "open transactions per domain (default 10)",
               "Quota transactions: open transactions per domain. Default 10.",
               true},
    OptionSpec{'A', "perm-nb", 'A', A::Required, "N", G::Quota,
               "permission entries per node (default 5)",
               "Quota node-permissions: entries in one node's permission list. Default 5.",
               true},
    OptionSpec{'M', "path-max", 'M', A::Required, "N", G::Quota,
               "path length after /local/domain/<id>/ (max 2048)",
               "Quota path-max: length of a path after /local/domain/<id>/. Values above 2048 are lowered "
               "to 2048. Default 2048.",
               true},
    OptionSpec{'Q', "quota", 'Q', A::Required, "NAME=N", G::Quota,
               "any quota by name (nodes, watches, outstanding, memory, transactions, "
               "transaction-nodes, node-permissions, path-max, node-size)",
               "Any hard quota by name: nodes, watches, outstanding (20), memory (2621440), transactions, "
               "transaction-nodes (1024), node-permissions, path-max, node-size.",
               true},
    OptionSpec{'q', "quota-soft", 'q', A::Required, "NAME=N", G::Quota,
               "soft quota (warning only): memory (default 2097152)",
               "The soft memory quota (memory=N): above it a warning is logged, nothing is refused. "
               "Default 2097152.",
               true},
    OptionSpec{'w', "timeout", 'w', A::Required, "watch-event=S", G::Quota,
               "drop a guest's unread watch event after S seconds (20, 0 = never)",
               "A guest's watch event not yet written to its ring after S seconds is dropped. 0 disables. "
               "Default 20.",
               true},
    OptionSpec{'I', "internal-db", 'I', A::Optional, "on|off", G::Compat,
               "no effect (the store is always in memory)",
               "Accepted for Xen 4.17's command line; the store is always in memory. Logged, no effect.",
               false},
    OptionSpec{'R', "no-recovery", 'R', A::None, "", G::Compat,
               "no effect (there is no database file)",
               "Accepted for Xen 4.17's command line; there is no database file to recover. Logged, no effect.",
               false},
    OptionSpec{0, "trace-control", kTraceControl, A::Required, "+|-SWITCH", G::Compat,
               "checked (obj io wrl acc tdb), no effect",
               "The C daemon's trace switches: SWITCH must be one of obj io wrl acc tdb; the trace always "
               "has every request and reply. Logged, no effect.",
               false},
    OptionSpec{'H', "help", 'H', A::Optional, "", G::Info,
               "print this help and exit",
               "Print the usage text and exit 0.",
               false},
    OptionSpec{0, "version", kVersion, A::None, "", G::Info,
               "print the version and exit",
               "Print the version and exit 0.",
               false},
};

constexpr std::array kSignals = {
    DocEntry{"SIGTERM, SIGINT",
             "Clean exit: stop serving, tell systemd STOPPING=1, remove the pid file, exit 0."},
    DocEntry{"SIGHUP",
             "Reopen the trace file under its name (log rotation), and read the --config file again: the "
             "run-time settings it and the command line give (log level, global quotas, watch-event timeout, "
             "write rate, queue bounds, live-update stream version) replace the ones in force. Global quotas "
             "changed with CONTROL quota set are replaced too; per-domain quotas set with SET_QUOTA stay. A "
             "file that cannot be read changes nothing (logged)."},
    DocEntry{"SIGPIPE", "Ignored: a client that disappears is noticed as a failed send."},
};

constexpr std::array kEnvironment = {
    DocEntry{"XENSTORED_RUNDIR", "Run-time directory (a live update's state_dump). Default /var/run/xenstored."},
    DocEntry{"XENSTORED_PATH", "The socket path when --socket is not given. Default $XENSTORED_RUNDIR/socket."},
    DocEntry{"NOTIFY_SOCKET",
             "Set by systemd for a Type=notify service: the daemon reports READY=1 once it serves, STATUS= "
             "lines, MAINPID= and STOPPING=1. Unset: nothing is sent."},
    DocEntry{"JOURNAL_STREAM",
             "Set by systemd when stderr goes to the journal: with -N each line then carries its level."},
    // Set by xstored for the program its live update executes: named so that
    // an operator who finds them in /proc knows them; never set by hand.
    DocEntry{handoff::kPrevious,
             "Set by a live update for the new program: the way back to the previous binary if the new one "
             "cannot take over. Not to be set by hand."},
    DocEntry{handoff::kRollback,
             "Set when a live update falls back: why the previous binary runs again. Not to be set by hand."},
    DocEntry{handoff::kTimes,
             "Set by a live update for the new program: when its steps happened, for the log's timeline. Not "
             "to be set by hand."},
};

constexpr std::array kFiles = {
    DocEntry{"/var/run/xenstored/socket", "The socket (see ENVIRONMENT), mode 0600; a stale one is replaced."},
    DocEntry{"/var/run/xenstored/state_dump",
             "A live update's state: written before the exec, read and removed by the new process."},
    DocEntry{"/etc/xstored.conf", "Run-time settings read with --config (the systemd unit passes it)."},
    DocEntry{"/etc/default/xstored", "XSTORED_ARGS: further options for the systemd unit xstored.service."},
    DocEntry{"/proc/xen/xsd_kva, /proc/xen/xsd_port", "The store domain's own ring page and event channel."},
};

}  // namespace

std::span<const OptionSpec> option_specs() { return kOptions; }

const OptionSpec* find_option(int code) {
    for (const OptionSpec& o : kOptions)
        if (o.code == code) return &o;
    return nullptr;
}

std::string option_synopsis(const OptionSpec& o) {
    std::string s = o.short_name ? std::string("-") + o.short_name + ", " : std::string("    ");
    s += "--";
    s += o.long_name;
    if (o.arg == OptionSpec::Required) s += std::string(" ") + o.value;
    if (o.arg == OptionSpec::Optional && *o.value) s += std::string("[=") + o.value + "]";
    return s;
}

std::span<const DocEntry> signal_docs() { return kSignals; }
std::span<const DocEntry> environment_docs() { return kEnvironment; }
std::span<const DocEntry> file_docs() { return kFiles; }

}  // namespace xs::daemon

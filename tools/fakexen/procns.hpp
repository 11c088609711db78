// A private mount namespace in which a program that insists on Xen's fixed
// paths (Debian's xenstored and oxenstored read /proc/xen/xsd_kva and
// /proc/xen/xsd_port) finds the fake host's files there. Root gets a plain
// mount namespace; other users get one inside a user namespace that maps
// only their own uid and gid (where the kernel allows unprivileged user
// namespaces; EPERM otherwise).
//
// Inside the namespace /proc is a small tmpfs: xen/xsd_kva and xen/xsd_port
// link to the host's files, every other top-level entry of the real /proc
// (bind-mounted at <host>/ns/proc) is a link to it, and sys/fs/nr_open holds
// the process's hard RLIMIT_NOFILE (oxenstored raises its limit to nr_open,
// which fails without CAP_SYS_RESOURCE). With a run directory, /run is a
// tmpfs too, with that directory bind-mounted at /run/xenstored (where
// oxenstored puts its socket) and an empty /run/xen.
#pragma once

#include <string>

#include "base/result.hpp"
#include "tools/fakexen/host.hpp"

namespace xs::fakexen {

// Move the calling process into such a namespace. `rundir` may be empty.
Result<> enter_fake_proc_namespace(const Host& host, const std::string& rundir);

}  // namespace xs::fakexen

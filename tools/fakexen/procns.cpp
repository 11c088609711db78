#include "tools/fakexen/procns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <string>

namespace xs::fakexen {

namespace {

Result<> check(int rc) {
    if (rc != 0) return fail(errno);
    return {};
}

Result<> make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return fail(errno);
    return {};
}

bool is_pid(const char* name) {
    for (const char* p = name; *p; ++p)
        if (!std::isdigit(static_cast<unsigned char>(*p))) return false;
    return *name != '\0';
}

// In `dst`, a symlink to every entry of `src` except process directories
// and the names in `skip`.
Result<> link_entries(const std::string& dst, const std::string& src,
                      std::initializer_list<const char*> skip) {
    DIR* d = ::opendir(src.c_str());
    if (d == nullptr) return fail(errno);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == ".." || is_pid(e->d_name)) continue;
        bool skipped = false;
        for (const char* s : skip) skipped = skipped || name == s;
        if (skipped) continue;
        if (::symlink((src + "/" + name).c_str(), (dst + "/" + name).c_str()) != 0) {
            int err = errno;
            ::closedir(d);
            return fail(err);
        }
    }
    ::closedir(d);
    return {};
}

Result<> write_file(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(errno);
    ssize_t n = ::write(fd, text.data(), text.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size())) return fail(EIO);
    return {};
}

// /proc as a tmpfs of links to the real one, plus the fake xen entries.
Result<> build_fake_proc(const std::string& host_dir, const std::string& real) {
    if (auto r = check(::mount("fakexen-proc", "/proc", "tmpfs", 0, "mode=0755,size=1m")); !r) return r;
    if (auto r = link_entries("/proc", real, {"xen", "sys"}); !r) return r;
    if (auto r = make_dir("/proc/xen"); !r) return r;
    if (auto r = check(::symlink((host_dir + "/" + kXsdKvaFile).c_str(), "/proc/xen/xsd_kva")); !r) return r;
    if (auto r = check(::symlink((host_dir + "/" + kXsdPortFile).c_str(), "/proc/xen/xsd_port")); !r)
        return r;
    if (auto r = make_dir("/proc/sys"); !r) return r;
    if (auto r = link_entries("/proc/sys", real + "/sys", {"fs"}); !r) return r;
    if (auto r = make_dir("/proc/sys/fs"); !r) return r;
    if (auto r = link_entries("/proc/sys/fs", real + "/sys/fs", {"nr_open"}); !r) return r;
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    return write_file("/proc/sys/fs/nr_open", std::to_string(lim.rlim_max) + "\n");
}

Result<> build_fake_run(const std::string& rundir) {
    if (auto r = check(::mount("fakexen-run", "/run", "tmpfs", 0, "mode=0755,size=1m")); !r) return r;
    if (auto r = make_dir("/run/xenstored"); !r) return r;
    if (auto r = make_dir("/run/xen"); !r) return r;
    return check(::mount(rundir.c_str(), "/run/xenstored", nullptr, MS_BIND, nullptr));
}

// Without CAP_SYS_ADMIN, a user namespace of our own (mapping just our ids)
// gives the right to mount in the mount namespace that comes with it.
Result<> unshare_mounts() {
    if (::unshare(CLONE_NEWNS) == 0) return {};
    if (errno != EPERM) return fail(errno);
    std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
    if (auto r = check(::unshare(CLONE_NEWUSER | CLONE_NEWNS)); !r) return r;
    if (auto r = write_file("/proc/self/setgroups", "deny"); !r) return r;
    if (auto r = write_file("/proc/self/uid_map", uid + " " + uid + " 1"); !r) return r;
    return write_file("/proc/self/gid_map", gid + " " + gid + " 1");
}

}  // namespace

Result<> enter_fake_proc_namespace(const Host& host, const std::string& rundir) {
    char buf[PATH_MAX];
    if (::realpath(host.dir().c_str(), buf) == nullptr) return fail(errno);
    std::string dir = buf;
    std::string real = dir + "/ns/proc";
    std::string run;
    if (!rundir.empty()) {
        if (::realpath(rundir.c_str(), buf) == nullptr) return fail(errno);
        run = buf;
    }
    if (auto r = make_dir(dir + "/ns"); !r) return r;
    if (auto r = make_dir(real); !r) return r;
    if (auto r = unshare_mounts(); !r) return r;
    // Nothing mounted from here on may leak back into the parent namespace.
    if (auto r = check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr)); !r) return r;
    if (auto r = check(::mount("/proc", real.c_str(), nullptr, MS_BIND | MS_REC, nullptr)); !r) return r;
    if (auto r = build_fake_proc(dir, real); !r) return r;
    if (!run.empty()) return build_fake_run(run);
    return {};
}

}  // namespace xs::fakexen

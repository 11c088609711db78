// xstore-fakexen: stand up and drive a fake Xen host (docs/fakexen.md).
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tools/client/xs_client.hpp"
#include "tools/fakexen/domains.hpp"
#include "tools/fakexen/guest.hpp"
#include "tools/fakexen/procns.hpp"
#include "tools/fakexen/proxy.hpp"
#include "transport/wire.hpp"

#ifndef FAKEXEN_LIBDIR
#define FAKEXEN_LIBDIR "/usr/local/lib/xstore-fakexen"
#endif

namespace xs::fakexen {
namespace {

constexpr const char* kUsage = R"USAGE(usage: xstore-fakexen [--host DIR] COMMAND [ARGS]

A fake Xen host for xenstore daemons and guests (see docs/fakexen.md).
The host directory is DIR, else $XSTORE_FAKEXEN.

commands:
  init                      create the host with dom0 (ring page xsd_kva, port in xsd_port)
  create DOMIDS [--control] [--xenstore] [--dom0less]
                            create domains: ring page, unbound port for dom0, new unique id;
                            --dom0less also writes that port into the ring page
                            (evtchn_port), as Xen's dom0less builder does, so a daemon
                            can connect the domain without an INTRODUCE
  introduce DOMIDS [--socket PATH] [--home | --guest-home]
                            send INTRODUCE <domid> <gfn> <port> to the daemon; --home
                            first creates what a toolstack would: /local/domain/<domid>
                            (owner dom0, readable by the guest) and its data/ (guest's);
                            --guest-home makes the guest own its whole home instead
                            (e.g. for test-xenstore as a guest)
                            (socket: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket,
                            else /var/run/xenstored/socket)
  shutdown DOMIDS [REASON]  the guests shut down (poweroff reboot suspend crash
                            watchdog soft_reset; default poweroff); raises VIRQ_DOM_EXC
  destroy DOMIDS [--dying]  dying, then gone (--dying: stop at dying); raises VIRQ_DOM_EXC
  list                      the domains and their event channels
  proxy DOMID --listen PATH serve PATH so that libxenstore clients act as DOMID
                            (XENSTORED_PATH=PATH xenstore-ls)
  env                       shell lines that put a daemon on this host:
                            eval "$(xstore-fakexen env)"
  exec [--rundir DIR] [--] PROGRAM [ARGS]
                            run PROGRAM on this host with the fake libraries, in a
                            private mount namespace where /proc/xen/xsd_kva and
                            /proc/xen/xsd_port are the host's (needs root, or
                            unprivileged user namespaces); with
                            --rundir, DIR is also mounted at /run/xenstored. For
                            daemons with fixed paths: Debian's xenstored, oxenstored

DOMIDS is a list of domids and ranges: 7, 1-50, 1,3,10-12.
)USAGE";

using Args = std::vector<std::string>;

int fail_msg(const std::string& what, int err) {
    std::fprintf(stderr, "xstore-fakexen: %s: %s\n", what.c_str(), std::strerror(err));
    return 1;
}

std::optional<unsigned long> number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return std::nullopt;
    return v;
}

// "1,3,10-12" -> {1, 3, 10, 11, 12}
std::optional<std::vector<DomId>> parse_domids(const std::string& spec) {
    std::vector<DomId> ids;
    std::size_t start = 0;
    while (start <= spec.size()) {
        std::size_t comma = spec.find(',', start);
        std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        std::size_t dash = item.find('-');
        auto lo = number(item.substr(0, dash));
        auto hi = dash == std::string::npos ? lo : number(item.substr(dash + 1));
        if (!lo || !hi || *lo > *hi || *hi >= kMaxDomains) return std::nullopt;
        for (unsigned long d = *lo; d <= *hi; ++d) ids.push_back(static_cast<DomId>(d));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return ids;
}

// Remove "--name VALUE" from args; the value, or nullopt if absent.
std::optional<std::string> take_option(Args& args, const std::string& name) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] != name) continue;
        std::string v = args[i + 1];
        args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
        return v;
    }
    return std::nullopt;
}

bool take_flag(Args& args, const std::string& name) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] != name) continue;
        args.erase(args.begin() + static_cast<long>(i));
        return true;
    }
    return false;
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string absolute(const std::string& path) {
    char buf[PATH_MAX];
    return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

// Where the fake libraries are: beside this program in a build tree,
// otherwise where they are installed.
std::string library_dir() {
    char exe[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        std::string dir(exe, static_cast<std::size_t>(n));
        dir.erase(dir.rfind('/'));
        if (::access((dir + "/libxenevtchn.so.1").c_str(), F_OK) == 0) return dir;
    }
    return FAKEXEN_LIBDIR;
}

std::string default_socket() {
    if (const char* p = std::getenv("XENSTORED_PATH"); p && *p) return p;
    if (const char* d = std::getenv("XENSTORED_RUNDIR"); d && *d) return std::string(d) + "/socket";
    return "/var/run/xenstored/socket";
}

struct Context {
    std::string host_dir;
    Args args;  // after the command name

    Result<std::shared_ptr<Host>> host() const { return Host::open(host_dir); }
};

// Apply `op` to every domid of the DOMIDS argument; exit status.
int each_domid(Context& c, const char* cmd, const std::function<Result<>(Host&, DomId)>& op) {
    if (c.args.size() != 1) {
        std::fprintf(stderr, "xstore-fakexen %s: expected DOMIDS (try --help)\n", cmd);
        return 2;
    }
    auto ids = parse_domids(c.args[0]);
    if (!ids) {
        std::fprintf(stderr, "xstore-fakexen %s: bad domid list '%s'\n", cmd, c.args[0].c_str());
        return 2;
    }
    auto host = c.host();
    if (!host) return fail_msg("cannot open fake host " + c.host_dir, host.error().code);
    int status = 0;
    for (DomId d : *ids) {
        if (auto r = op(**host, d); !r)
            status = fail_msg(std::string(cmd) + " " + std::to_string(d), r.error().code);
    }
    return status;
}

int cmd_init(Context& c) {
    if (!c.args.empty()) return fail_msg("init takes no arguments", EINVAL);
    auto host = init_host(c.host_dir);
    if (!host) return fail_msg("cannot create fake host in " + c.host_dir, host.error().code);
    return 0;
}

int cmd_create(Context& c) {
    std::uint32_t flags = 0;
    if (take_flag(c.args, "--control")) flags |= kDomFlagControl;
    if (take_flag(c.args, "--xenstore")) flags |= kDomFlagXenstore;
    bool dom0less = take_flag(c.args, "--dom0less");
    return each_domid(c, "create", [flags, dom0less](Host& h, DomId d) -> Result<> {
        auto r = create_domain(h, d, flags);
        if (!r) return fail(r.error());
        if (dom0less) return publish_ring_port(h, d, r->record.store_port);
        return {};
    });
}

int cmd_shutdown(Context& c) {
    std::uint32_t reason = 0;
    if (c.args.size() == 2) {
        auto r = shutdown_reason_from_name(c.args[1]);
        if (!r) return fail_msg("unknown shutdown reason '" + c.args[1] + "'", EINVAL);
        reason = *r;
        c.args.pop_back();
    }
    return each_domid(c, "shutdown", [reason](Host& h, DomId d) { return shutdown_domain(h, d, reason); });
}

int cmd_destroy(Context& c) {
    bool dying = take_flag(c.args, "--dying");
    return each_domid(c, "destroy", [dying](Host& h, DomId d) { return destroy_domain(h, d, dying); });
}

enum class Home { kNone, kToolstack, kGuest };

// The nodes a toolstack creates for a new guest before introducing it.
Result<> make_home(client::Client& xs, DomId d, Home how) {
    std::string home = "/local/domain/" + std::to_string(d);
    std::string id = std::to_string(d);
    std::vector<std::string> perms = how == Home::kGuest ? std::vector<std::string>{"n" + id}
                                                         : std::vector<std::string>{"n0", "r" + id};
    if (auto r = xs.write(home, ""); !r) return r;
    if (auto r = xs.set_perms(home, perms); !r) return r;
    if (auto r = xs.write(home + "/domid", id); !r) return r;
    if (auto r = xs.write(home + "/data", ""); !r) return r;
    return xs.set_perms(home + "/data", {"n" + id});
}

int cmd_introduce(Context& c) {
    Home home = take_flag(c.args, "--guest-home") ? Home::kGuest
                : take_flag(c.args, "--home")     ? Home::kToolstack
                                                  : Home::kNone;
    std::string path = take_option(c.args, "--socket").value_or(default_socket());
    std::string err;
    auto ch = client::connect_unix(path, err);
    if (!ch) {
        std::fprintf(stderr, "xstore-fakexen introduce: cannot connect to %s: %s\n", path.c_str(),
                     err.c_str());
        return 1;
    }
    client::Client xs(std::move(ch));
    return each_domid(c, "introduce", [&xs, home](Host& h, DomId d) -> Result<> {
        auto info = domain_info(h, d);
        if (!info) return fail(info.error());
        if (home != Home::kNone) {
            if (auto r = make_home(xs, d, home); !r) return r;
        }
        auto r = xs.request_string(wire::kIntroduce,
                                   {std::to_string(d), std::to_string(info->record.ring_gfn),
                                    std::to_string(info->record.store_port)});
        if (!r) return fail(r.error());
        return {};
    });
}

int cmd_list(Context& c) {
    auto host = c.host();
    if (!host) return fail_msg("cannot open fake host " + c.host_dir, host.error().code);
    std::printf("%-6s %-9s %-10s %-8s %-10s %-8s %s\n", "domid", "state", "reason", "uniqueid",
                "flags", "gfn", "ports");
    for (const DomainInfo& d : list_domains(**host)) {
        const DomainRecord& r = d.record;
        std::string flags = std::string(r.flags & kDomFlagControl ? "control " : "") +
                            (r.flags & kDomFlagXenstore ? "xenstore" : "");
        std::string ports;
        for (const PortInfo& p : ports_of(**host, d.domid)) {
            constexpr const char* kKinds[] = {"free", "unbound", "interdomain", "virq"};
            auto k = static_cast<std::size_t>(p.record.state);
            ports += std::to_string(p.port) + (p.port == r.store_port ? "*" : "") + ":" +
                     (k < std::size(kKinds) ? kKinds[k] : "?");
            if (p.record.state == PortState::kInterdomain)
                ports += "->" + std::to_string(p.record.remote_domid) + "/" +
                         std::to_string(p.record.remote_port);
            ports += " ";
        }
        std::printf("%-6u %-9s %-10s %-8llu %-10s %-8llx %s\n", d.domid,
                    std::string(state_name(r.state)).c_str(),
                    r.state == DomainState::kShutdown
                        ? std::string(shutdown_reason_name(r.shutdown_reason)).c_str()
                        : "-",
                    static_cast<unsigned long long>(r.unique_id), flags.empty() ? "-" : flags.c_str(),
                    static_cast<unsigned long long>(r.ring_gfn), ports.c_str());
    }
    return 0;
}

int cmd_proxy(Context& c) {
    auto listen = take_option(c.args, "--listen");
    std::optional<unsigned long> domid;
    if (c.args.size() == 1) domid = number(c.args[0]);
    if (!listen || !domid || *domid >= kMaxDomains) {
        std::fprintf(stderr, "xstore-fakexen proxy: expected DOMID --listen PATH\n");
        return 2;
    }
    auto guest = Guest::attach(c.host_dir, static_cast<DomId>(*domid));
    if (!guest) return fail_msg("cannot attach to domain " + c.args[0], guest.error().code);
    return run_proxy(std::move(*guest), *listen);
}

int cmd_env(Context& c) {
    auto host = c.host();
    if (!host) return fail_msg("cannot open fake host " + c.host_dir, host.error().code);
    std::string dir = absolute(c.host_dir);
    std::string kva = dir + "/" + kXsdKvaFile, port = dir + "/" + kXsdPortFile;
    std::printf("export XSTORE_FAKEXEN=%s\n", shell_quote(dir).c_str());
    std::printf("export LD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n",
                shell_quote(library_dir()).c_str());
    std::printf("export XSTORE_FAKEXEN_DAEMON_ARGS=%s\n",
                shell_quote("--xsd-kva " + kva + " --xsd-port " + port).c_str());
    return 0;
}

int cmd_exec(Context& c) {
    std::string rundir;
    std::size_t i = 0;
    for (; i < c.args.size() && c.args[i].starts_with("--"); ++i) {
        if (c.args[i] == "--") {
            ++i;
            break;
        }
        if (c.args[i] != "--rundir" || i + 1 == c.args.size()) {
            std::fprintf(stderr, "xstore-fakexen exec: unknown option %s\n", c.args[i].c_str());
            return 2;
        }
        rundir = c.args[++i];
    }
    if (i == c.args.size()) {
        std::fprintf(stderr, "xstore-fakexen exec: expected PROGRAM [ARGS]\n");
        return 2;
    }
    auto host = c.host();
    if (!host) return fail_msg("cannot open fake host " + c.host_dir, host.error().code);
    // Resolved before /proc is replaced.
    std::string libs = library_dir();
    if (const char* old = std::getenv("LD_LIBRARY_PATH"); old && *old) libs += std::string(":") + old;
    std::string dir = absolute(c.host_dir);
    if (auto r = enter_fake_proc_namespace(**host, rundir); !r)
        return fail_msg("cannot set up the private /proc (this needs root or user namespaces)",
                        r.error().code);
    ::setenv(kEnvHost, dir.c_str(), 1);
    ::setenv("LD_LIBRARY_PATH", libs.c_str(), 1);
    std::vector<char*> argv;
    for (; i < c.args.size(); ++i) argv.push_back(c.args[i].data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    return fail_msg(std::string("cannot run ") + argv[0], errno);
}

int run(int argc, char** argv) {
    Args args(argv + 1, argv + argc);
    std::optional<std::string> host;
    std::size_t i = 0;
    for (; i < args.size() && args[i].starts_with("-"); ++i) {
        if (args[i] == "--help" || args[i] == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (args[i] != "--host" || i + 1 == args.size()) {
            std::fprintf(stderr, "xstore-fakexen: unknown option %s (try --help)\n", args[i].c_str());
            return 2;
        }
        host = args[++i];
    }
    if (i == args.size() || args[i] == "help") {
        std::fputs(kUsage, i == args.size() ? stderr : stdout);
        return i == args.size() ? 2 : 0;
    }
    Context c;
    std::string cmd = args[i];
    c.args.assign(args.begin() + static_cast<long>(i) + 1, args.end());
    if (cmd != "exec") {  // exec's arguments belong to the program it runs
        if (take_flag(c.args, "--help") || take_flag(c.args, "-h")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (auto h = take_option(c.args, "--host")) host = h;
    }
    if (host) {
        c.host_dir = *host;
    } else if (const char* e = std::getenv(kEnvHost); e && *e) {
        c.host_dir = e;
    } else {
        std::fprintf(stderr, "xstore-fakexen: no host: give --host DIR or set %s\n", kEnvHost);
        return 2;
    }
    const std::map<std::string, int (*)(Context&)> commands = {
        {"init", cmd_init},           {"create", cmd_create}, {"introduce", cmd_introduce},
        {"shutdown", cmd_shutdown},   {"destroy", cmd_destroy}, {"list", cmd_list},
        {"proxy", cmd_proxy},         {"env", cmd_env},         {"exec", cmd_exec},
    };
    auto it = commands.find(cmd);
    if (it == commands.end()) {
        std::fprintf(stderr, "xstore-fakexen: unknown command '%s' (try --help)\n", cmd.c_str());
        return 2;
    }
    return it->second(c);
}

}  // namespace
}  // namespace xs::fakexen

int main(int argc, char** argv) { return xs::fakexen::run(argc, argv); }

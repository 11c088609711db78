// xstored-man: writes the xstored(8) man page from the daemon's own option
// table (daemon/config/option_table.hpp), so the page and --help cannot
// disagree and a new option is documented the moment it exists. Run by
// the build; usage: xstored-man OUTPUT [SYSCONFDIR] (the directory the
// configuration files are installed in, when it is not /etc).
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include "daemon/config/option_table.hpp"
#include "tools/manpage/roff.hpp"
#include "xs_config.h"

using namespace xs::daemon;
using xs::manpage::escape;

namespace {

void options_section(std::string& out, OptionGroup group, const char* heading) {
    out += std::string(".SS ") + heading + "\n";
    for (const OptionSpec& o : option_specs()) {
        if (o.group != group) continue;
        out += ".TP\n.B " + escape(option_synopsis(o)) + "\n" + escape(o.detail);
        if (o.runtime) out += " (run time: may appear in the \\-\\-config file)";
        out += "\n";
    }
}

// The table names the configuration files under /etc; an installation
// with another --sysconfdir has them there.
std::string under_sysconfdir(std::string_view name, std::string_view sysconfdir) {
    constexpr std::string_view etc = "/etc/";
    if (sysconfdir.empty() || !name.starts_with(etc)) return std::string(name);
    return std::string(sysconfdir) + "/" + std::string(name.substr(etc.size()));
}

void entries(std::string& out, const char* section, std::span<const DocEntry> docs, std::string_view sysconfdir = {}) {
    out += std::string(".SH ") + section + "\n";
    for (const DocEntry& d : docs)
        out += ".TP\n.B " + escape(under_sysconfdir(d.name, sysconfdir)) + "\n" + escape(d.text) + "\n";
}

std::string page(std::string_view sysconfdir) {
    std::string out = ".TH XSTORED 8 \"\" \"xstored " XSTORED_VERSION "\" \"System Administration\"\n";
    out += ".SH NAME\nxstored \\- xenstore daemon for Xen\n";
    out += ".SH SYNOPSIS\n.B xstored\n[\\fIOPTION\\fR]...\n";
    out += ".SH DESCRIPTION\n" + escape(
        "xstored serves the xenstore database to the tools of the control domain on a Unix socket and to "
        "guest domains on their shared rings. It takes the C xenstored's command line, environment, socket "
        "and files, speaks the same protocol, and replaces itself (or the C daemon) while it runs with "
        "CONTROL live-update (xenstore-control live-update). CONTROL stats and xstore-top show its live "
        "figures.") + "\n";
    out += ".SH OPTIONS\nNumbers are plain decimal. Long options may be abbreviated to a unique prefix.\n";
    options_section(out, OptionGroup::Daemon, "Daemon");
    options_section(out, OptionGroup::Quota, "Quotas (0 = unlimited)");
    options_section(out, OptionGroup::Compat, "Accepted for compatibility, no effect");
    options_section(out, OptionGroup::Info, "Information");
    entries(out, "SIGNALS", signal_docs());
    entries(out, "ENVIRONMENT", environment_docs());
    entries(out, "FILES", file_docs(), sysconfdir);
    out += ".SH EXIT STATUS\n" + escape("0 after a clean stop, --help or --version; 2 for a command-line or "
                                        "--config error; 1 when the daemon cannot start.") + "\n";
    // xstore-top and xstore-dump have no pages of their own: their --help.
    out += ".SH SEE ALSO\n.BR xenstore (1),\n.BR systemd.service (5),\n.BR sd_notify (3);\n" +
           escape("xstore-top --help, xstore-dump --help; docs/operations.md in xstored's sources, the "
                  "operator's guide.") + "\n";
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fputs("usage: xstored-man OUTPUT [SYSCONFDIR]\n", stderr);
        return 2;
    }
    std::string_view sysconfdir = argc == 3 ? std::string_view(argv[2]) : std::string_view();
    if (sysconfdir == "/etc") sysconfdir = {};
    std::ofstream f(argv[1], std::ios::binary | std::ios::trunc);
    f << page(sysconfdir);
    return f.good() ? 0 : 1;
}

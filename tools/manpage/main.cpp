// xstored-man: writes the xstored(8) man page from the daemon's own option
// table (daemon/config/option_table.hpp), so the page and --help cannot
// disagree and a new option is documented the moment it exists. Run by
// the build; usage: xstored-man OUTPUT.
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

void entries(std::string& out, const char* section, std::span<const DocEntry> docs) {
    out += std::string(".SH ") + section + "\n";
    for (const DocEntry& d : docs) out += ".TP\n.B " + escape(d.name) + "\n" + escape(d.text) + "\n";
}

std::string page() {
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
    entries(out, "FILES", file_docs());
    out += ".SH EXIT STATUS\n" + escape("0 after a clean stop, --help or --version; 2 for a command-line or "
                                        "--config error; 1 when the daemon cannot start.") + "\n";
    out += ".SH SEE ALSO\n.BR xstore-top (1),\n.BR xstore-dump (1),\n.BR xenstore-control (1),\n"
           ".BR systemd.service (5)\n";
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fputs("usage: xstored-man OUTPUT\n", stderr);
        return 2;
    }
    std::ofstream f(argv[1], std::ios::binary | std::ios::trunc);
    f << page();
    return f.good() ? 0 : 1;
}

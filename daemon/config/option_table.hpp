// The one description of xstored's command line and surroundings: every
// option (what getopt is given, what --help prints, what xstored(8) says),
// and the signals, environment variables and files the man page lists.
// The parser (options.cpp), usage_text() and the man-page generator
// (tools/manpage) all read these tables, so an option cannot exist without
// its documentation.
#pragma once

#include <span>
#include <string>

namespace xs::daemon {

// Long-only options get getopt codes above the char range.
enum LongOnly : int {
    kMasterDomid = 256,
    kPrivDomid,
    kSocket,
    kEventLoop,
    kXsdKva,
    kXsdPort,
    kTraceControl,
    kVersion,
    kSocketQueue,
    kEventQueue,
    kWriteRate,
    kWriteBurst,
    kLiveUpdateStream,
    kTransactionPin,
    kEventQueueBytes,
    kConfig,
};

enum class OptionGroup { Daemon, Quota, Compat, Info };

struct OptionSpec {
    char short_name;        // 0: long only
    const char* long_name;
    int code;               // what getopt returns: short_name, or a LongOnly value
    enum Arg { None, Required, Optional } arg;
    const char* value;      // the argument's name in the texts ("FILE", "N", ...); "" without one
    OptionGroup group;
    const char* help;       // --help: one short line
    const char* detail;     // xstored(8): the full story, defaults included
    bool runtime;           // re-read from --config on SIGHUP (see reload.hpp)
};

std::span<const OptionSpec> option_specs();
const OptionSpec* find_option(int code);

// "-N, --no-fork", "    --socket PATH", "-Q, --quota NAME=N"...
std::string option_synopsis(const OptionSpec& o);

// The other sections of the man page: name and paragraph.
struct DocEntry {
    const char* name;
    const char* text;
};
std::span<const DocEntry> signal_docs();
std::span<const DocEntry> environment_docs();
std::span<const DocEntry> file_docs();

}  // namespace xs::daemon

#include "daemon/config/notify.hpp"

#include <unistd.h>

#include <cstdlib>

namespace xs::notify {

namespace {

Sender g_sender = nullptr;

void send(const std::string& msg) {
    if (enabled() && g_sender) g_sender(msg);
}

}  // namespace

void set_sender(Sender sender) { g_sender = sender; }

// Asked every loop turn: the environment is read once (it does not change).
bool enabled() {
    static const bool on = [] {
        const char* s = std::getenv("NOTIFY_SOCKET");
        return s && *s;
    }();
    return on;
}

std::string message(bool ready, bool main_pid, std::string_view status) {
    std::string m;
    if (ready) m += "READY=1\n";
    if (main_pid) m += "MAINPID=" + std::to_string(::getpid()) + "\n";
    if (!status.empty()) {
        m += "STATUS=";
        for (char c : status) m += c == '\n' ? ' ' : c;  // one line: a newline would start a new field
        m += "\n";
    }
    return m;
}

void ready(std::string_view status) { send(message(true, true, status)); }
void updated(std::string_view status) { send(message(false, true, status)); }
void status(std::string_view status) { send(message(false, false, status)); }
void stopping() { send("STOPPING=1\nSTATUS=stopping\n"); }

}  // namespace xs::notify

// The systemd notification protocol (sd_notify): READY=1 once the daemon
// serves, STATUS= lines while it runs, MAINPID= after a live update (the
// same pid, said again so the manager knows the new program is the main
// process), STOPPING=1 on the way out. Without $NOTIFY_SOCKET every call
// does nothing. The variable is left in the environment: the program a live
// update executes reports through it too.
#pragma once

#include <string>
#include <string_view>

namespace xs::notify {

// Whether a service manager listens (NOTIFY_SOCKET is set).
bool enabled();

// The fresh daemon serves: READY=1, MAINPID=<pid>, STATUS=<status>.
void ready(std::string_view status);
// The new process of a live update serves: MAINPID=<pid>, STATUS=<status>,
// and no second READY=1.
void updated(std::string_view status);
void status(std::string_view status);
void stopping();

// How a message reaches the manager. Nothing is sent until a sender is
// set: the dom0 daemon sets send_datagram(); the stub-domain build, which
// has no sockets, sets none.
using Sender = void (*)(const std::string& message);
void set_sender(Sender sender);
// The protocol's transport: one datagram to the unix socket NOTIFY_SOCKET
// names (notify_socket.cpp, linked into the dom0 daemon only).
void send_datagram(const std::string& message);

// The message text for the calls above (exposed for tests).
std::string message(bool ready, bool main_pid, std::string_view status);

}  // namespace xs::notify

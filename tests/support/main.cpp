// doctest main for the integration tests: they need the daemon binary, named
// by $XSTORED_BIN (meson sets it). Without it the run is skipped (exit 77).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "tests/support/env.hpp"

int main(int argc, char** argv) {
    std::string bin = xs::testing::xstored_bin();
    if (bin.empty() || ::access(bin.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "XSTORED_BIN is not set to an executable daemon; skipping\n");
        return 77;
    }
    // A daemon that closes a connection must not kill the test with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    doctest::Context ctx(argc, argv);
    return ctx.run();
}

// sd_notify messages, and telling whether stderr is the journal.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "daemon/config/log.hpp"
#include "daemon/config/notify.hpp"

TEST_CASE("notify messages") {
    std::string pid = std::to_string(::getpid());
    CHECK(xs::notify::message(true, true, "serving") == "READY=1\nMAINPID=" + pid + "\nSTATUS=serving\n");
    CHECK(xs::notify::message(false, true, "x") == "MAINPID=" + pid + "\nSTATUS=x\n");
    CHECK(xs::notify::message(false, false, "a\nb") == "STATUS=a b\n");  // one line
    CHECK(xs::notify::message(false, false, "") == "");
}

TEST_CASE("JOURNAL_STREAM names stderr's device and inode") {
    struct stat st;
    REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
    std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    CHECK(xs::log::stderr_is_journal(mine.c_str()));
    CHECK(!xs::log::stderr_is_journal((std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str()));
    CHECK(!xs::log::stderr_is_journal(nullptr));
    CHECK(!xs::log::stderr_is_journal("garbage"));
}

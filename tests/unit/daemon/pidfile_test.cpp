#include <doctest/doctest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "daemon/config/pidfile.hpp"

using xs::daemon::PidFile;

namespace {

// A fresh directory in the temporary directory, removed with its pid file at the end.
struct TempDir {
    std::string path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "xstored-pidfile-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        ::unlink((path + "/xstored.pid").c_str());
        ::rmdir(path.c_str());
    }
    std::string file() const { return path + "/xstored.pid"; }
};

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_CASE("creates the file with the pid, mode 0644, and removes it at exit") {
    TempDir dir;
    {
        auto pf = PidFile::create(dir.file());
        REQUIRE(pf);
        CHECK(pf->path() == dir.file());
        CHECK(slurp(dir.file()) == std::to_string(getpid()) + "\n");
        struct stat st {};
        REQUIRE(::stat(dir.file().c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0644);
    }
    CHECK(!exists(dir.file()));
}

TEST_CASE("an old, longer pid file is overwritten completely") {
    TempDir dir;
    std::ofstream(dir.file()) << "123456789012345\nstale\n";
    auto pf = PidFile::create(dir.file());
    REQUIRE(pf);
    CHECK(slurp(dir.file()) == std::to_string(getpid()) + "\n");
    pf->remove();
    CHECK(!exists(dir.file()));
    pf->remove();  // idempotent
}

TEST_CASE("a second lock on the same pid file fails while the first is held") {
    TempDir dir;
    auto first = PidFile::create(dir.file());
    REQUIRE(first);
    auto second = PidFile::create(dir.file());
    REQUIRE(!second);
    CHECK(second.error().code == EWOULDBLOCK);
    std::string msg = PidFile::describe_error(dir.file(), second.error());
    CHECK(msg.find("locked") != std::string::npos);
    CHECK(msg.find("pid " + std::to_string(getpid())) != std::string::npos);
    // The failed attempt left the running daemon's file alone.
    CHECK(slurp(dir.file()) == std::to_string(getpid()) + "\n");

    // Another process sees the lock too (lockf is what the C daemon uses).
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int fd = ::open(dir.file().c_str(), O_RDWR);
        _exit(fd >= 0 && lockf(fd, F_TLOCK, 0) < 0 ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(exists(dir.file()));  // the child's copy did not delete it

    first->remove();
    auto third = PidFile::create(dir.file());  // free again
    CHECK(third);
}

TEST_CASE("errors other than the lock are reported with their cause") {
    auto pf = PidFile::create("/nonexistent-dir-for-xstored-test/x.pid");
    REQUIRE(!pf);
    CHECK(pf.error().code == ENOENT);
    CHECK(PidFile::describe_error("/x", pf.error()).find("cannot create pid file /x") == 0);
}

// The state file made ready at -f: the stream is encoded into its mapping
// and the file is cut to the stream; without a room (a directory that
// cannot hold the file) the caller is told to write it the ordinary way;
// a session that ends without an update leaves no file behind.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "daemon/update_prep.hpp"

using namespace xs::daemon;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/xs-prep-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

std::string contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_CASE("the stream written into the room is the file, cut to its length, mode 0600") {
    TempDir d;
    std::string path = d.path + "/state_dump";
    std::string stream(300000, '\0');
    for (std::size_t i = 0; i < stream.size(); ++i) stream[i] = static_cast<char>(i * 7 + 1);
    {
        UpdatePrep prep(path, 200000);  // the store grew since: the headroom takes it
        auto room = prep.room();
        REQUIRE(room.size() >= stream.size());
        std::memcpy(room.data(), stream.data(), stream.size());
        int fd = prep.take_file(stream.size());
        REQUIRE(fd >= 0);
        ::close(fd);
    }
    CHECK(contents(path) == stream);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a room left unused gives an empty file to write the ordinary way") {
    TempDir d;
    std::string path = d.path + "/state_dump";
    UpdatePrep prep(path, 4096);
    CHECK(!prep.room().empty());
    int fd = prep.take_file(0);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "xenstore", 8) == 8);
    ::close(fd);
    CHECK(contents(path) == "xenstore");
}

TEST_CASE("no room where the file cannot be made, and no file left by a session that ends") {
    TempDir d;
    {
        UpdatePrep prep(d.path + "/missing/state_dump", 4096);
        CHECK(prep.room().empty());
        CHECK(prep.take_file(0) < 0);
    }
    std::string path = d.path + "/state_dump";
    {
        UpdatePrep prep(path, 4096);
        CHECK(!prep.room().empty());
        CHECK(exists(path));
    }
    CHECK(!exists(path));
}

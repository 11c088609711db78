// Room for a live update's state, made ready as soon as the session starts
// (-f), while the daemon still serves: the state file, created with space
// for the expected stream and some headroom, and mapped, so that the stream
// is encoded straight into the file's pages (no buffer, no copy, no
// write()). A helper thread allocates the file's space (an allocation that
// fails, say a full tmpfs, means no room: the update then writes the file
// the ordinary way and reports that error) and faults the mapping in. It
// only touches memory: never the daemon's state.
#pragma once

#include <cstddef>
#include <latch>
#include <span>
#include <string>
#include <thread>

namespace xs::daemon {

class UpdatePrep {
public:
    // Room for about `bytes` of stream (more, for a store that grows until
    // -s: kHeadroom).
    UpdatePrep(std::string path, std::size_t bytes);
    ~UpdatePrep();  // waits for the helper; removes the file unless it was taken
    UpdatePrep(const UpdatePrep&) = delete;
    UpdatePrep& operator=(const UpdatePrep&) = delete;

    // The mapped file, its space allocated (waits for that), or empty when
    // it could not be made.
    std::span<char> room();
    // The state file, open for writing, or -1 when it could not be made
    // (the caller then opens it itself and reports why); `used` bytes of
    // the room hold the stream (0: it was not used): the file is cut to
    // them. Waits for the helper; the room is gone afterwards.
    int take_file(std::size_t used);

private:
    void unmap();

    std::string path_;
    int fd_ = -1;
    char* map_ = nullptr;
    std::size_t size_ = 0;
    bool allocated_ = false;
    std::latch allocation_done_{1};
    std::thread helper_;
    bool file_taken_ = false;
};

}  // namespace xs::daemon

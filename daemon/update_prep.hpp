// Room for a live update's state, made ready from a helper thread as soon
// as the session starts (-f), while the daemon still serves: a stream
// buffer of the expected size and the state file with its space allocated,
// their pages faulted in. The helper works ahead of the encoder: the buffer
// is handed over at once and filled while the helper is still touching its
// later pages. The helper only faults memory in: it never touches the
// daemon's state.
#pragma once

#include <cstddef>
#include <string>
#include <thread>

namespace xs::daemon {

class UpdatePrep {
public:
    UpdatePrep(std::string path, std::size_t bytes);
    ~UpdatePrep();  // waits for the helper; removes the file unless it was taken
    UpdatePrep(const UpdatePrep&) = delete;
    UpdatePrep& operator=(const UpdatePrep&) = delete;

    // The buffer (empty once taken), with its capacity reserved.
    std::string take_buffer() { return std::move(buffer_); }
    // The state file, open for writing, or -1 when it could not be made
    // (the caller then opens it itself and reports why). Waits for the
    // helper's file work.
    int take_file();

private:
    std::string path_;
    std::string buffer_;
    std::thread helper_;
    int fd_ = -1;
    bool file_taken_ = false;
};

}  // namespace xs::daemon

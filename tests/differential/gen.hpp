// The random step generator of the differential run. It keeps a rough
// model of the episode (which connections are live, which domains exist
// and are introduced, open transactions, watches) from what both daemons
// answered, so that most steps do something and every message type, bad
// input and domain event is reached. The model only guides the choices:
// the comparison never relies on it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/differential/outcome.hpp"
#include "tests/differential/step.hpp"

namespace xs::diff {

class Generator {
public:
    explicit Generator(std::uint64_t seed);

    // Queue the toolstack's work at the start of an episode: guests
    // created, their homes made, introduced.
    void prologue();
    Step next();
    // What both daemons answered (the model follows what they agree on).
    void observe(const Step& s, const Outcome& x, const Outcome& c);

private:
    struct Guest {
        bool created = false, introduced = false, ignored = false;
    };
    struct Watch {
        ConnRef conn;
        std::string path, token;
    };
    struct Tx {
        ConnRef conn;
        std::uint32_t handle;
    };

    // ---- choices ----
    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
    std::size_t below(std::size_t n) { return n ? std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_) : 0; }
    template <class T>
    const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

    // ---- steps by area (gen.cpp, gen_ops.cpp) ----
    Step node_op();
    Step watch_op();
    Step tx_op();
    Step domain_op();
    Step host_op();
    Step newer_op();
    Step control_op();
    Step bad_op();
    Step conn_op();

    // ---- ingredients ----
    ConnRef any_conn();
    ConnRef privileged_conn();
    TxRef tx_for(const ConnRef& c);
    std::string path_for(const ConnRef& c);
    std::string odd_path();
    std::string special_path();
    std::string value();
    std::string perms_for(const ConnRef& c);
    std::string perm_entry(const ConnRef& c);
    std::string domid_text(DomId d);
    std::string number_text(std::uint64_t v);
    DomId some_domid();
    Step introduce(DomId d);
    std::vector<Step> make_home(DomId d);
    Step req(const ConnRef& c, std::uint32_t type, std::string payload, TxRef tx = {});
    std::vector<ConnRef> live_conns() const;

    std::mt19937_64 rng_;
    std::map<DomId, Guest> guests_;
    std::set<std::uint32_t> sockets_;  // open dom0 sockets (s0 always)
    std::vector<Tx> txs_;
    std::vector<Watch> watches_;
    std::deque<Step> pending_;  // steps that must follow (a new domain's home and introduction)
    std::uint32_t next_handle_ = 1;
    std::uint32_t next_token_ = 1;
};

// The guests an episode's prologue creates and introduces, and those it
// may create later (domids that are reused once destroyed).
inline constexpr DomId kGuests[] = {1, 2, 3};
inline constexpr DomId kSpareGuests[] = {4, 5};

}  // namespace xs::diff

#include "tests/support/harness.hpp"

#include <doctest/doctest.h>

#include <exception>

namespace xs::testing {

Harness::Harness(DaemonOptions opts) : daemon_(std::move(opts)), client_(daemon_.connect()) {}

void Harness::check_answers() {
    if (!daemon_.alive()) {
        FAIL_CHECK("xstored is no longer running");
        return;
    }
    auto c = daemon_.connect();
    auto r = c->call(wire::kRead, std::string_view("/tool/xenstored\0", 16));
    CHECK_MESSAGE(r.has_value(), "xstored did not answer a READ on a new connection");
    if (r) CHECK(r->header.type == wire::kRead);
}

Harness::~Harness() {
    try {
        client_.reset();
        check_answers();
        for (const auto& problem : daemon_.stop()) FAIL_CHECK(problem);
    } catch (const std::exception& e) {
        FAIL_CHECK("end-of-test checks failed: " << std::string(e.what()));
    }
}

}  // namespace xs::testing

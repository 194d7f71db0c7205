#pragma once

#include <memory>
#include <optional>
#include <string>

#include "proxima/adapters/s3_config.h"
#include "proxima/adapters/s3_object_store.h"
#include "proxima/adapters/system_clock.h"

namespace proxima::testing {

// The S3 server of the test run (scripts/services/rgw-start writes its
// AWS_ENDPOINT_URL and keys into the environment of the S3 tests). Each call
// returns the configuration of a fresh, unique prefix in the bucket
// "proxima-tests" (created on first use). Without a server it returns
// nothing, so the test skips; with PROXIMA_REQUIRE_S3=1 (ctest's s3.* tests)
// a missing server is a failure instead.
std::optional<S3Config> S3TestConfig(const std::string& label);

SystemClock* TestSystemClock();

}  // namespace proxima::testing

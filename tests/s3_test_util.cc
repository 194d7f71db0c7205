#include "s3_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <random>

namespace proxima::testing {

SystemClock* TestSystemClock() {
  static SystemClock clock;
  return &clock;
}

std::optional<S3Config> S3TestConfig(const std::string& label) {
  const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
  const char* require = std::getenv("PROXIMA_REQUIRE_S3");
  if (endpoint == nullptr || *endpoint == '\0') {
    if (require != nullptr && std::string(require) == "1") {
      ADD_FAILURE() << "PROXIMA_REQUIRE_S3=1 but AWS_ENDPOINT_URL is not set: start "
                       "scripts/services/rgw-start and source its env file";
    }
    return std::nullopt;
  }
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::string unique;
  {
    std::lock_guard lock(mu);
    char buf[17];
    snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
    unique = buf;
  }
  auto config = S3ConfigFromUrl("s3://proxima-tests/" + label + "/" + unique,
                                [](const char* name) { return std::getenv(name); });
  if (!config.ok()) {
    ADD_FAILURE() << config.status().ToString();
    return std::nullopt;
  }
  static std::once_flag bucket_once;
  std::call_once(bucket_once, [&] {
    S3ObjectStore store(*config, TestSystemClock());
    Status s = store.CreateBucket();
    if (!s.ok() && !s.IsAlreadyExists()) ADD_FAILURE() << s.ToString();
  });
  return *config;
}

}  // namespace proxima::testing

#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "proxima/ports/catalog.h"

namespace proxima::api {

// The hub's counters, rendered in the Prometheus text format. Thread-safe.
class Metrics {
 public:
  // One finished request: its route pattern (not the path, so that names do
  // not explode the label space), method, status and latency.
  void Record(const std::string& route, const std::string& method, int status, double seconds,
              uint64_t bytes_in, uint64_t bytes_out);
  // Bytes of objects served and stored (the data plane through the hub).
  void AddObjectBytes(uint64_t read, uint64_t written);
  // Upload body bytes the hub read from the socket itself (socket_body.h).
  void AddSocketBodyBytes(uint64_t n) { socket_body_bytes_ += n; }
  std::string Render(const CatalogCounts* counts) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Series> latency_;  // by route
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  std::atomic<uint64_t> object_bytes_read_{0}, object_bytes_written_{0};
  std::atomic<uint64_t> socket_body_bytes_{0};
};

}  // namespace proxima::api

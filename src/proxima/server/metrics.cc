#include "proxima/server/metrics.h"

#include <cstdio>

namespace proxima::api {

void Metrics::Record(const std::string& route, const std::string& method, int status,
                     double seconds, uint64_t bytes_in, uint64_t bytes_out) {
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  Series& s = latency_[route];
  ++s.count;
  s.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++s.buckets[i];
  }
  bytes_in_ += bytes_in;
  bytes_out_ += bytes_out;
}

void Metrics::AddObjectBytes(uint64_t read, uint64_t written) {
  object_bytes_read_ += read;
  object_bytes_written_ += written;
}

std::string Metrics::Render(const CatalogCounts* counts) const {
  std::string out;
  char buf[512];
  std::lock_guard lock(mu_);
  out += "# HELP proxima_http_requests_total HTTP requests by route, method and status.\n";
  out += "# TYPE proxima_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    std::snprintf(buf, sizeof(buf),
                  "proxima_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                  route.c_str(), method.c_str(), status, static_cast<unsigned long long>(n));
    out += buf;
  }
  out += "# HELP proxima_http_request_seconds Request latency by route.\n";
  out += "# TYPE proxima_http_request_seconds histogram\n";
  for (const auto& [route, s] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      std::snprintf(buf, sizeof(buf),
                    "proxima_http_request_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    route.c_str(), kBuckets[i], static_cast<unsigned long long>(s.buckets[i]));
      out += buf;
    }
    std::snprintf(buf, sizeof(buf),
                  "proxima_http_request_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                  "proxima_http_request_seconds_sum{route=\"%s\"} %.6f\n"
                  "proxima_http_request_seconds_count{route=\"%s\"} %llu\n",
                  route.c_str(), static_cast<unsigned long long>(s.count), route.c_str(), s.sum,
                  route.c_str(), static_cast<unsigned long long>(s.count));
    out += buf;
  }
  std::snprintf(buf, sizeof(buf),
                "# HELP proxima_http_bytes_total HTTP body bytes received and sent.\n"
                "# TYPE proxima_http_bytes_total counter\n"
                "proxima_http_bytes_total{direction=\"in\"} %llu\n"
                "proxima_http_bytes_total{direction=\"out\"} %llu\n"
                "# HELP proxima_object_bytes_total Object bytes read from and written to the "
                "store for clients.\n"
                "# TYPE proxima_object_bytes_total counter\n"
                "proxima_object_bytes_total{direction=\"read\"} %llu\n"
                "proxima_object_bytes_total{direction=\"written\"} %llu\n",
                static_cast<unsigned long long>(bytes_in_),
                static_cast<unsigned long long>(bytes_out_),
                static_cast<unsigned long long>(object_bytes_read_.load()),
                static_cast<unsigned long long>(object_bytes_written_.load()));
  out += buf;
  std::snprintf(buf, sizeof(buf),
                "# HELP proxima_socket_body_bytes_total Upload bytes read from the socket "
                "directly, in large reads.\n"
                "# TYPE proxima_socket_body_bytes_total counter\n"
                "proxima_socket_body_bytes_total %llu\n",
                static_cast<unsigned long long>(socket_body_bytes_.load()));
  out += buf;
  if (counts != nullptr) {
    out += "# HELP proxima_catalog_rows Rows in the catalog by kind.\n";
    out += "# TYPE proxima_catalog_rows gauge\n";
    const std::pair<const char*, int64_t> rows[] = {
        {"datasets", counts->datasets}, {"refs", counts->refs},     {"users", counts->users},
        {"teams", counts->teams},       {"tokens", counts->tokens}, {"audit", counts->audit}};
    for (const auto& [kind, n] : rows) {
      std::snprintf(buf, sizeof(buf), "proxima_catalog_rows{kind=\"%s\"} %lld\n", kind,
                    static_cast<long long>(n));
      out += buf;
    }
  }
  return out;
}

}  // namespace proxima::api

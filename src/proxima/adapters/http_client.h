#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/adapters/aws_sigv4.h"
#include "proxima/base/result.h"

namespace proxima {

struct HttpRequest {
  std::string_view method;  // GET, PUT, HEAD, POST, DELETE
  std::string url;          // already encoded
  HttpHeaders headers;
  std::string_view body;          // sent as is for PUT and POST; not copied
  size_t expected_body_size = 0;  // a hint to size the response buffer
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // names in lower case
  std::string body;

  // The value of a response header, or "" when absent. `name` in lower case.
  std::string Header(std::string_view name) const;
};

// A blocking HTTP/1.1 client over libcurl that keeps a pool of easy handles,
// so that each thread's requests reuse a warm connection. Thread-safe: any
// number of requests may be in flight at once, one per calling thread.
//
// A transport failure (refused, reset, timeout, a body shorter than its
// Content-Length) is Unavailable and retryable; any HTTP status, even 500, is
// a response for the caller to interpret.
class HttpClient {
 public:
  struct Options {
    long connect_timeout_ms = 10'000;
    // A transfer slower than `low_speed_bytes` per second for
    // `low_speed_seconds` is abandoned (a stalled server), never a slow one.
    long low_speed_bytes = 1024;
    long low_speed_seconds = 30;
    std::string ca_bundle;  // PEM file of trusted CAs; "" for the system's
    // Large PUT and POST bodies to plain http:// URLs are written to the
    // socket straight from the caller's buffer (cpp-httplib's client with a
    // content provider), not copied through curl's upload buffer: a hub on
    // the same machine takes a 3 GB sync with 0.5 s less CPU. Only for
    // servers that sign nothing of the request's headers (the hub; not S3).
    bool direct_large_bodies = false;
  };

  explicit HttpClient(Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request);

  // Requests whose body went straight from the caller's buffer
  // (Options::direct_large_bodies) and were answered.
  uint64_t direct_bodies_sent() const { return direct_sent_.load(); }

 private:
  void* Acquire();  // CURL*, kept opaque so that curl.h stays out of headers
  void Release(void* handle);
  Result<HttpResponse> SendDirect(const HttpRequest& request);

  struct DirectConnection;  // a cpp-httplib client, kept out of headers
  Options options_;
  std::mutex mu_;
  std::vector<void*> idle_;
  std::vector<std::unique_ptr<DirectConnection>> idle_direct_;
  std::atomic<uint64_t> direct_sent_{0};
};

}  // namespace proxima

#pragma once

#include <string>
#include <string_view>

#include "proxima/adapters/http_client.h"
#include "proxima/base/result.h"

namespace proxima {

struct HubConfig {
  std::string url;        // "http://127.0.0.1:8080" (no trailing slash needed)
  std::string token;      // "pxm_..."
  std::string ca_bundle;  // PEM file of trusted CAs for https; "" for the system's
};

// A client of the hub's REST API (docs/api.md). Thread-safe.
//
// A 2xx response returns its body. An error response becomes the Status its
// JSON error body names ({"error": {"code", "message"}}), with the message
// prefixed by the hub's URL; a transport failure is Unavailable.
class HubClient {
 public:
  explicit HubClient(HubConfig config);

  // `expected_body_size`: the response body's size where the caller knows
  // it (a ranged read), so that it is received into one allocation.
  Result<HttpResponse> Send(std::string_view method, const std::string& path,
                            std::string_view body = {}, HttpHeaders headers = {},
                            size_t expected_body_size = 0);
  // Send, then the body of a 2xx response or the error as a Status.
  Result<std::string> Call(std::string_view method, const std::string& path,
                           std::string_view body = {}, HttpHeaders headers = {},
                           size_t expected_body_size = 0);

  const std::string& url() const { return config_.url; }

 private:
  HubConfig config_;
  HttpClient http_;
};

// The Status of a non-2xx hub response (decoded from its error body).
Status HubError(const HttpResponse& response, const std::string& where);

// Percent-encodes a query parameter value.
std::string HubQueryEscape(std::string_view value);

}  // namespace proxima

#include "proxima/adapters/hub_client.h"

#include <nlohmann/json.hpp>

#include "proxima/adapters/aws_sigv4.h"

namespace proxima {

HubClient::HubClient(HubConfig config)
    : config_(std::move(config)),
      http_(HttpClient::Options{10'000, 1024, 60, config_.ca_bundle,
                                /*direct_large_bodies=*/true}) {
  while (!config_.url.empty() && config_.url.back() == '/') config_.url.pop_back();
}

Result<HttpResponse> HubClient::Send(std::string_view method, const std::string& path,
                                     std::string_view body, HttpHeaders headers,
                                     size_t expected_body_size) {
  headers.emplace_back("Authorization", "Bearer " + config_.token);
  if (!body.empty() && method != "PUT") headers.emplace_back("Content-Type", "application/json");
  if (method == "PUT" || method == "POST") headers.emplace_back("Expect", "");
  HttpRequest request{method, config_.url + path, std::move(headers), body, expected_body_size};
  Result<HttpResponse> response = http_.Send(request);
  if (!response.ok()) {
    return Status(response.status().code(),
                  "hub " + config_.url + ": " + response.status().message() +
                      " (is 'proxima server' running there?)",
                  response.status().retryable());
  }
  return response;
}

Result<std::string> HubClient::Call(std::string_view method, const std::string& path,
                                    std::string_view body, HttpHeaders headers,
                                    size_t expected_body_size) {
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse response,
                           Send(method, path, body, std::move(headers), expected_body_size));
  if (response.status < 200 || response.status >= 300) return HubError(response, config_.url);
  return std::move(response.body);
}

Status HubError(const HttpResponse& response, const std::string& where) {
  nlohmann::json doc = nlohmann::json::parse(response.body, nullptr, false);
  std::string message = "HTTP " + std::to_string(response.status);
  StatusCode code = response.status >= 500 ? StatusCode::kUnavailable : StatusCode::kInternal;
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const auto& e = doc["error"];
    if (e.contains("code") && e["code"].is_string()) {
      code = StatusCodeFromName(e["code"].get<std::string>());
    }
    if (e.contains("message") && e["message"].is_string())
      message = e["message"].get<std::string>();
  } else {
    // No error body (a HEAD response, or a proxy in between): by status.
    switch (response.status) {
      case 400:
      case 413:
        code = StatusCode::kInvalidArgument;
        break;
      case 401:
        code = StatusCode::kUnauthenticated;
        break;
      case 403:
        code = StatusCode::kPermissionDenied;
        break;
      case 404:
        code = StatusCode::kNotFound;
        break;
      case 409:
        code = StatusCode::kAborted;
        break;
      case 412:
        code = StatusCode::kFailedPrecondition;
        break;
      case 422:
        code = StatusCode::kCorruption;
        break;
      default:
        break;
    }
  }
  bool retryable = code == StatusCode::kUnavailable;
  return Status(code, message + " (hub " + where + ")", retryable);
}

std::string HubQueryEscape(std::string_view value) { return AwsUriEncode(value, false); }

}  // namespace proxima

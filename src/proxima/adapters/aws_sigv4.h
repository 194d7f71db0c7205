#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace proxima {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 percent-encoding as AWS specifies it: unreserved characters
// (A-Z a-z 0-9 - . _ ~) stay, everything else becomes %XX (upper case); '/'
// stays when `keep_slash` (object paths) and is encoded otherwise (query).
std::string AwsUriEncode(std::string_view s, bool keep_slash);

// A request as Signature Version 4 sees it.
struct SigV4Request {
  std::string_view method;          // "GET", "PUT", ...
  std::string_view host;            // the Host header: "b.s3.amazonaws.com", "127.0.0.1:7480"
  std::string_view canonical_path;  // the URL path, already encoded: "/bucket/data/ab/x"
  HttpHeaders query;                // raw (unencoded) query parameters, any order
  HttpHeaders headers;              // further headers to sign ("range", "if-none-match", ...)
  std::string_view payload_hash;    // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// AWS Signature Version 4
// (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html), for the
// Authorization header and for presigned URLs. Pure computation: thread-safe, no I/O, the time is
// passed in.
class SigV4Signer {
 public:
  SigV4Signer(AwsCredentials credentials, std::string region, std::string service = "s3");

  // The headers to send with the request: x-amz-date, x-amz-content-sha256,
  // x-amz-security-token (with temporary credentials) and Authorization.
  HttpHeaders Sign(const SigV4Request& request, int64_t unix_seconds) const;

  // The query string of a presigned URL (sorted, encoded, with
  // X-Amz-Signature last), valid for `expires_seconds` from `unix_seconds`.
  // Only the host header is signed; the payload is unsigned.
  std::string Presign(const SigV4Request& request, int64_t unix_seconds,
                      int64_t expires_seconds) const;

  // "k1=v1&k2=v2", encoded and sorted by name, as the canonical request has it.
  static std::string CanonicalQuery(const HttpHeaders& query);

  const std::string& region() const { return region_; }

 private:
  std::string Signature(std::string_view canonical_request, std::string_view amz_date) const;
  std::string Scope(std::string_view amz_date) const;

  AwsCredentials credentials_;
  std::string region_;
  std::string service_;
};

// 20130524T000000Z
std::string AmzDate(int64_t unix_seconds);

// Hex SHA-256, as the x-amz-content-sha256 header wants it.
std::string HexSha256(std::string_view data);

// Base64 of the MD5 of `data`, for the Content-MD5 header.
std::string Base64Md5(std::string_view data);

}  // namespace proxima

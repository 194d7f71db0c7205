#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "proxima/adapters/aws_sigv4.h"
#include "proxima/base/result.h"

namespace proxima {

// Where an S3 store is and how to reach it.
struct S3Config {
  std::string bucket;
  std::string prefix;    // "" or ending in '/': "datasets/"
  std::string endpoint;  // "http://127.0.0.1:7480"; "" means AWS: https://s3.<region>.amazonaws.com
  std::string region = "us-east-1";
  std::string ca_bundle;    // AWS_CA_BUNDLE or the profile's ca_bundle; "" for the system's
  bool path_style = false;  // https://host/bucket/key instead of https://bucket.host/key
  AwsCredentials credentials;
  std::string
      credentials_source;  // for messages: "environment", "profile 'x' in ~/.aws/credentials"

  // Objects of at least `multipart_threshold` bytes are uploaded in parts of
  // `part_size` bytes (S3 requires at least 5 MiB but for the last), with
  // up to `part_concurrency` parts in flight.
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;
  int part_concurrency = 4;
  // Requests the store wants in flight for bulk work (PreferredConcurrency).
  int concurrency = 8;
  // Sign payloads (x-amz-content-sha256 = the body's hash) rather than
  // sending UNSIGNED-PAYLOAD. Reads are verified against content hashes
  // either way; this also lets the server reject a body damaged in transit.
  bool sign_payload = false;
};

// Builds the configuration of `url` ("s3://bucket/prefix") the way the AWS
// SDKs read theirs:
// - endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then endpoint_url in the
//   profile of ~/.aws/config (AWS_CONFIG_FILE);
// - region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1;
// - trusted CAs: AWS_CA_BUNDLE, then the profile's ca_bundle;
// - credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
//   else the profile (AWS_PROFILE, default "default") of ~/.aws/credentials
//   (AWS_SHARED_CREDENTIALS_FILE), else of ~/.aws/config;
// - addressing: PROXIMA_S3_ADDRESSING=path|virtual; by default path-style
//   with a custom endpoint (what MinIO, Ceph and StorageGRID expect) and
//   virtual-host style on AWS.
// `getenv` is injected for tests. Errors name the setting that is wrong.
Result<S3Config> S3ConfigFromUrl(std::string_view url,
                                 const std::function<const char*(const char*)>& getenv);

// The bucket and prefix of "s3://bucket/prefix/": ("bucket", "prefix/").
Result<std::pair<std::string, std::string>> ParseS3Url(std::string_view url);

}  // namespace proxima

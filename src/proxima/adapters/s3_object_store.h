#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proxima/adapters/aws_sigv4.h"
#include "proxima/adapters/http_client.h"
#include "proxima/adapters/s3_config.h"
#include "proxima/ports/clock.h"
#include "proxima/ports/object_store.h"

namespace proxima {

// The ObjectStore port on an S3-compatible service (AWS S3, Ceph RGW, MinIO,
// StorageGRID): keys live under `prefix` in `bucket`. Requests are signed
// with Signature V4; objects of at least the multipart threshold go up in
// parallel parts (aborted on failure, so no parts are left behind); reads of
// part of an object are ranged GETs; listings follow continuation tokens.
//
// Puts are durable when they return, so Sync() does nothing. PutIfAbsent is
// a conditional PUT (If-None-Match: *). Errors map as follows: 404 NoSuchKey
// is NotFound; 412 is AlreadyExists; 403 is PermissionDenied, or
// Unauthenticated for bad credentials; 404 NoSuchBucket is
// FailedPrecondition; 429, 5xx, resets and timeouts are Unavailable and
// retryable (wrap the store in a RetryingObjectStore). Messages name the
// bucket, the key and what to check.
//
// Thread-safe. It does not retry by itself.
class S3ObjectStore : public ObjectStore {
 public:
  S3ObjectStore(S3Config config, Clock* clock);
  ~S3ObjectStore() override;

  // Creates the bucket; AlreadyExists when it does (owned by anyone).
  Status CreateBucket();

  std::string Describe() const override;
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  Status Sync() override { return Status::Ok(); }
  int PreferredConcurrency() const override { return config_.concurrency; }

  // A URL that lets anyone holding it GET (or PUT) `key` until it expires,
  // without credentials: how a hub hands out direct access to the data.
  Result<std::string> PresignedUrl(std::string_view method, std::string_view key,
                                   int64_t expires_seconds) override;

  // Keys (relative to the store's prefix) of multipart uploads that were
  // started and neither completed nor aborted. Empty after any Put returns.
  Result<std::vector<std::string>> ListPendingMultipartUploads();

  const S3Config& config() const { return config_; }

 private:
  struct Target;
  Target TargetFor(std::string_view object_key) const;
  Result<HttpResponse> Call(std::string_view method, std::string_view object_key,
                            const HttpHeaders& query, HttpHeaders headers, std::string_view body,
                            size_t expected_size = 0);
  Status ErrorFor(std::string_view op, std::string_view key, const HttpResponse& response) const;
  Status PutOnce(std::string_view key, std::string_view data, bool if_absent);
  Status PutMultipart(std::string_view key, std::string_view data);

  S3Config config_;
  Clock* clock_;
  SigV4Signer signer_;
  std::string scheme_;  // "https://"
  std::string host_;    // "127.0.0.1:7480", "s3.us-east-1.amazonaws.com"
  std::unique_ptr<HttpClient> http_;
};

}  // namespace proxima

#include "proxima/adapters/s3_object_store.h"

#include <atomic>
#include <cerrno>
#include <optional>
#include <pugixml.hpp>
#include <thread>

namespace proxima {
namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct S3Error {
  std::string code;
  std::string message;
};

S3Error ParseError(const std::string& body) {
  S3Error e;
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) return e;
  pugi::xml_node error = doc.child("Error");
  e.code = error.child_value("Code");
  e.message = error.child_value("Message");
  return e;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// A Content-Length header's value; nullopt when absent or not a number.
std::optional<uint64_t> ParseLength(const std::string& value) {
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(value.c_str(), &end, 10);
  if (errno != 0 || end == value.c_str() || *end != '\0') return std::nullopt;
  return static_cast<uint64_t>(n);
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

struct S3ObjectStore::Target {
  std::string host;
  std::string path;  // encoded
};

S3ObjectStore::S3ObjectStore(S3Config config, Clock* clock)
    : config_(std::move(config)),
      clock_(clock),
      signer_(config_.credentials, config_.region),
      http_(std::make_unique<HttpClient>(HttpClient::Options{.ca_bundle = config_.ca_bundle})) {
  if (config_.endpoint.empty()) {
    scheme_ = "https://";
    host_ = "s3." + config_.region + ".amazonaws.com";
  } else {
    size_t sep = config_.endpoint.find("://");
    scheme_ = config_.endpoint.substr(0, sep + 3);
    host_ = config_.endpoint.substr(sep + 3);
    if (size_t slash = host_.find('/'); slash != std::string::npos) host_.resize(slash);
    host_ = ToLower(host_);
  }
}

S3ObjectStore::~S3ObjectStore() = default;

std::string S3ObjectStore::Describe() const {
  std::string d = "s3://" + config_.bucket + "/" + config_.prefix;
  if (!config_.endpoint.empty()) d += " at " + config_.endpoint;
  return d;
}

S3ObjectStore::Target S3ObjectStore::TargetFor(std::string_view full_key) const {
  Target t;
  std::string encoded_key = AwsUriEncode(full_key, /*keep_slash=*/true);
  if (config_.path_style) {
    t.host = host_;
    t.path = "/" + config_.bucket;
    if (!full_key.empty()) t.path += "/" + encoded_key;
  } else {
    t.host = config_.bucket + "." + host_;
    t.path = "/" + encoded_key;
  }
  return t;
}

Result<HttpResponse> S3ObjectStore::Call(std::string_view method, std::string_view full_key,
                                         const HttpHeaders& query, HttpHeaders headers,
                                         std::string_view body, size_t expected_size) {
  Target target = TargetFor(full_key);
  std::string payload_hash = body.empty()           ? std::string(kEmptySha256)
                             : config_.sign_payload ? HexSha256(body)
                                                    : std::string("UNSIGNED-PAYLOAD");
  SigV4Request sign{method, target.host, target.path, query, headers, payload_hash};
  HttpHeaders auth = signer_.Sign(sign, clock_->NowUnixNanos() / 1'000'000'000);
  HttpRequest request;
  request.method = method;
  request.url = scheme_ + target.host + target.path;
  if (!query.empty()) request.url += "?" + SigV4Signer::CanonicalQuery(query);
  request.headers = std::move(headers);
  request.headers.emplace_back("Host", target.host);
  for (auto& h : auth) request.headers.push_back(std::move(h));
  request.body = body;
  request.expected_body_size = expected_size;
  auto response = http_->Send(request);
  if (!response.ok()) {
    return response.status().WithContext("S3 " + std::string(method) + " 's3://" + config_.bucket +
                                         "/" + std::string(full_key) + "'");
  }
  return response;
}

Status S3ObjectStore::ErrorFor(std::string_view op, std::string_view full_key,
                               const HttpResponse& response) const {
  S3Error e = ParseError(response.body);
  std::string where = "s3://" + config_.bucket + "/" + std::string(full_key);
  std::string at = config_.endpoint.empty() ? "AWS (" + config_.region + ")" : config_.endpoint;
  std::string what = "S3 " + std::string(op) + " '" + where + "' at " + at + ": " +
                     std::to_string(response.status) + (e.code.empty() ? "" : " " + e.code) +
                     (e.message.empty() ? "" : " (" + e.message + ")");
  long s = response.status;
  if (e.code == "NoSuchBucket") {
    return Status::FailedPrecondition(what + ": bucket '" + config_.bucket +
                                      "' does not exist there; create it or check PROXIMA_STORE "
                                      "and AWS_ENDPOINT_URL");
  }
  if (s == 404) return Status::NotFound(what + ": no such object");
  if (s == 412) return Status::AlreadyExists(what + ": the object already exists");
  if (e.code == "InvalidAccessKeyId" || e.code == "SignatureDoesNotMatch" ||
      e.code == "InvalidToken" || e.code == "ExpiredToken") {
    return Status::Unauthenticated(what + ": the server refused the credentials from " +
                                   config_.credentials_source +
                                   "; check the access key and secret");
  }
  if (e.code == "RequestTimeTooSkewed") {
    return Status::Unauthenticated(what + ": this machine's clock is off; fix the time");
  }
  if (e.code == "QuotaExceeded" || e.code == "InsufficientCapacity" || s == 507) {
    return Status::ResourceExhausted(what + ": the store is out of space or over quota");
  }
  if (s == 403) {
    return Status::PermissionDenied(what + ": access denied; check that the credentials from " +
                                    config_.credentials_source + " may use bucket '" +
                                    config_.bucket + "'");
  }
  if (s == 429 || s >= 500 || e.code == "RequestTimeout" || e.code == "SlowDown" ||
      e.code == "ConditionalRequestConflict") {
    return Status::Unavailable(what);
  }
  if (s == 409 && (e.code == "BucketAlreadyOwnedByYou" || e.code == "BucketAlreadyExists")) {
    return Status::AlreadyExists(what);
  }
  return Status::FailedPrecondition(what);
}

Status S3ObjectStore::CreateBucket() {
  std::string body;
  if (config_.region != "us-east-1") {
    body = "<CreateBucketConfiguration><LocationConstraint>" + config_.region +
           "</LocationConstraint></CreateBucketConfiguration>";
  }
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("PUT", "", {}, {}, body));
  if (r.status == 200) return Status::Ok();
  return ErrorFor("create bucket", "", r);
}

Status S3ObjectStore::PutOnce(std::string_view key, std::string_view data, bool if_absent) {
  std::string full = config_.prefix + std::string(key);
  HttpHeaders headers;
  if (if_absent) headers.emplace_back("if-none-match", "*");
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("PUT", full, {}, std::move(headers), data));
  if (r.status == 200) return Status::Ok();
  return ErrorFor("PUT", full, r);
}

Status S3ObjectStore::Put(std::string_view key, std::string_view data) {
  if (data.size() >= config_.multipart_threshold && data.size() > config_.part_size) {
    return PutMultipart(key, data);
  }
  return PutOnce(key, data, false);
}

Status S3ObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  return PutOnce(key, data, true);
}

Status S3ObjectStore::PutMultipart(std::string_view key, std::string_view data) {
  std::string full = config_.prefix + std::string(key);
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse init, Call("POST", full, {{"uploads", ""}}, {}, {}));
  if (init.status != 200) return ErrorFor("start multipart upload of", full, init);
  pugi::xml_document doc;
  doc.load_buffer(init.body.data(), init.body.size());
  std::string upload_id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload_id.empty()) {
    return Status::Internal("S3 multipart upload of 's3://" + config_.bucket + "/" + full +
                            "': the server returned no UploadId");
  }

  size_t parts = (data.size() + config_.part_size - 1) / config_.part_size;
  std::vector<std::string> etags(parts);
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto worker = [&] {
    for (size_t i = next++; i < parts; i = next++) {
      {
        std::lock_guard lock(mu);
        if (!first_error.ok()) return;
      }
      std::string_view slice = data.substr(i * config_.part_size, config_.part_size);
      auto r = Call("PUT", full, {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}},
                    {}, slice);
      Status s = !r.ok()            ? r.status()
                 : r->status != 200 ? ErrorFor("upload part of", full, *r)
                 : r->Header("etag").empty()
                     ? Status::Internal("S3 part " + std::to_string(i + 1) + " of '" + full +
                                        "': no ETag in the response")
                     : Status::Ok();
      std::lock_guard lock(mu);
      if (!s.ok()) {
        if (first_error.ok()) first_error = s;
        return;
      }
      etags[i] = r->Header("etag");
    }
  };
  int n = static_cast<int>(std::min<size_t>(parts, std::max(1, config_.part_concurrency)));
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  Status result = first_error;
  if (result.ok()) {
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < parts; ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
              XmlEscape(etags[i]) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    auto r = Call("POST", full, {{"uploadId", upload_id}}, {}, body);
    // A completion can fail after a 200 status line: the error is in the body.
    if (!r.ok()) {
      result = r.status();
    } else if (r->status != 200 || !ParseError(r->body).code.empty()) {
      result = ErrorFor("complete multipart upload of", full, *r);
    }
  }
  if (!result.ok()) {
    auto abort = Call("DELETE", full, {{"uploadId", upload_id}}, {}, {});
    if (!abort.ok() || (abort->status != 204 && abort->status != 200 && abort->status != 404)) {
      return result.WithContext("(the upload " + upload_id +
                                " could not be aborted either; its parts remain until the "
                                "bucket's lifecycle rule removes them)");
    }
  }
  return result;
}

Result<std::string> S3ObjectStore::Get(std::string_view key) {
  std::string full = config_.prefix + std::string(key);
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("GET", full, {}, {}, {}));
  if (r.status != 200) return ErrorFor("GET", full, r);
  std::string length = r.Header("content-length");
  if (auto n = ParseLength(length); n && *n != r.body.size()) {
    return Status::Unavailable("S3 GET '" + full + "': got " + std::to_string(r.body.size()) +
                               " of " + length + " bytes");
  }
  return std::move(r.body);
}

Result<std::string> S3ObjectStore::GetRange(std::string_view key, uint64_t offset,
                                            uint64_t length) {
  std::string full = config_.prefix + std::string(key);
  if (length == 0) {
    PROXIMA_RETURN_IF_ERROR(Size(key).status());
    return std::string();
  }
  HttpHeaders headers = {
      {"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("GET", full, {}, std::move(headers), {}, length));
  if (r.status == 416) return std::string();  // the range starts at or past the end
  if (r.status == 200) {                      // the server ignored the range and sent it all
    return offset >= r.body.size() ? std::string() : r.body.substr(offset, length);
  }
  if (r.status != 206) return ErrorFor("GET", full, r);
  if (r.body.size() > length) {
    return Status::Internal("S3 GET '" + full + "': a ranged read returned too many bytes");
  }
  std::string expected = r.Header("content-length");
  if (auto n = ParseLength(expected); n && *n != r.body.size()) {
    return Status::Unavailable("S3 GET '" + full + "': got " + std::to_string(r.body.size()) +
                               " of " + expected + " bytes");
  }
  return std::move(r.body);
}

Result<uint64_t> S3ObjectStore::Size(std::string_view key) {
  std::string full = config_.prefix + std::string(key);
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("HEAD", full, {}, {}, {}));
  if (r.status != 200) return ErrorFor("HEAD", full, r);
  auto length = ParseLength(r.Header("content-length"));
  if (!length) return Status::Internal("S3 HEAD '" + full + "': no valid Content-Length");
  return *length;
}

Status S3ObjectStore::List(std::string_view prefix,
                           const std::function<Status(const ObjectInfo&)>& fn) {
  std::string full_prefix = config_.prefix + std::string(prefix);
  std::string token;
  while (true) {
    HttpHeaders query = {{"list-type", "2"}, {"max-keys", "1000"}, {"prefix", full_prefix}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("GET", "", std::move(query), {}, {}));
    if (r.status != 200) return ErrorFor("list", full_prefix, r);
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size())) {
      return Status::Unavailable("S3 list 's3://" + config_.bucket + "/" + full_prefix +
                                 "': the response is not valid XML");
    }
    pugi::xml_node result = doc.child("ListBucketResult");
    for (pugi::xml_node c : result.children("Contents")) {
      std::string_view key = c.child_value("Key");
      if (key.substr(0, config_.prefix.size()) != config_.prefix) continue;
      ObjectInfo info{std::string(key.substr(config_.prefix.size())),
                      std::strtoull(c.child_value("Size"), nullptr, 10)};
      PROXIMA_RETURN_IF_ERROR(fn(info));
    }
    if (std::string_view(result.child_value("IsTruncated")) != "true") return Status::Ok();
    token = result.child_value("NextContinuationToken");
    if (token.empty()) {
      return Status::Internal("S3 list '" + full_prefix +
                              "': truncated listing without a continuation token");
    }
  }
}

Status S3ObjectStore::Delete(std::string_view key) {
  std::string full = config_.prefix + std::string(key);
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("DELETE", full, {}, {}, {}));
  if (r.status == 204 || r.status == 200) return Status::Ok();
  Status s = ErrorFor("DELETE", full, r);
  return s.IsNotFound() ? Status::Ok() : s;
}

Status S3ObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  constexpr size_t kBatch = 1000;  // the most S3 takes in one request
  for (size_t start = 0; start < keys.size(); start += kBatch) {
    std::string body = "<Delete><Quiet>true</Quiet>";
    for (size_t i = start; i < std::min(keys.size(), start + kBatch); ++i) {
      body += "<Object><Key>" + XmlEscape(config_.prefix + keys[i]) + "</Key></Object>";
    }
    body += "</Delete>";
    PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, Call("POST", "", {{"delete", ""}},
                                                  {{"content-md5", Base64Md5(body)}}, body));
    if (r.status != 200) return ErrorFor("delete objects in", config_.prefix, r);
    pugi::xml_document doc;
    doc.load_buffer(r.body.data(), r.body.size());
    for (pugi::xml_node e : doc.child("DeleteResult").children("Error")) {
      std::string code = e.child_value("Code");
      if (code == "NoSuchKey") continue;
      return Status::FailedPrecondition("S3 delete of 's3://" + config_.bucket + "/" +
                                        e.child_value("Key") + "': " + code + " (" +
                                        e.child_value("Message") + ")");
    }
  }
  return Status::Ok();
}

Result<std::string> S3ObjectStore::PresignedUrl(std::string_view method, std::string_view key,
                                                int64_t expires_seconds) {
  if (method != "GET" && method != "PUT") {
    return Status::InvalidArgument("presigned URLs are for GET and PUT, not " +
                                   std::string(method));
  }
  if (expires_seconds < 1 || expires_seconds > 7 * 24 * 3600) {
    return Status::InvalidArgument("a presigned URL expires after 1 second to 7 days, not " +
                                   std::to_string(expires_seconds) + " seconds");
  }
  Target target = TargetFor(config_.prefix + std::string(key));
  SigV4Request request{method, target.host, target.path, {}, {}, "UNSIGNED-PAYLOAD"};
  return scheme_ + target.host + target.path + "?" +
         signer_.Presign(request, clock_->NowUnixNanos() / 1'000'000'000, expires_seconds);
}

Result<std::vector<std::string>> S3ObjectStore::ListPendingMultipartUploads() {
  PROXIMA_ASSIGN_OR_RETURN(HttpResponse r,
                           Call("GET", "", {{"uploads", ""}, {"prefix", config_.prefix}}, {}, {}));
  if (r.status != 200) return ErrorFor("list multipart uploads in", config_.prefix, r);
  pugi::xml_document doc;
  doc.load_buffer(r.body.data(), r.body.size());
  std::vector<std::string> keys;
  for (pugi::xml_node u : doc.child("ListMultipartUploadsResult").children("Upload")) {
    std::string_view key = u.child_value("Key");
    if (key.substr(0, config_.prefix.size()) == config_.prefix) {
      keys.emplace_back(key.substr(config_.prefix.size()));
    }
  }
  return keys;
}

}  // namespace proxima

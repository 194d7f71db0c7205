#include "proxima/adapters/http_client.h"

#include <curl/curl.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>

#include <algorithm>
#include <cstring>

namespace proxima {
namespace {

// Bodies from this size on are sent through a larger upload buffer.
constexpr size_t kLargeBody = size_t{256} << 10;
constexpr long kLargeUploadBuffer = 2L << 20;

void InitCurlOnce() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  size_t n = size * count;
  std::string_view line(data, n);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the status line, or the blank end
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  static_cast<HttpHeaders*>(user)->emplace_back(std::move(name), std::string(value));
  return n;
}

std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

struct HttpClient::DirectConnection {
  std::string authority;  // host:port
  httplib::Client client;
  DirectConnection(std::string a, const std::string& host, int port)
      : authority(std::move(a)), client(host, port) {}
};

HttpClient::HttpClient(Options options) : options_(options) { InitCurlOnce(); }

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

Result<HttpResponse> HttpClient::SendDirect(const HttpRequest& request) {
  // http://host[:port]/path?query, already encoded.
  std::string authority = HostOf(request.url);
  size_t slash = request.url.find('/', 7);
  std::string target = slash == std::string::npos ? "/" : request.url.substr(slash);
  std::string host = authority;
  int port = 80;
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    host = authority.substr(0, colon);
    port = std::atoi(authority.c_str() + colon + 1);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::unique_ptr<DirectConnection> conn;
  {
    std::lock_guard lock(mu_);
    for (size_t i = idle_direct_.size(); i-- > 0;) {
      if (idle_direct_[i]->authority == authority) {
        conn = std::move(idle_direct_[i]);
        idle_direct_.erase(idle_direct_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  if (!conn) {
    conn = std::make_unique<DirectConnection>(authority, host, port);
    httplib::Client& c = conn->client;
    c.set_keep_alive(true);
    c.set_tcp_nodelay(true);
    c.set_url_encode(false);
    c.set_decompress(false);
    c.set_connection_timeout(std::chrono::milliseconds(options_.connect_timeout_ms));
    // No progress for this long is a stalled server, as curl's low-speed limit.
    c.set_read_timeout(std::chrono::seconds(options_.low_speed_seconds));
    c.set_write_timeout(std::chrono::seconds(options_.low_speed_seconds));
  }
  httplib::Headers headers;
  std::string content_type;
  for (const auto& [k, v] : request.headers) {
    if (v.empty()) continue;  // "Expect:" and the like: curl's way to drop a header
    if (strcasecmp(k.c_str(), "Content-Type") == 0) {
      content_type = v;
    } else {
      headers.emplace(k, v);
    }
  }
  std::string_view body = request.body;
  auto provide = [body](size_t offset, size_t length, httplib::DataSink& sink) {
    return sink.write(body.data() + offset, length);
  };
  // cpp-httplib sends without MSG_NOSIGNAL: a server that closed the
  // connection must not kill the process. SIGPIPE is blocked in this thread
  // for the call, and one it raised is taken back before unblocking.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  httplib::Result r = request.method == "PUT"
                          ? conn->client.Put(target, headers, body.size(), provide, content_type)
                          : conn->client.Post(target, headers, body.size(), provide, content_type);
  sigset_t pending;
  if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1 &&
      sigismember(&old_set, SIGPIPE) == 0) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (!r) {
    // Only a request that may not have reached the server is sent again
    // (through curl): once it was sent, a POST must not go twice.
    bool unsent = r.error() == httplib::Error::Connection || r.error() == httplib::Error::Write;
    return Status(
        unsent ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable,
        std::string(request.method) + " " + authority + ": " + httplib::to_string(r.error()),
        /*retryable=*/!unsent);
  }
  direct_sent_.fetch_add(1, std::memory_order_relaxed);
  HttpResponse response;
  response.status = r->status;
  response.body = std::move(r->body);
  for (const auto& [k, v] : r->headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    response.headers.emplace_back(std::move(name), v);
  }
  // Only a clean success leaves the connection reusable: after an early
  // answer (401, 413) the server may still be reading the rest as requests.
  if (r->status >= 200 && r->status < 300 && r->get_header_value("Connection") != "close") {
    std::lock_guard lock(mu_);
    idle_direct_.push_back(std::move(conn));
  }
  return response;
}

void* HttpClient::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::Release(void* handle) {
  std::lock_guard lock(mu_);
  idle_.push_back(handle);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  if (options_.direct_large_bodies && request.body.size() >= kLargeBody &&
      (request.method == "PUT" || request.method == "POST") &&
      request.url.rfind("http://", 0) == 0) {
    // A server that answers before it has read the body (413, closing) makes
    // the write fail here; curl below reads such an answer, so a request that
    // failed while it was being sent goes through curl once more.
    Result<HttpResponse> direct = SendDirect(request);
    if (direct.ok() || direct.status().code() != StatusCode::kFailedPrecondition) return direct;
  }
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return Status::Internal("cannot create an HTTP handle (out of memory?)");
  curl_easy_reset(curl);  // keeps the live connection and the DNS cache

  HttpResponse response;
  if (request.expected_body_size > 0) response.body.reserve(request.expected_body_size);
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) {
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  }
  // No "Expect: 100-continue" round trip, and no form content type on PUTs.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Content-Type:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options_.low_speed_seconds);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (!options_.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  }

  std::string method(request.method);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT" || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    // Never NULL: curl would then read the body from stdin.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    if (method == "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    // curl copies a body through its upload buffer (64 KiB by default) and
    // sends a buffer at a time: a pack then takes hundreds of send() calls.
    // Large bodies go in 2 MiB sends (curl's maximum); the buffer stays
    // with the pooled handle.
    if (request.body.size() >= kLargeBody) {
      curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, kLargeUploadBuffer);
    }
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    // A broken connection may not be reusable: drop the handle.
    curl_easy_cleanup(curl);
    std::string what = rc == CURLE_PARTIAL_FILE ? "the response body was cut short"
                                                : std::string(curl_easy_strerror(rc));
    return Status::Unavailable(method + " " + HostOf(request.url) + ": " + what);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  Release(curl);
  return response;
}

}  // namespace proxima

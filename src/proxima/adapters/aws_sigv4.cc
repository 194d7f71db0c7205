#include "proxima/adapters/aws_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include "proxima/base/hash.h"

namespace proxima {
namespace {

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

}  // namespace

std::string AwsUriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string AmzDate(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string HexSha256(std::string_view data) { return Sha256(data).Hex(); }

std::string Base64Md5(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out), n);
}

SigV4Signer::SigV4Signer(AwsCredentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

std::string SigV4Signer::CanonicalQuery(const HttpHeaders& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) {
    encoded.emplace_back(AwsUriEncode(k, false), AwsUriEncode(v, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string SigV4Signer::Scope(std::string_view amz_date) const {
  return std::string(amz_date.substr(0, 8)) + "/" + region_ + "/" + service_ + "/aws4_request";
}

std::string SigV4Signer::Signature(std::string_view canonical_request,
                                   std::string_view amz_date) const {
  std::string string_to_sign = std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
                               Scope(amz_date) + "\n" + HexSha256(canonical_request);
  std::string key = HmacSha256("AWS4" + credentials_.secret_access_key, amz_date.substr(0, 8));
  key = HmacSha256(key, region_);
  key = HmacSha256(key, service_);
  key = HmacSha256(key, "aws4_request");
  return Hex(HmacSha256(key, string_to_sign));
}

HttpHeaders SigV4Signer::Sign(const SigV4Request& request, int64_t unix_seconds) const {
  std::string amz_date = AmzDate(unix_seconds);
  HttpHeaders added = {{"x-amz-date", amz_date},
                       {"x-amz-content-sha256", std::string(request.payload_hash)}};
  if (!credentials_.session_token.empty()) {
    added.emplace_back("x-amz-security-token", credentials_.session_token);
  }

  std::vector<std::pair<std::string, std::string>> signed_headers;
  signed_headers.emplace_back("host", std::string(request.host));
  for (const auto& [k, v] : request.headers) signed_headers.emplace_back(Lower(k), Trim(v));
  for (const auto& [k, v] : added) signed_headers.emplace_back(k, v);
  std::sort(signed_headers.begin(), signed_headers.end());

  std::string canonical_headers, names;
  for (const auto& [k, v] : signed_headers) {
    canonical_headers += k + ":" + v + "\n";
    if (!names.empty()) names.push_back(';');
    names += k;
  }
  std::string canonical_request = std::string(request.method) + "\n" +
                                  std::string(request.canonical_path) + "\n" +
                                  CanonicalQuery(request.query) + "\n" + canonical_headers + "\n" +
                                  names + "\n" + std::string(request.payload_hash);
  added.emplace_back("authorization", std::string(kAlgorithm) +
                                          " Credential=" + credentials_.access_key_id + "/" +
                                          Scope(amz_date) + ",SignedHeaders=" + names +
                                          ",Signature=" + Signature(canonical_request, amz_date));
  return added;
}

std::string SigV4Signer::Presign(const SigV4Request& request, int64_t unix_seconds,
                                 int64_t expires_seconds) const {
  std::string amz_date = AmzDate(unix_seconds);
  HttpHeaders query = request.query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  query.emplace_back("X-Amz-Credential", credentials_.access_key_id + "/" + Scope(amz_date));
  query.emplace_back("X-Amz-Date", amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  if (!credentials_.session_token.empty()) {
    query.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  query.emplace_back("X-Amz-SignedHeaders", "host");
  std::string canonical_query = CanonicalQuery(query);
  std::string canonical_request =
      std::string(request.method) + "\n" + std::string(request.canonical_path) + "\n" +
      canonical_query + "\nhost:" + std::string(request.host) + "\n\nhost\nUNSIGNED-PAYLOAD";
  return canonical_query + "&X-Amz-Signature=" + Signature(canonical_request, amz_date);
}

}  // namespace proxima

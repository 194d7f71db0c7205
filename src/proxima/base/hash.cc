#include "proxima/base/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cassert>
#include <cstdlib>

namespace proxima {

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char kHexDigits[] = "0123456789abcdef";
}  // namespace

std::optional<Hash256> Hash256::FromHex(std::string_view hex) {
  if (hex.size() != 2 * kSize) return std::nullopt;
  Hash256 h;
  for (size_t i = 0; i < kSize; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h.bytes_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

std::string Hash256::Hex() const { return HexEncode(view()); }

bool Hash256::IsZero() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

std::string HexEncode(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0xf];
  }
  return out;
}

Hash256 Sha256(std::string_view data) {
  Hash256 h;
  unsigned int len = 0;
  int rc = EVP_Digest(data.data(), data.size(), h.data(), &len, EVP_sha256(), nullptr);
  assert(rc == 1 && len == Hash256::kSize);
  (void)rc;
  return h;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Hash256 Sha256Stream::Finish() {
  Hash256 h;
  unsigned int len = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  EVP_DigestFinal_ex(ctx, h.data(), &len);
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  return h;
}

std::string RandomHex(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no entropy: nothing secret can be made safely
  }
  return HexEncode(bytes);
}

}  // namespace proxima

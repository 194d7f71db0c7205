#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace proxima {

// A SHA-256 digest. Every object, blob, tree and commit in Proxima is named by one.
class Hash256 {
 public:
  static constexpr size_t kSize = 32;

  Hash256() { bytes_.fill(0); }
  explicit Hash256(const uint8_t* bytes) { std::memcpy(bytes_.data(), bytes, kSize); }

  // Parses exactly 64 lowercase or uppercase hex digits.
  static std::optional<Hash256> FromHex(std::string_view hex);

  std::string Hex() const;
  // The first `n` hex digits, as shown to users (git-style abbreviation).
  std::string ShortHex(size_t n = 12) const { return Hex().substr(0, n); }

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes_.data()), kSize}; }
  bool IsZero() const;

  friend bool operator==(const Hash256&, const Hash256&) = default;
  friend auto operator<=>(const Hash256&, const Hash256&) = default;

 private:
  std::array<uint8_t, kSize> bytes_;
};

struct Hash256Hasher {
  size_t operator()(const Hash256& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof(v));  // already uniformly distributed
    return v;
  }
};

// One-shot SHA-256 (OpenSSL; uses the CPU's SHA extensions where present).
Hash256 Sha256(std::string_view data);

// Incremental SHA-256. Not thread-safe; one instance per stream.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(std::string_view data);
  // Returns the digest and resets the stream for reuse.
  Hash256 Finish();

 private:
  void* ctx_;  // EVP_MD_CTX, kept opaque so that OpenSSL stays out of headers.
};

std::string HexEncode(std::string_view bytes);

// `n` bytes from the operating system's cryptographic random source
// (OpenSSL RAND_bytes), hex-encoded: for secrets and unguessable ids.
std::string RandomHex(size_t n);

}  // namespace proxima

template <>
struct std::hash<proxima::Hash256> {
  size_t operator()(const proxima::Hash256& h) const { return proxima::Hash256Hasher()(h); }
};

#pragma once

#include <cstdint>
#include <string>

namespace proxima::testing {

// A fresh directory under $TMPDIR, removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Writes `content` to `path`, creating parent folders.
void WriteTestFile(const std::string& path, const std::string& content);
// Deterministic pseudo-random bytes.
std::string RandomBytes(size_t n, uint64_t seed);

}  // namespace proxima::testing

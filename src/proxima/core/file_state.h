#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/model/keys.h"
#include "proxima/model/tree.h"

namespace proxima {

// One entry of a working folder or of a commit, flattened: what the scanner
// sees, what the stat cache remembers and what trees are built from.
struct FileState {
  std::string path;  // relative, '/'-separated
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  std::vector<ObjectId> chunks;  // kFile: content blobs, once known
  std::string target;            // kSymlink

  // True when the stat fields say the file is unchanged since `cached`.
  bool SameStat(const FileState& cached) const {
    return type == cached.type && size == cached.size && mtime_ns == cached.mtime_ns &&
           ctime_ns == cached.ctime_ns && inode == cached.inode && mode == cached.mode &&
           mtime_ns != 0;
  }
  // True when content and metadata as committed are equal.
  bool SameContent(const FileState& other) const {
    return type == other.type && mode == other.mode && size == other.size &&
           chunks == other.chunks && target == other.target;
  }
};

// Walk order (docs/format.md): byte order with '/' ranked below every other
// byte. Returns <0, 0 or >0.
int ComparePaths(std::string_view a, std::string_view b);

}  // namespace proxima

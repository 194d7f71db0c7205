#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/model/keys.h"

namespace proxima {

enum class EntryType : uint8_t { kFile = 1, kDirectory = 2, kSymlink = 3 };

// One entry of a directory (docs/format.md, "Tree objects").
struct TreeEntry {
  std::string name;
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits, & 07777

  // kFile: content size and blob ids in order. kDirectory: bytes below.
  uint64_t size = 0;
  std::vector<ObjectId> chunks;

  // kDirectory: the subtree and the number of files below it.
  ObjectId tree;
  uint64_t file_count = 0;

  // kSymlink: the link target, verbatim.
  std::string target;

  bool operator==(const TreeEntry&) const = default;
};

struct Tree {
  std::vector<TreeEntry> entries;  // strictly ascending by name
};

// Encodes a tree. Entries must be sorted and valid (checked in debug builds).
std::string EncodeTree(const Tree& tree);

// Decodes and validates: header and version, names (no '.', '..', '/', NUL),
// strict ordering, known types, no trailing bytes. `what` names the object
// in error messages (for example its key).
Result<Tree> DecodeTree(std::string_view bytes, std::string_view what);

}  // namespace proxima

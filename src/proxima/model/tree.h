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

// Tree deltas (docs/format.md, "Tree deltas"): a tree may be stored as a zstd
// frame of its encoding compressed against the encoding of another tree, its
// base. The tree's id stays the SHA-256 of its full encoding. Writers make
// deltas against trees stored in full only; against a store written before
// that rule, they extend chains up to kMaxTreeDeltaDepth. Readers follow at
// most kMaxTreeDeltaHops, so a tampered cycle ends in an error.
inline constexpr uint32_t kMaxTreeDeltaDepth = 8;
inline constexpr uint32_t kMaxTreeDeltaHops = 64;

struct TreeDelta {
  ObjectId base;
  uint64_t raw_length = 0;  // bytes of the full encoding
  std::string_view frame;   // points into the stored bytes
};

bool IsTreeDelta(std::string_view stored);
// Header checks only: magic, version, a bounded length.
Result<TreeDelta> ParseTreeDelta(std::string_view stored, std::string_view what);
// The stored form of `full` as a delta against `base_full`; empty if zstd
// fails (out of memory).
std::string EncodeTreeDelta(const ObjectId& base, std::string_view base_full,
                            std::string_view full);
// The full encoding, given the base's. Corruption when the frame does not
// decode to exactly raw_length bytes; the caller checks the hash.
Result<std::string> ApplyTreeDelta(const TreeDelta& delta, std::string_view base_full,
                                   std::string_view what);

}  // namespace proxima

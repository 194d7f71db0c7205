#include "proxima/model/tree.h"

#include <cassert>

#include "proxima/base/coding.h"
#include "proxima/model/names.h"

namespace proxima {

namespace {
constexpr std::string_view kTreeMagic = "PROXTREE";
constexpr uint32_t kTreeVersion = 1;
}  // namespace

std::string EncodeTree(const Tree& tree) {
  std::string out;
  out.reserve(16 + tree.entries.size() * 64);
  out.append(kTreeMagic);
  PutFixed32(&out, kTreeVersion);
  PutVarint64(&out, tree.entries.size());
  for (size_t i = 0; i < tree.entries.size(); ++i) {
    const TreeEntry& e = tree.entries[i];
    assert(i == 0 || tree.entries[i - 1].name < e.name);
    PutLengthPrefixed(&out, e.name);
    out.push_back(static_cast<char>(e.type));
    PutVarint64(&out, e.mode & 07777);
    switch (e.type) {
      case EntryType::kFile:
        PutVarint64(&out, e.size);
        PutVarint64(&out, e.chunks.size());
        for (const ObjectId& id : e.chunks) out.append(id.view());
        break;
      case EntryType::kDirectory:
        out.append(e.tree.view());
        PutVarint64(&out, e.file_count);
        PutVarint64(&out, e.size);
        break;
      case EntryType::kSymlink:
        PutLengthPrefixed(&out, e.target);
        break;
    }
  }
  return out;
}

Result<Tree> DecodeTree(std::string_view in, std::string_view what) {
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption("tree " + std::string(what) + ": " + std::string(why));
  };
  if (in.substr(0, kTreeMagic.size()) != kTreeMagic) return corrupt("not a tree object");
  in.remove_prefix(kTreeMagic.size());
  uint32_t version = 0;
  if (!GetFixed32(&in, &version)) return corrupt("truncated header");
  if (version != kTreeVersion) {
    return Status::FailedPrecondition("tree " + std::string(what) + " has format version " +
                                      std::to_string(version) +
                                      ", which this Proxima does not know; upgrade Proxima");
  }
  uint64_t count = 0;
  if (!GetVarint64(&in, &count) || count > in.size()) return corrupt("bad entry count");
  Tree tree;
  tree.entries.reserve(count);
  std::string context = "tree " + std::string(what);
  for (uint64_t i = 0; i < count; ++i) {
    TreeEntry e;
    std::string_view name;
    if (!GetLengthPrefixed(&in, &name) || in.empty()) return corrupt("truncated entry");
    PROXIMA_RETURN_IF_ERROR(ValidateEntryName(name, context));
    e.name.assign(name);
    if (!tree.entries.empty() && !(tree.entries.back().name < e.name)) {
      return corrupt("entries not strictly sorted at " + QuotePath(name));
    }
    e.type = static_cast<EntryType>(static_cast<uint8_t>(in[0]));
    in.remove_prefix(1);
    uint64_t mode = 0;
    if (!GetVarint64(&in, &mode) || mode > 07777) return corrupt("bad mode");
    e.mode = static_cast<uint32_t>(mode);
    std::string_view bytes;
    switch (e.type) {
      case EntryType::kFile: {
        uint64_t n = 0;
        if (!GetVarint64(&in, &e.size) || !GetVarint64(&in, &n) || n > in.size() / 32) {
          return corrupt("truncated file entry " + QuotePath(name));
        }
        e.chunks.reserve(n);
        for (uint64_t k = 0; k < n; ++k) {
          GetBytes(&in, 32, &bytes);
          e.chunks.emplace_back(reinterpret_cast<const uint8_t*>(bytes.data()));
        }
        break;
      }
      case EntryType::kDirectory:
        if (!GetBytes(&in, 32, &bytes) || !GetVarint64(&in, &e.file_count) ||
            !GetVarint64(&in, &e.size)) {
          return corrupt("truncated directory entry " + QuotePath(name));
        }
        e.tree = ObjectId(reinterpret_cast<const uint8_t*>(bytes.data()));
        break;
      case EntryType::kSymlink:
        if (!GetLengthPrefixed(&in, &bytes)) return corrupt("truncated link " + QuotePath(name));
        PROXIMA_RETURN_IF_ERROR(ValidateSymlinkTarget(bytes, context));
        e.target.assign(bytes);
        e.size = e.target.size();
        break;
      default:
        return corrupt("unknown entry type for " + QuotePath(name));
    }
    tree.entries.push_back(std::move(e));
  }
  if (!in.empty()) return corrupt("trailing bytes");
  return tree;
}

}  // namespace proxima

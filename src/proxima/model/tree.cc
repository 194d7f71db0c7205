#include "proxima/model/tree.h"

#include <zstd.h>

#include <algorithm>
#include <cassert>
#include <memory>

#include "proxima/base/coding.h"
#include "proxima/model/names.h"

namespace proxima {

namespace {
constexpr std::string_view kTreeMagic = "PROXTREE";
constexpr uint32_t kTreeVersion = 1;
constexpr std::string_view kDeltaMagic = "PROXTDLT";
constexpr uint32_t kDeltaVersion = 1;
// Largest full encoding a delta may claim: a directory of about 20 million
// entries. Bounds what a tampered object can make a reader allocate.
constexpr uint64_t kMaxTreeBytes = uint64_t{1} << 30;

// The smallest window that holds base and content, so every match in the
// base is reachable.
int WindowLogFor(size_t bytes) {
  int log = 10;  // ZSTD_WINDOWLOG_MIN; the limits are not in zstd's stable API
  while (log < 31 && (size_t{1} << log) < bytes) ++log;
  return log;
}

// Reads an object's magic and version: Corruption for another magic or a
// short header, FailedPrecondition for a version this Proxima does not know.
Status ReadHeader(std::string_view* in, std::string_view magic, uint32_t known_version,
                  std::string_view kind, std::string_view what) {
  if (in->substr(0, magic.size()) != magic) {
    return Status::Corruption("tree " + std::string(what) + ": not a " + std::string(kind));
  }
  in->remove_prefix(magic.size());
  uint32_t version = 0;
  if (!GetFixed32(in, &version)) {
    return Status::Corruption("tree " + std::string(what) + ": truncated header");
  }
  if (version != known_version) {
    return Status::FailedPrecondition("tree " + std::string(what) + " is a " + std::string(kind) +
                                      " of format version " + std::to_string(version) +
                                      ", which this Proxima does not know; upgrade Proxima");
  }
  return Status::Ok();
}

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
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
  PROXIMA_RETURN_IF_ERROR(ReadHeader(&in, kTreeMagic, kTreeVersion, "tree object", what));
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

bool IsTreeDelta(std::string_view stored) {
  return stored.substr(0, kDeltaMagic.size()) == kDeltaMagic;
}

Result<TreeDelta> ParseTreeDelta(std::string_view in, std::string_view what) {
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption("tree " + std::string(what) + ": " + std::string(why));
  };
  PROXIMA_RETURN_IF_ERROR(ReadHeader(&in, kDeltaMagic, kDeltaVersion, "tree delta", what));
  TreeDelta d;
  std::string_view base;
  if (!GetBytes(&in, 32, &base) || !GetVarint64(&in, &d.raw_length)) {
    return corrupt("truncated delta header");
  }
  if (d.raw_length > kMaxTreeBytes) return corrupt("delta claims an oversized tree");
  d.base = ObjectId(reinterpret_cast<const uint8_t*>(base.data()));
  d.frame = in;
  return d;
}

std::string EncodeTreeDelta(const ObjectId& base, std::string_view base_full,
                            std::string_view full) {
  std::string out(kDeltaMagic);
  PutFixed32(&out, kDeltaVersion);
  out.append(base.view());
  PutVarint64(&out, full.size());
  // A context per thread, reset per use: creating one costs more than
  // compressing a folder of a hundred files.
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_windowLog,
                         WindowLogFor(base_full.size() + full.size()));
  ZSTD_CCtx_refPrefix(cctx.get(), base_full.data(), base_full.size());
  size_t header = out.size();
  out.resize(header + ZSTD_compressBound(full.size()));
  size_t n = ZSTD_compress2(cctx.get(), out.data() + header, out.size() - header, full.data(),
                            full.size());
  // Compressing into a buffer of the bound cannot fail but for lack of
  // memory; a caller that sees an empty result stores the tree in full.
  if (ZSTD_isError(n)) return std::string();
  out.resize(header + n);
  return out;
}

Result<std::string> ApplyTreeDelta(const TreeDelta& delta, std::string_view base_full,
                                   std::string_view what) {
  auto corrupt = [&] {
    return Status::Corruption("tree " + std::string(what) +
                              ": delta does not decode against base " + delta.base.ShortHex());
  };
  if (ZSTD_getFrameContentSize(delta.frame.data(), delta.frame.size()) != delta.raw_length) {
    return corrupt();
  }
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, WindowLogFor(kMaxTreeBytes * 2));
  ZSTD_DCtx_refPrefix(dctx.get(), base_full.data(), base_full.size());
  // The output grows as it decodes, so a forged length costs nothing until
  // the frame really produces the bytes.
  std::string out(std::min<uint64_t>(delta.raw_length, 1 << 20), '\0');
  ZSTD_inBuffer in{delta.frame.data(), delta.frame.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  for (;;) {
    size_t rc = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(rc)) return corrupt();
    if (rc == 0) break;  // the frame is complete
    if (o.pos == o.size) {
      if (out.size() == delta.raw_length) return corrupt();  // longer than it said
      out.resize(std::min<uint64_t>(delta.raw_length, out.size() * 2));
      o.dst = out.data();
      o.size = out.size();
    } else if (in.pos == in.size) {
      return corrupt();  // truncated
    }
  }
  if (o.pos != delta.raw_length || in.pos != in.size) return corrupt();
  return out;
}

}  // namespace proxima

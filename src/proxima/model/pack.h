#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/result.h"
#include "proxima/model/keys.h"

namespace proxima {

enum class BlobEncoding : uint8_t { kRaw = 0, kZstd = 1 };

// The largest blob any valid store holds: its chunker's largest chunk is at
// most this (model/commit.cc).
inline constexpr uint64_t kMaxBlobBytes = uint64_t{256} << 20;

// Where one blob sits inside a pack (docs/format.md, "Pack objects").
struct PackedBlob {
  ObjectId id;  // SHA-256 of the raw bytes
  uint64_t offset = 0;
  uint64_t stored_length = 0;
  uint64_t raw_length = 0;
  BlobEncoding encoding = BlobEncoding::kRaw;

  bool operator==(const PackedBlob&) const = default;
};

// Builds one pack in memory. Not thread-safe.
class PackBuilder {
 public:
  // `buffer` is storage to reuse (its content is discarded).
  explicit PackBuilder(AlignedBuffer buffer = AlignedBuffer());

  // Appends a blob whose id is SHA-256(raw). When `try_compress` is set the
  // blob is stored zstd-compressed if a probe of its start compresses and the
  // whole blob then saves at least an eighth.
  void Add(const ObjectId& id, std::string_view raw, bool try_compress);

  size_t size_bytes() const { return data_.size(); }
  size_t capacity() const { return data_.capacity(); }
  size_t blob_count() const { return blobs_.size(); }
  bool empty() const { return blobs_.empty(); }

  // Appends the trailer and footer and returns the finished pack (in
  // 4096-aligned memory, ready for O_DIRECT); the builder starts a new pack in
  // `next` (storage to reuse). `blobs` receives the blob table.
  // `id`, when not null, receives the pack's id (see PackIdOf).
  AlignedBuffer Finish(std::vector<PackedBlob>* blobs, AlignedBuffer next = AlignedBuffer(),
                       ObjectId* id = nullptr);

 private:
  void StartPack();
  AlignedBuffer data_;
  std::vector<PackedBlob> blobs_;
};

// Parses the trailer of a complete pack. `what` names the pack in errors.
Result<std::vector<PackedBlob>> ReadPackTrailer(std::string_view pack, std::string_view what);
// The same from the end of a pack of `pack_size` bytes: `tail` holds at
// least its trailer and footer, as two ranged reads get
// them without the content.
Result<std::vector<PackedBlob>> ParsePackTail(std::string_view tail, uint64_t pack_size,
                                              std::string_view what);
// The footer's size: read these last bytes first to learn the trailer's length.
inline constexpr uint64_t kPackFooterSize = 12;

// A pack's id: SHA-256 of its trailer and footer. The trailer lists the id
// (SHA-256 of the content) of every blob with its place, so the pack id
// commits to all of the pack's content like a Merkle root, without hashing
// the content twice (docs/format.md). Corruption if the footer is damaged.
Result<ObjectId> PackIdOf(std::string_view pack, std::string_view what);

// Checks a whole pack: its trailer hashes to `id`, and every blob decodes
// and hashes to its id. Returns the blob table.
Result<std::vector<PackedBlob>> VerifyPack(std::string_view pack, const ObjectId& id,
                                           std::string_view what);

// Decodes the stored bytes of one blob and verifies SHA-256 of the result
// against `blob.id`; a mismatch is Corruption naming `what` and the blob.
// The content is returned without a copy: `stored` itself for a raw blob,
// or decompressed into `*scratch`; the view lives as long as both.
Result<std::string_view> DecodeBlob(std::string_view stored, const PackedBlob& blob,
                                    std::string_view what, std::string* scratch);

// An index object: the blob tables of a set of packs (docs/format.md).
struct IndexedPack {
  ObjectId pack;
  std::vector<PackedBlob> blobs;
};
std::string EncodeIndex(const std::vector<IndexedPack>& packs);
Result<std::vector<IndexedPack>> DecodeIndex(std::string_view bytes, std::string_view what);
// Decodes an index object without building it in memory: `pack` is called
// for each pack, then `blob` for each of its blobs.
Status VisitIndex(std::string_view bytes, std::string_view what,
                  const std::function<void(const ObjectId& pack)>& pack,
                  const std::function<void(const PackedBlob& blob)>& blob);

}  // namespace proxima

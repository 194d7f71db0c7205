#include "proxima/model/pack.h"

#include <zstd.h>

#include "proxima/base/coding.h"

namespace proxima {

namespace {

constexpr std::string_view kPackMagic = "PROXPACK";
constexpr std::string_view kPackEnd = "PACK-END";
constexpr std::string_view kIndexMagic = "PROXIDX1";
constexpr uint32_t kVersion = 1;
constexpr size_t kFooterSize = 4 + 8;
constexpr size_t kProbeSize = 4096;

void PutBlobRecord(std::string* out, const PackedBlob& b) {
  out->append(b.id.view());
  PutVarint64(out, b.offset);
  PutVarint64(out, b.stored_length);
  PutVarint64(out, b.raw_length);
  out->push_back(static_cast<char>(b.encoding));
}

bool GetBlobRecord(std::string_view* in, PackedBlob* b) {
  std::string_view id;
  if (!GetBytes(in, 32, &id) || !GetVarint64(in, &b->offset) ||
      !GetVarint64(in, &b->stored_length) || !GetVarint64(in, &b->raw_length) || in->empty()) {
    return false;
  }
  b->id = ObjectId(reinterpret_cast<const uint8_t*>(id.data()));
  auto enc = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  if (enc > 1) return false;
  b->encoding = static_cast<BlobEncoding>(enc);
  return true;
}

bool CompressesWell(std::string_view raw, std::string* out) {
  size_t bound = ZSTD_compressBound(raw.size());
  out->resize(bound);
  size_t n = ZSTD_compress(out->data(), bound, raw.data(), raw.size(), 1);
  if (ZSTD_isError(n)) return false;
  out->resize(n);
  return n + raw.size() / 8 <= raw.size();
}

}  // namespace

PackBuilder::PackBuilder(AlignedBuffer buffer) : data_(std::move(buffer)) { StartPack(); }

void PackBuilder::StartPack() {
  data_.Clear();
  std::string header(kPackMagic);
  PutFixed32(&header, kVersion);
  data_.Append(header);
}

void PackBuilder::Add(const ObjectId& id, std::string_view raw, bool try_compress) {
  PackedBlob b;
  b.id = id;
  b.offset = data_.size();
  b.raw_length = raw.size();
  std::string compressed;
  if (try_compress && raw.size() >= 512 && CompressesWell(raw.substr(0, kProbeSize), &compressed) &&
      (raw.size() <= kProbeSize || CompressesWell(raw, &compressed))) {
    b.encoding = BlobEncoding::kZstd;
    data_.Append(compressed);
  } else {
    data_.Append(raw);
  }
  b.stored_length = data_.size() - b.offset;
  blobs_.push_back(b);
}

AlignedBuffer PackBuilder::Finish(std::vector<PackedBlob>* blobs, AlignedBuffer next,
                                  ObjectId* id) {
  std::string trailer;
  trailer.reserve(blobs_.size() * 45 + 16);
  PutVarint64(&trailer, blobs_.size());
  for (const PackedBlob& b : blobs_) PutBlobRecord(&trailer, b);
  PutFixed32(&trailer, static_cast<uint32_t>(trailer.size()));
  trailer.append(kPackEnd);
  data_.Append(trailer);
  if (id != nullptr) *id = Sha256(trailer);
  *blobs = std::move(blobs_);
  blobs_.clear();
  AlignedBuffer out = std::move(data_);
  data_ = std::move(next);
  StartPack();
  return out;
}

Result<std::vector<PackedBlob>> ReadPackTrailer(std::string_view pack, std::string_view what) {
  if (pack.size() < kPackMagic.size() + 4 + kFooterSize ||
      pack.substr(0, kPackMagic.size()) != kPackMagic) {
    return Status::Corruption("pack " + std::string(what) + ": not a pack object or truncated");
  }
  std::string_view header = pack.substr(kPackMagic.size(), 4);
  uint32_t version = 0;
  GetFixed32(&header, &version);
  if (version != kVersion) {
    return Status::Corruption("pack " + std::string(what) + ": unknown pack version " +
                              std::to_string(version));
  }
  return ParsePackTail(pack, pack.size(), what);
}

Result<std::vector<PackedBlob>> ParsePackTail(std::string_view tail, uint64_t pack_size,
                                              std::string_view what) {
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption("pack " + std::string(what) + ": " + std::string(why));
  };
  if (tail.size() < kFooterSize || tail.size() > pack_size ||
      pack_size < kPackMagic.size() + 4 + kFooterSize ||
      tail.substr(tail.size() - kPackEnd.size()) != kPackEnd) {
    return corrupt("not a pack object or truncated");
  }
  std::string_view footer = tail.substr(tail.size() - kFooterSize, 4);
  uint32_t trailer_len = 0;
  GetFixed32(&footer, &trailer_len);
  if (trailer_len > pack_size - kFooterSize - kPackMagic.size() - 4 ||
      trailer_len > tail.size() - kFooterSize) {
    return corrupt("bad trailer length");
  }
  uint64_t trailer_start = pack_size - kFooterSize - trailer_len;
  std::string_view in = tail.substr(tail.size() - kFooterSize - trailer_len, trailer_len);
  uint64_t count = 0;
  if (!GetVarint64(&in, &count) || count > in.size() / 33) return corrupt("bad blob count");
  std::vector<PackedBlob> blobs(count);
  for (PackedBlob& b : blobs) {
    if (!GetBlobRecord(&in, &b) || b.offset + b.stored_length > trailer_start ||
        b.offset < kPackMagic.size() + 4) {
      return corrupt("bad blob record");
    }
  }
  if (!in.empty()) return corrupt("trailing bytes in trailer");
  return blobs;
}

Result<ObjectId> PackIdOf(std::string_view pack, std::string_view what) {
  if (pack.size() < kFooterSize || pack.substr(pack.size() - kPackEnd.size()) != kPackEnd) {
    return Status::Corruption("pack " + std::string(what) + ": not a pack object or truncated");
  }
  std::string_view footer = pack.substr(pack.size() - kFooterSize, 4);
  uint32_t trailer_len = 0;
  GetFixed32(&footer, &trailer_len);
  if (trailer_len > pack.size() - kFooterSize) {
    return Status::Corruption("pack " + std::string(what) + ": bad trailer length");
  }
  return Sha256(pack.substr(pack.size() - kFooterSize - trailer_len));
}

Result<std::vector<PackedBlob>> VerifyPack(std::string_view pack, const ObjectId& id,
                                           std::string_view what) {
  PROXIMA_ASSIGN_OR_RETURN(ObjectId actual, PackIdOf(pack, what));
  if (actual != id) {
    return Status::Corruption("pack " + std::string(what) + " does not match its id");
  }
  PROXIMA_ASSIGN_OR_RETURN(std::vector<PackedBlob> blobs, ReadPackTrailer(pack, what));
  std::string scratch;
  for (const PackedBlob& b : blobs) {
    PROXIMA_RETURN_IF_ERROR(
        DecodeBlob(pack.substr(b.offset, b.stored_length), b, what, &scratch).status());
  }
  return blobs;
}

Result<std::string_view> DecodeBlob(std::string_view stored, const PackedBlob& blob,
                                    std::string_view what, std::string* scratch) {
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption("blob " + blob.id.Hex() + " in pack " + std::string(what) + ": " +
                              std::string(why));
  };
  if (stored.size() != blob.stored_length) return corrupt("truncated");
  std::string_view raw;
  if (blob.encoding == BlobEncoding::kRaw) {
    raw = stored;
  } else {
    // No blob of a valid store is larger than the chunker's largest chunk
    // (at most 256 MiB, model/commit.cc), and a frame that states its length
    // (Proxima's always do) must state the record's: a small frame claiming
    // gigabytes gets no memory.
    if (blob.raw_length > kMaxBlobBytes) return corrupt("implausible length");
    unsigned long long declared = ZSTD_getFrameContentSize(stored.data(), stored.size());
    if (declared == ZSTD_CONTENTSIZE_ERROR ||
        (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != blob.raw_length)) {
      return corrupt("its frame declares another length");
    }
    scratch->resize(blob.raw_length);
    size_t n = ZSTD_decompress(scratch->data(), scratch->size(), stored.data(), stored.size());
    if (ZSTD_isError(n) || n != blob.raw_length) return corrupt("cannot decompress");
    raw = *scratch;
  }
  if (raw.size() != blob.raw_length) return corrupt("wrong length");
  if (Sha256(raw) != blob.id) return corrupt("content does not match its hash");
  return raw;
}

std::string EncodeIndex(const std::vector<IndexedPack>& packs) {
  std::string out;
  out.append(kIndexMagic);
  PutFixed32(&out, kVersion);
  PutVarint64(&out, packs.size());
  for (const IndexedPack& p : packs) {
    out.append(p.pack.view());
    PutVarint64(&out, p.blobs.size());
    for (const PackedBlob& b : p.blobs) PutBlobRecord(&out, b);
  }
  return out;
}

Status VisitIndex(std::string_view in, std::string_view what,
                  const std::function<void(const ObjectId& pack)>& pack,
                  const std::function<void(const PackedBlob& blob)>& blob) {
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption("index " + std::string(what) + ": " + std::string(why));
  };
  if (in.substr(0, kIndexMagic.size()) != kIndexMagic) return corrupt("not an index object");
  in.remove_prefix(kIndexMagic.size());
  uint32_t version = 0;
  if (!GetFixed32(&in, &version) || version != kVersion) return corrupt("unknown version");
  uint64_t npacks = 0;
  if (!GetVarint64(&in, &npacks) || npacks > in.size() / 33) return corrupt("bad pack count");
  for (uint64_t p = 0; p < npacks; ++p) {
    std::string_view id;
    uint64_t nblobs = 0;
    if (!GetBytes(&in, 32, &id) || !GetVarint64(&in, &nblobs) || nblobs > in.size() / 33) {
      return corrupt("truncated");
    }
    pack(ObjectId(reinterpret_cast<const uint8_t*>(id.data())));
    for (uint64_t i = 0; i < nblobs; ++i) {
      PackedBlob b;
      if (!GetBlobRecord(&in, &b)) return corrupt("bad blob record");
      blob(b);
    }
  }
  if (!in.empty()) return corrupt("trailing bytes");
  return Status::Ok();
}

Result<std::vector<IndexedPack>> DecodeIndex(std::string_view in, std::string_view what) {
  std::vector<IndexedPack> packs;
  PROXIMA_RETURN_IF_ERROR(VisitIndex(
      in, what,
      [&](const ObjectId& id) {
        packs.push_back({id, {}});
      },
      [&](const PackedBlob& b) { packs.back().blobs.push_back(b); }));
  return packs;
}

}  // namespace proxima

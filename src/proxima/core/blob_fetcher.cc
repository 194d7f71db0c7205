#include "proxima/core/blob_fetcher.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/parallel.h"

namespace proxima {

Status FetchBlobs(Repository& repo, const BlobIndex& index, const std::vector<ObjectId>& blobs,
                  int threads, Progress* progress,
                  const std::function<Status(const ObjectId&, std::string_view)>& deliver) {
  std::map<uint32_t, std::vector<PackedBlob>> by_pack;
  for (const ObjectId& id : blobs) {
    const BlobIndex::Location* loc = index.Find(id);
    if (loc == nullptr) {
      return Status::Corruption("blob " + id.Hex() + " is not in any index of store " +
                                repo.store().Describe() + " (run 'proxima data fsck')");
    }
    by_pack[loc->pack].push_back(index.ToPackedBlob(id, *loc));
  }
  std::vector<std::pair<uint32_t, std::vector<PackedBlob>>> work(by_pack.begin(), by_pack.end());
  for (auto& [pack, list] : work) {
    std::sort(list.begin(), list.end(),
              [](const PackedBlob& a, const PackedBlob& b) { return a.offset < b.offset; });
    list.erase(std::unique(list.begin(), list.end(),
                           [](const PackedBlob& a, const PackedBlob& b) { return a.id == b.id; }),
               list.end());
  }
  // Pack spans are read into buffers reused pack after pack (a fresh 16 MiB
  // string per pack cost a zero-fill and 4,096 page faults); they are freed
  // when the fetch ends.
  AlignedBufferPool buffers(static_cast<size_t>(std::max(threads, 1)), SIZE_MAX);
  return ParallelFor(work.size(), threads, [&](size_t w) -> Status {
    const ObjectId& pack_id = index.PackId(work[w].first);
    const std::vector<PackedBlob>& list = work[w].second;
    std::string key = ObjectKey(ObjectKind::kPack, pack_id);
    uint64_t start = list.front().offset;
    uint64_t end = list.back().offset + list.back().stored_length;
    uint64_t wanted = 0;
    for (const PackedBlob& b : list) wanted += b.stored_length;
    auto deliver_from = [&](std::string_view bytes, uint64_t base, const PackedBlob& b) -> Status {
      if (b.offset < base || b.offset - base + b.stored_length > bytes.size()) {
        return Status::Corruption("pack '" + key + "' in " + repo.store().Describe() +
                                  " is truncated (blob " + b.id.ShortHex() + " lies past its end)");
      }
      std::string_view stored(bytes.data() + (b.offset - base), b.stored_length);
      std::string scratch;  // only compressed blobs need one; raw ones are not copied
      PROXIMA_ASSIGN_OR_RETURN(std::string_view raw, DecodeBlob(stored, b, key, &scratch));
      PROXIMA_RETURN_IF_ERROR(deliver(b.id, raw));
      AddBytes(progress, raw.size());
      return Status::Ok();
    };
    // Blobs are verified before they are delivered. One that fails is read
    // again (from it to the end of the span) up to kVerifiedReadAttempts
    // times in all, since a body damaged in transit reads fine the next time.
    bool one_span = end - start <= 2 * wanted + (1 << 20);
    AlignedBufferPool::Lease buffer(&buffers);
    size_t next = 0;
    int bad_reads = 0;
    while (next < list.size()) {
      uint64_t base = list[next].offset;
      uint64_t length = one_span ? end - base : list[next].stored_length;
      PROXIMA_ASSIGN_OR_RETURN(std::string_view bytes,
                               repo.store().GetRangeInto(key, base, length, &*buffer));
      for (; next < list.size(); ++next) {
        if (!one_span && list[next].offset != base) break;  // fetch the next one alone
        Status s = deliver_from(bytes, base, list[next]);
        if (s.IsCorruption() && ++bad_reads < Repository::kVerifiedReadAttempts) break;
        PROXIMA_RETURN_IF_ERROR(s);
      }
    }
    return Status::Ok();
  });
}

}  // namespace proxima

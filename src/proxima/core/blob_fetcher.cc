#include "proxima/core/blob_fetcher.h"

#include <algorithm>
#include <map>

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
  return ParallelFor(work.size(), threads, [&](size_t w) -> Status {
    const ObjectId& pack_id = index.PackId(work[w].first);
    const std::vector<PackedBlob>& list = work[w].second;
    std::string key = ObjectKey(ObjectKind::kPack, pack_id);
    uint64_t start = list.front().offset;
    uint64_t end = list.back().offset + list.back().stored_length;
    uint64_t wanted = 0;
    for (const PackedBlob& b : list) wanted += b.stored_length;
    auto deliver_from = [&](const std::string& bytes, uint64_t base,
                            const PackedBlob& b) -> Status {
      if (b.offset < base || b.offset - base + b.stored_length > bytes.size()) {
        return Status::Corruption("pack '" + key + "' in " + repo.store().Describe() +
                                  " is truncated (blob " + b.id.ShortHex() + " lies past its end)");
      }
      std::string_view stored(bytes.data() + (b.offset - base), b.stored_length);
      PROXIMA_ASSIGN_OR_RETURN(std::string raw, DecodeBlob(stored, b, key));
      PROXIMA_RETURN_IF_ERROR(deliver(b.id, raw));
      AddBytes(progress, raw.size());
      return Status::Ok();
    };
    if (end - start <= 2 * wanted + (1 << 20)) {
      PROXIMA_ASSIGN_OR_RETURN(std::string span, repo.store().GetRange(key, start, end - start));
      for (const PackedBlob& b : list) PROXIMA_RETURN_IF_ERROR(deliver_from(span, start, b));
    } else {
      for (const PackedBlob& b : list) {
        PROXIMA_ASSIGN_OR_RETURN(std::string one,
                                 repo.store().GetRange(key, b.offset, b.stored_length));
        PROXIMA_RETURN_IF_ERROR(deliver_from(one, b.offset, b));
      }
    }
    return Status::Ok();
  });
}

}  // namespace proxima

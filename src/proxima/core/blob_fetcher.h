#pragma once

#include <functional>
#include <string>
#include <vector>

#include "proxima/core/progress.h"
#include "proxima/core/repository.h"

namespace proxima {

// Reads many blobs from the store pack by pack: each pack is fetched once
// (the span of the wanted blobs, or one range per blob when they are
// sparse), every blob is decoded and verified against its id, then handed to
// `deliver`. Packs are processed in parallel on `threads` threads; `deliver`
// must be thread-safe. Corruption names the pack and the blob; a wanted blob
// that no index lists is Corruption too.
Status FetchBlobs(Repository& repo, const BlobIndex& index, const std::vector<ObjectId>& blobs,
                  int threads, Progress* progress,
                  const std::function<Status(const ObjectId&, std::string_view)>& deliver);

}  // namespace proxima

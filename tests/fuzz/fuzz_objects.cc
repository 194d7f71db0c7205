// libFuzzer target: the decoders of on-store objects (model/), which read
// bytes from a store, or, on a hub, from any client with write access. The
// first byte picks the decoder. Errors must be Corruption with a message;
// nothing may crash, leak or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxima/core/object_check.h"
#include "proxima/model/commit.h"
#include "proxima/model/pack.h"
#include "proxima/model/tree.h"

namespace {

void MustBeCleanError(const proxima::Status& s) {
  if (s.ok()) return;
  if (s.message().empty()) std::abort();
  if (s.code() != proxima::StatusCode::kCorruption &&
      s.code() != proxima::StatusCode::kInvalidArgument &&
      s.code() != proxima::StatusCode::kFailedPrecondition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace proxima;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 6: {
      // A tree delta against a fixed base: parse, decode, and the result must
      // then decode as a tree or fail cleanly.
      static const std::string base = [] {
        Tree t;
        for (int i = 0; i < 20; ++i) {
          TreeEntry e;
          e.name = "file_" + std::to_string(100 + i);
          e.mode = 0644;
          e.size = 10;
          e.chunks = {Sha256(e.name)};
          t.entries.push_back(e);
        }
        return EncodeTree(t);
      }();
      auto delta = ParseTreeDelta(in, "fuzz");
      MustBeCleanError(delta.status());
      if (delta.ok()) {
        auto full = ApplyTreeDelta(*delta, base, "fuzz");
        MustBeCleanError(full.status());
        if (full.ok()) MustBeCleanError(DecodeTree(*full, "fuzz").status());
      }
      break;
    }
    case 0:
      MustBeCleanError(DecodeTree(in, "fuzz").status());
      break;
    case 1:
      MustBeCleanError(DecodeCommit(in, "fuzz").status());
      break;
    case 2:
      MustBeCleanError(DecodeIndex(in, "fuzz").status());
      break;
    case 3: {
      auto blobs = ReadPackTrailer(in, "fuzz");
      MustBeCleanError(blobs.status());
      if (blobs.ok()) {
        std::string scratch;
        for (const PackedBlob& b : *blobs) {
          MustBeCleanError(
              DecodeBlob(in.substr(b.offset, b.stored_length), b, "fuzz", &scratch).status());
        }
      }
      break;
    }
    case 4:
      MustBeCleanError(DecodeStoreConfig(in, "fuzz").status());
      break;
    default:
      MustBeCleanError(VerifyObjectBytes("data/00/" + std::string(64, '0'), in));
      break;
  }
  return 0;
}

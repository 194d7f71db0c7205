#include "proxima/core/object_check.h"

#include <gtest/gtest.h>

#include "proxima/model/keys.h"
#include "proxima/model/pack.h"

namespace proxima {
namespace {

struct Pack {
  std::string bytes;
  std::string key;
};

Pack MakePack() {
  PackBuilder builder;
  builder.Add(Sha256("first blob"), "first blob", false);
  builder.Add(Sha256("second blob"), "second blob", false);
  std::vector<PackedBlob> blobs;
  ObjectId id;
  AlignedBuffer buffer = builder.Finish(&blobs, AlignedBuffer(), &id);
  return {std::string(buffer.view()), ObjectKey(ObjectKind::kPack, id)};
}

TEST(VerifyObjectBytes, ChecksEveryBlobOfAPackByDefault) {
  Pack p = MakePack();
  EXPECT_TRUE(VerifyObjectBytes(p.key, p.bytes).ok());
  std::string damaged = p.bytes;
  damaged[12] ^= 1;  // inside the first blob; the trailer is intact
  EXPECT_TRUE(VerifyObjectBytes(p.key, damaged).IsCorruption());
  // Trailer-only verification (trusted writers) lets a damaged blob through,
  // which readers then catch; a damaged trailer it still refuses.
  EXPECT_TRUE(VerifyObjectBytes(p.key, damaged, /*pack_blobs=*/false).ok());
  std::string bad_trailer = p.bytes;
  bad_trailer[bad_trailer.size() - 20] ^= 1;
  EXPECT_TRUE(VerifyObjectBytes(p.key, bad_trailer, /*pack_blobs=*/false).IsCorruption());
}

TEST(VerifyObjectBytes, MetadataObjectsMustHashToTheirKeys) {
  std::string tree = "some tree bytes";
  EXPECT_TRUE(VerifyObjectBytes(ObjectKey(ObjectKind::kTree, Sha256(tree)), tree).ok());
  Status s = VerifyObjectBytes(ObjectKey(ObjectKind::kCommit, Sha256(tree)), "other");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("commits/"), std::string::npos);
  EXPECT_EQ(VerifyObjectBytes("not/a/key", "x").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace proxima

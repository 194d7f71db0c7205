#include <gtest/gtest.h>

#include <cstdio>

#include "proxima/base/coding.h"
#include "proxima/model/commit.h"
#include "proxima/model/keys.h"
#include "proxima/model/names.h"
#include "proxima/model/pack.h"
#include "proxima/model/tree.h"

namespace proxima {
namespace {

TEST(Names, RejectsTraversalAndSeparators) {
  EXPECT_TRUE(ValidateEntryName("img_0001.png", "t").ok());
  EXPECT_TRUE(ValidateEntryName("caf\xc3\xa9", "t").ok());
  EXPECT_TRUE(ValidateEntryName("not-utf8-\xff", "t").ok());  // stored as bytes
  EXPECT_TRUE(ValidateEntryName("new\nline", "t").ok());
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "a/b", "/etc", std::string("nul\0x", 5)}) {
    EXPECT_TRUE(ValidateEntryName(bad, "tree x").IsCorruption()) << QuotePath(bad);
  }
  EXPECT_TRUE(ValidateRelativePath("a/b/c").ok());
  EXPECT_FALSE(ValidateRelativePath("a/../b").ok());
  EXPECT_FALSE(ValidateRelativePath("/abs").ok());
}

TEST(Names, QuotesUnprintableAndNonUtf8Paths) {
  EXPECT_EQ(QuotePath("plain/path.png"), "plain/path.png");
  EXPECT_EQ(QuotePath("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(QuotePath("new\nline"), "\"new\\nline\"");
  EXPECT_EQ(QuotePath("bad\xff"), "\"bad\\xff\"");
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
}

TEST(Names, DatasetNames) {
  EXPECT_TRUE(ValidateDatasetName("xray-2024.v1_b").ok());
  for (const char* bad : {"", "-x", ".x", "a b", "a/b", "a@b"}) {
    EXPECT_EQ(ValidateDatasetName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Keys, RoundTripWithFanOut) {
  ObjectId id = Sha256("x");
  std::string key = ObjectKey(ObjectKind::kPack, id);
  EXPECT_EQ(key, "data/" + id.Hex().substr(0, 2) + "/" + id.Hex());
  EXPECT_EQ(IdFromKey(ObjectKind::kPack, key), id);
  EXPECT_EQ(ObjectKey(ObjectKind::kCommit, id), "commits/" + id.Hex());
  EXPECT_FALSE(IdFromKey(ObjectKind::kTree, key).has_value());
}

Tree SampleTree() {
  Tree t;
  TreeEntry dir;
  dir.name = "a";
  dir.type = EntryType::kDirectory;
  dir.mode = 0755;
  dir.tree = Sha256("sub");
  dir.file_count = 3;
  dir.size = 300;
  TreeEntry file;
  file.name = "b.png";
  file.mode = 0644;
  file.size = 10;
  file.chunks = {Sha256("c1"), Sha256("c2")};
  TreeEntry link;
  link.name = "c";
  link.type = EntryType::kSymlink;
  link.mode = 0777;
  link.target = "../outside";
  link.size = link.target.size();
  t.entries = {dir, file, link};
  return t;
}

TEST(Tree, RoundTrips) {
  Tree t = SampleTree();
  auto decoded = DecodeTree(EncodeTree(t), "t");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->entries, t.entries);
}

TEST(Tree, RejectsTamperedNamesOrderAndTruncation) {
  std::string good = EncodeTree(SampleTree());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeTree(good.substr(0, cut), "t").ok()) << cut;
  }
  EXPECT_FALSE(DecodeTree(good + "x", "t").ok());
  // Build a tree whose entry is named ".." by hand, as a tamperer would.
  std::string evil = "PROXTREE";
  PutFixed32(&evil, 1);
  PutVarint64(&evil, 1);
  PutLengthPrefixed(&evil, "..");
  evil.push_back(1);
  PutVarint64(&evil, 0644);
  PutVarint64(&evil, 0);
  PutVarint64(&evil, 0);
  auto r = DecodeTree(evil, "trees/evil");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("trees/evil"), std::string::npos);
  EXPECT_NE(r.status().message().find("traversal"), std::string::npos);
  // Duplicate (so not strictly sorted) names.
  std::string dup = "PROXTREE";
  PutFixed32(&dup, 1);
  PutVarint64(&dup, 2);
  for (int i = 0; i < 2; ++i) {
    PutLengthPrefixed(&dup, "same");
    dup.push_back(3);
    PutVarint64(&dup, 0777);
    PutLengthPrefixed(&dup, "t");
  }
  EXPECT_TRUE(DecodeTree(dup, "t").status().IsCorruption());
}

Tree FolderOf(int files, uint64_t salt) {
  Tree t;
  for (int i = 0; i < files; ++i) {
    TreeEntry e;
    char name[32];
    std::snprintf(name, sizeof(name), "scan_%05d.png", i);
    e.name = name;
    e.mode = 0644;
    e.size = 1000 + static_cast<uint64_t>(i);
    e.chunks = {Sha256(std::string(name) + std::to_string(i % 50 == 7 ? salt : 0))};
    t.entries.push_back(e);
  }
  return t;
}

TEST(TreeDelta, StoresAFewChangedEntriesInAFractionOfTheTreeAndRestoresItExactly) {
  std::string base = EncodeTree(FolderOf(100, 0));
  std::string next = EncodeTree(FolderOf(100, 1));  // two entries changed
  ASSERT_NE(base, next);
  std::string delta = EncodeTreeDelta(Sha256(base), base, next);
  ASSERT_TRUE(IsTreeDelta(delta));
  EXPECT_FALSE(IsTreeDelta(next));
  EXPECT_LT(delta.size(), next.size() / 10) << delta.size() << " of " << next.size();
  auto parsed = ParseTreeDelta(delta, "trees/x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->base, Sha256(base));
  EXPECT_EQ(parsed->raw_length, next.size());
  auto full = ApplyTreeDelta(*parsed, base, "trees/x");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(*full, next);
  // Against any other base the frame does not reproduce the tree: the
  // reader's hash check (Repository) catches what zstd does not.
  std::string other = EncodeTree(FolderOf(90, 5));
  auto wrong = ApplyTreeDelta(*parsed, other, "trees/x");
  EXPECT_TRUE(!wrong.ok() || *wrong != next);
}

TEST(TreeDelta, RefusesTruncatedDamagedAndUnknownDeltas) {
  std::string base = EncodeTree(FolderOf(60, 0));
  std::string next = EncodeTree(FolderOf(60, 3));
  std::string delta = EncodeTreeDelta(Sha256(base), base, next);
  size_t header = 8 + 4 + 32 + 2;  // magic, version, base id, raw length (2-byte varint)
  for (size_t cut = 0; cut < header; ++cut) {
    EXPECT_FALSE(ParseTreeDelta(delta.substr(0, cut), "t").ok()) << cut;
  }
  for (size_t cut = header; cut < delta.size(); ++cut) {
    std::string truncated = delta.substr(0, cut);  // the parsed delta points into it
    auto d = ParseTreeDelta(truncated, "t");
    ASSERT_TRUE(d.ok());
    auto r = ApplyTreeDelta(*d, base, "trees/t");
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_TRUE(r.status().IsCorruption());
    EXPECT_NE(r.status().message().find("trees/t"), std::string::npos);
  }
  std::string newer = delta;
  newer[8] = 9;  // version 9
  EXPECT_EQ(ParseTreeDelta(newer, "t").status().code(), StatusCode::kFailedPrecondition);
  // A length claim past any real tree is refused before anything is allocated.
  std::string huge(delta.substr(0, 8 + 4 + 32));
  PutVarint64(&huge, uint64_t{1} << 40);
  EXPECT_TRUE(ParseTreeDelta(huge, "t").status().IsCorruption());
}

TEST(Pack, RoundTripsBlobsAndFindsThemThroughTheTrailer) {
  PackBuilder builder;
  std::string a = "hello", b(100000, 'z');
  builder.Add(Sha256(a), a, false);
  builder.Add(Sha256(b), b, true);  // compressible
  std::vector<PackedBlob> blobs;
  std::string pack(builder.Finish(&blobs).view());
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[1].encoding, BlobEncoding::kZstd);
  EXPECT_LT(blobs[1].stored_length, b.size() / 10);
  auto trailer = ReadPackTrailer(pack, "p");
  ASSERT_TRUE(trailer.ok()) << trailer.status().ToString();
  EXPECT_EQ(*trailer, blobs);
  std::string scratch;
  for (size_t i = 0; i < 2; ++i) {
    auto raw = DecodeBlob(std::string_view(pack).substr(blobs[i].offset, blobs[i].stored_length),
                          blobs[i], "p", &scratch);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, i == 0 ? a : b);
  }
}

TEST(Pack, DetectsCorruptedAndTruncatedBlobs) {
  PackBuilder builder;
  std::string a = "some content";
  builder.Add(Sha256(a), a, false);
  std::vector<PackedBlob> blobs;
  std::string pack(builder.Finish(&blobs).view());
  std::string stored = pack.substr(blobs[0].offset, blobs[0].stored_length);
  stored[0] ^= 1;
  std::string scratch;
  auto r = DecodeBlob(stored, blobs[0], "data/aa/pack", &scratch);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("data/aa/pack"), std::string::npos);
  EXPECT_FALSE(DecodeBlob(std::string_view(stored).substr(1), blobs[0], "p", &scratch).ok());
  EXPECT_FALSE(ReadPackTrailer(pack.substr(0, pack.size() - 1), "p").ok());
}

TEST(Pack, ACompressedBlobClaimingGigabytesGetsNoMemory) {
  PackBuilder builder;
  std::string a(100000, 'z');  // compresses well
  builder.Add(Sha256(a), a, true);
  std::vector<PackedBlob> blobs;
  std::string pack(builder.Finish(&blobs).view());
  ASSERT_EQ(blobs[0].encoding, BlobEncoding::kZstd);
  std::string stored = pack.substr(blobs[0].offset, blobs[0].stored_length);
  std::string scratch;
  ASSERT_TRUE(DecodeBlob(stored, blobs[0], "p", &scratch).ok());
  PackedBlob lie = blobs[0];
  lie.raw_length = uint64_t{3} << 30;  // beyond any chunk
  auto r = DecodeBlob(stored, lie, "p", &scratch);
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("implausible"), std::string::npos);
  lie.raw_length = 200000;  // plausible, but not what the frame holds
  r = DecodeBlob(stored, lie, "p", &scratch);
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_LT(scratch.size(), size_t{200000});  // refused before allocating
}

TEST(Index, RoundTrips) {
  std::vector<IndexedPack> packs(2);
  packs[0].pack = Sha256("p0");
  packs[0].blobs = {{Sha256("b"), 12, 5, 5, BlobEncoding::kRaw}};
  packs[1].pack = Sha256("p1");
  auto decoded = DecodeIndex(EncodeIndex(packs), "i");
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].blobs, packs[0].blobs);
  EXPECT_EQ((*decoded)[1].pack, packs[1].pack);
}

TEST(Commit, RoundTripsCanonically) {
  Commit c;
  c.dataset = "xray";
  c.tree = Sha256("t");
  c.parents = {Sha256("p")};
  c.author = "alice@host";
  c.message = "first \xe2\x9c\x93";
  c.time_unix_ns = 1'795'885'500'000'000'000;
  c.stats = {10, 1000, 2, 1};
  c.changes = {10, 0, 0, 1000};
  c.metadata_json = R"({"source":"scanner-3","b":1})";
  auto bytes = EncodeCommit(c);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeCommit(*bytes, "c");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->tree, c.tree);
  EXPECT_EQ(back->parents, c.parents);
  EXPECT_EQ(back->stats, c.stats);
  EXPECT_EQ(back->message, c.message);
  EXPECT_EQ(*EncodeCommit(*back), *bytes);  // canonical: same bytes, same id
}

TEST(Commit, RefusesBadMetadataAndUnknownVersions) {
  Commit c;
  c.metadata_json = "[1,2]";
  EXPECT_EQ(EncodeCommit(c).status().code(), StatusCode::kInvalidArgument);
  c.metadata_json = "{not json";
  EXPECT_EQ(EncodeCommit(c).status().code(), StatusCode::kInvalidArgument);
  auto r = DecodeCommit(R"({"type":"commit","version":9})", "c");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST(StoreConfig, RefusesForeignAndNewerStores) {
  StoreConfig config;
  config.store_id = "abc";
  auto back = DecodeStoreConfig(EncodeStoreConfig(config), "s");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->chunker, config.chunker);
  config.version = StoreConfig::kCurrentVersion + 1;
  auto newer = DecodeStoreConfig(EncodeStoreConfig(config), "/store");
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("upgrade"), std::string::npos);
  EXPECT_EQ(DecodeStoreConfig(R"({"format":"restic"})", "s").status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace proxima

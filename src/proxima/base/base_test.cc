#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/coding.h"
#include "proxima/base/hash.h"
#include "proxima/base/parallel.h"
#include "proxima/base/result.h"

namespace proxima {
namespace {

TEST(Status, CarriesCodeMessageAndContext) {
  Status s = Status::NotFound("object 'x' not found");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  Status c = s.WithContext("clone xray@3f2a");
  EXPECT_EQ(c.code(), StatusCode::kNotFound);
  EXPECT_EQ(c.message(), "clone xray@3f2a: object 'x' not found");
  EXPECT_EQ(c.ToString(), "NotFound: clone xray@3f2a: object 'x' not found");
  EXPECT_TRUE(Status::Unavailable("slow").retryable());
  EXPECT_FALSE(Status::Corruption("bad").retryable());
}

TEST(Status, MapsErrnoToCodes) {
  EXPECT_EQ(ErrnoStatus(ENOENT, "f").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus(EACCES, "f").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus(ENOSPC, "f").code(), StatusCode::kResourceExhausted);
  EXPECT_NE(ErrnoStatus(ENOSPC, "cannot write 'a'").message().find("cannot write 'a'"),
            std::string::npos);
}

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  PROXIMA_ASSIGN_OR_RETURN(int h, Half(v));
  return Half(h);
}

TEST(Result, PropagatesErrorsThroughMacros) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
}

TEST(Hash, MatchesTheSha256TestVectors) {
  EXPECT_EQ(Sha256("abc").Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("").Hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256Stream stream;
  stream.Update("a");
  stream.Update("bc");
  EXPECT_EQ(stream.Finish(), Sha256("abc"));
  stream.Update("abc");
  EXPECT_EQ(stream.Finish(), Sha256("abc"));  // reusable after Finish
}

TEST(Hash, ParsesHexStrictly) {
  Hash256 h = Sha256("x");
  EXPECT_EQ(Hash256::FromHex(h.Hex()), h);
  EXPECT_FALSE(Hash256::FromHex(h.Hex().substr(1)).has_value());
  EXPECT_FALSE(Hash256::FromHex(std::string(64, 'g')).has_value());
}

TEST(Coding, RoundTripsVarintsAndRejectsTruncation) {
  std::string buf;
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 300ULL, ~0ULL}) PutVarint64(&buf, v);
  std::string_view in = buf;
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 300ULL, ~0ULL}) {
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
  std::string truncated = "\x80\x80";
  std::string_view t = truncated;
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&t, &v));
}

TEST(ParallelFor, RunsEveryIndexAndReturnsTheFirstError) {
  std::vector<int> hits(1000, 0);
  ASSERT_TRUE(ParallelFor(hits.size(), 4, [&](size_t i) {
                hits[i]++;
                return Status::Ok();
              }).ok());
  for (int h : hits) EXPECT_EQ(h, 1);
  Status s = ParallelFor(
      100, 4, [&](size_t i) { return i == 10 ? Status::Corruption("ten") : Status::Ok(); });
  EXPECT_TRUE(s.IsCorruption());
}

}  // namespace
}  // namespace proxima

namespace proxima {
namespace {

TEST(AlignedBufferPool, HandsBackKeptBuffersUpToItsLimits) {
  AlignedBufferPool pool(/*max_kept=*/2, /*max_bytes=*/1 << 20);
  {
    AlignedBufferPool::Lease a(&pool), b(&pool), c(&pool);
    a->Resize(100 << 10);
    b->Resize(200 << 10);
    c->Resize(2 << 20);  // over max_bytes: released, not kept
  }
  AlignedBufferPool::Lease x(&pool), y(&pool), z(&pool);
  size_t kept = 0;
  for (AlignedBuffer* buf : {&*x, &*y, &*z}) {
    EXPECT_TRUE(buf->empty());
    if (buf->capacity() > 0) {
      ++kept;
      EXPECT_LE(buf->capacity(), size_t{1} << 20);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(buf->data()) % AlignedBuffer::kAlignment, 0u);
    }
  }
  EXPECT_EQ(kept, 2u);
}

}  // namespace
}  // namespace proxima

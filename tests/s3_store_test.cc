// What the S3 adapter does beyond the ObjectStore contract, against the real
// S3 server of the test run (Ceph RGW): multipart aborts, presigned URLs,
// credentials and buckets that are wrong, both addressing styles.
#include <gtest/gtest.h>

#include "proxima/adapters/http_client.h"
#include "proxima/adapters/retrying_object_store.h"
#include "s3_test_util.h"
#include "test_util.h"

namespace proxima {
namespace {

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = testing::S3TestConfig("s3store");
    if (!config) GTEST_SKIP() << "no S3 server (see scripts/services/rgw-start)";
    config_ = *config;
    store_ = std::make_unique<S3ObjectStore>(config_, testing::TestSystemClock());
  }
  S3Config config_;
  std::unique_ptr<S3ObjectStore> store_;
};

TEST_F(S3StoreTest, AFailedMultipartUploadIsAbortedAndLeavesNoParts) {
  // RGW, like AWS, refuses parts under 5 MiB when the upload completes
  // (EntityTooSmall): a real failure after the parts were stored.
  config_.multipart_threshold = 2 << 20;
  config_.part_size = 1 << 20;
  S3ObjectStore small_parts(config_, testing::TestSystemClock());
  Status s = small_parts.Put("data/mp/too-small", testing::RandomBytes(3 << 20, 3));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("EntityTooSmall"), std::string::npos) << s.ToString();
  EXPECT_TRUE(small_parts.Get("data/mp/too-small").status().IsNotFound());
  auto pending = small_parts.ListPendingMultipartUploads();
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->empty()) << (*pending)[0];
}

TEST_F(S3StoreTest, AMultipartUploadIsOneObjectWithAnAwsStyleETag) {
  config_.multipart_threshold = 10 << 20;
  config_.part_size = 5 << 20;
  S3ObjectStore store(config_, testing::TestSystemClock());
  std::string data = testing::RandomBytes(12 << 20, 4);
  ASSERT_TRUE(store.Put("data/mp/ok", data).ok());
  EXPECT_EQ(*store.Get("data/mp/ok"), data);
  auto pending = store.ListPendingMultipartUploads();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  // Multipart objects have ETags "<md5 of the part md5s>-<parts>".
  HttpClient http({});
  auto url = store.PresignedUrl("GET", "data/mp/ok", 60);
  ASSERT_TRUE(url.ok());
  auto head = http.Send({"GET", *url, {{"Range", "bytes=0-0"}}, {}, 0});
  ASSERT_TRUE(head.ok());
  EXPECT_NE(head->Header("etag").find("-3"), std::string::npos) << head->Header("etag");
}

TEST_F(S3StoreTest, PresignedUrlsWorkWithoutCredentialsAndOnlyForTheirObject) {
  HttpClient http({});
  std::string data = testing::RandomBytes(100'000, 5);
  auto put_url = store_->PresignedUrl("PUT", "data/pre/obj", 300);
  ASSERT_TRUE(put_url.ok()) << put_url.status().ToString();
  auto put = http.Send({"PUT", *put_url, {}, data, 0});
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(*store_->Get("data/pre/obj"), data);

  auto get_url = store_->PresignedUrl("GET", "data/pre/obj", 300);
  ASSERT_TRUE(get_url.ok());
  auto get = http.Send({"GET", *get_url, {}, {}, 0});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, data);

  // The signature covers the key and the method.
  std::string other = *get_url;
  other.replace(other.find("data/pre/obj"), 12, "data/pre/oth");
  EXPECT_EQ(http.Send({"GET", other, {}, {}, 0})->status, 403);
  EXPECT_EQ(http.Send({"DELETE", *get_url, {}, {}, 0})->status, 403);
  // And no URL at all is anonymous access.
  std::string bare = get_url->substr(0, get_url->find('?'));
  EXPECT_EQ(http.Send({"GET", bare, {}, {}, 0})->status, 403);
  EXPECT_EQ(store_->PresignedUrl("DELETE", "k", 60).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PresignedUrl("GET", "k", 8 * 24 * 3600).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(S3StoreTest, WrongCredentialsFailAtOnceSayingWhatToCheck) {
  S3Config bad = config_;
  bad.credentials.secret_access_key = "not-the-secret";
  ManualClock clock;
  RetryingObjectStore store(std::make_unique<S3ObjectStore>(bad, testing::TestSystemClock()), {},
                            &clock);
  Status s = store.Put("data/x", "x");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_NE(s.message().find("check the access key"), std::string::npos);
  EXPECT_EQ(store.retries(), 0);

  bad = config_;
  bad.credentials.access_key_id = "NOSUCHKEY";
  auto r = S3ObjectStore(bad, testing::TestSystemClock()).Get("data/x");
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  EXPECT_NE(r.status().message().find("InvalidAccessKeyId"), std::string::npos);
}

TEST_F(S3StoreTest, AMissingBucketNamesTheBucketAndIsNotAMissingObject) {
  S3Config other = config_;
  other.bucket = "proxima-no-such-bucket";
  S3ObjectStore store(other, testing::TestSystemClock());
  // The first thing a command reads is the store's config.
  Status s = store.Get("config").status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("'proxima-no-such-bucket' does not exist"), std::string::npos);
  EXPECT_EQ(store.Put("config", "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->Get("config").status().IsNotFound());
}

TEST_F(S3StoreTest, VirtualHostAddressingReachesTheSameObjects) {
  ASSERT_TRUE(store_->Put("commits/vh", "path-style").ok());
  S3Config vh = config_;
  vh.path_style = false;
  // RGW serves bucket.localhost as the bucket (rgw dns name = localhost).
  vh.endpoint.replace(vh.endpoint.find("127.0.0.1"), 9, "localhost");
  S3ObjectStore store(vh, testing::TestSystemClock());
  auto got = store.Get("commits/vh");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "path-style");
  ASSERT_TRUE(store.Put("commits/vh2", "virtual").ok());
  EXPECT_EQ(*store_->Get("commits/vh2"), "virtual");
}

}  // namespace
}  // namespace proxima

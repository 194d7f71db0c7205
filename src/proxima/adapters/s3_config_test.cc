#include "proxima/adapters/s3_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "test_util.h"

namespace proxima {
namespace {

class S3ConfigTest : public ::testing::Test {
 protected:
  Result<S3Config> From(std::string_view url) {
    env_["HOME"] = home_.path();
    return S3ConfigFromUrl(url, [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
  }
  void Write(const std::string& relative, const std::string& text) {
    std::filesystem::create_directories(home_.path() + "/.aws");
    std::ofstream(home_.path() + "/" + relative) << text;
  }
  testing::TempDir home_;
  std::map<std::string, std::string> env_;
};

TEST_F(S3ConfigTest, ReadsTheEnvironmentLikeTheAwsSdks) {
  env_ = {{"AWS_ACCESS_KEY_ID", "AK"},
          {"AWS_SECRET_ACCESS_KEY", "SK"},
          {"AWS_SESSION_TOKEN", "TOK"},
          {"AWS_ENDPOINT_URL", "http://127.0.0.1:7480/"},
          {"AWS_DEFAULT_REGION", "eu-central-1"}};
  auto c = From("s3://my-bucket/some/prefix");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bucket, "my-bucket");
  EXPECT_EQ(c->prefix, "some/prefix/");
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(c->region, "eu-central-1");
  EXPECT_TRUE(c->path_style);  // a custom endpoint: path-style by default
  EXPECT_EQ(c->credentials.access_key_id, "AK");
  EXPECT_EQ(c->credentials.session_token, "TOK");
}

TEST_F(S3ConfigTest, AwsItselfUsesVirtualHostsAndTheS3EndpointWins) {
  env_ = {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}};
  auto c = From("s3://bucket");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->path_style);
  EXPECT_EQ(c->endpoint, "");
  EXPECT_EQ(c->prefix, "");
  EXPECT_EQ(c->region, "us-east-1");
  env_["AWS_ENDPOINT_URL"] = "http://general:1";
  env_["AWS_ENDPOINT_URL_S3"] = "http://s3only:2";
  env_["PROXIMA_S3_ADDRESSING"] = "virtual";
  c = From("s3://bucket/p/");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://s3only:2");
  EXPECT_FALSE(c->path_style);
}

TEST_F(S3ConfigTest, DottedBucketsUsePathStyleOverHttpsAndTheCaBundleIsRead) {
  env_ = {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}};
  auto aws = From("s3://my.bucket/x");
  ASSERT_TRUE(aws.ok());
  EXPECT_TRUE(aws->path_style);  // the wildcard certificate does not cover a.b.s3...
  EXPECT_EQ(aws->ca_bundle, "");
  env_["PROXIMA_S3_ADDRESSING"] = "virtual";
  env_["AWS_ENDPOINT_URL"] = "http://plain:80";
  env_["AWS_CA_BUNDLE"] = "/etc/ssl/lab.pem";
  auto plain = From("s3://my.bucket/x");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->path_style);  // no certificate to match over http
  EXPECT_EQ(plain->ca_bundle, "/etc/ssl/lab.pem");
}

TEST_F(S3ConfigTest, ReadsProfilesFromTheAwsFiles) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = DEF\naws_secret_access_key = DEFSECRET\n"
        "[lab]\naws_access_key_id=LAB\naws_secret_access_key=LABSECRET\n");
  Write(".aws/config",
        "[profile lab]\nregion = ap-south-1\nendpoint_url = https://s3.lab.example\n"
        "s3 =\n  addressing_style = path\n");
  auto c = From("s3://bucket/x");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "DEF");
  EXPECT_EQ(c->region, "us-east-1");

  env_["AWS_PROFILE"] = "lab";
  c = From("s3://bucket/x");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "LAB");
  EXPECT_EQ(c->credentials.secret_access_key, "LABSECRET");
  EXPECT_EQ(c->region, "ap-south-1");
  EXPECT_EQ(c->endpoint, "https://s3.lab.example");
  EXPECT_TRUE(c->path_style);
  EXPECT_NE(c->credentials_source.find("'lab'"), std::string::npos);
}

TEST_F(S3ConfigTest, BadInputIsRefusedWithWhatToFix) {
  env_ = {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}};
  for (const char* bad :
       {"s3://", "s3://ab", "s3://Upper/x", "s3://-bucket", "http://b/x", "s3://bucket/a//b"}) {
    auto c = From(bad);
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  env_["PROXIMA_S3_ADDRESSING"] = "sideways";
  EXPECT_NE(From("s3://bucket").status().message().find("PROXIMA_S3_ADDRESSING"),
            std::string::npos);
  env_.erase("PROXIMA_S3_ADDRESSING");
  env_["AWS_ENDPOINT_URL"] = "127.0.0.1:7480";
  EXPECT_NE(From("s3://bucket").status().message().find("http://"), std::string::npos);
  env_.clear();
  auto none = From("s3://bucket");
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(none.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  env_["AWS_PROFILE"] = "missing";
  EXPECT_NE(From("s3://bucket").status().message().find("'missing'"), std::string::npos);
}

}  // namespace
}  // namespace proxima

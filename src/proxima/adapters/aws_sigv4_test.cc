#include "proxima/adapters/aws_sigv4.h"

#include <gtest/gtest.h>

namespace proxima {
namespace {

// The examples of AWS's documentation ("Signature Calculations for the
// Authorization Header" and "Authenticating Requests: Using Query
// Parameters"), which every SigV4 implementation is checked against.
constexpr int64_t kMay24th2013 = 1369353600;  // 20130524T000000Z

SigV4Signer ExampleSigner() {
  return SigV4Signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                     "us-east-1");
}

TEST(SigV4, SignsTheDocumentedGetObjectExample) {
  std::string empty_hash = HexSha256("");
  SigV4Request request{"GET", "examplebucket.s3.amazonaws.com", "/test.txt",
                       {},    {{"Range", "bytes=0-9"}},         empty_hash};
  HttpHeaders headers = ExampleSigner().Sign(request, kMay24th2013);
  std::string auth;
  for (const auto& [k, v] : headers) {
    if (k == "authorization") auth = v;
  }
  EXPECT_EQ(auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PresignsTheDocumentedExample) {
  SigV4Request request{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {}, {}, ""};
  std::string query = ExampleSigner().Presign(request, kMay24th2013, 86400);
  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, ADifferentSecretOrTimeChangesTheSignature) {
  SigV4Request request{"GET", "h", "/k", {}, {}, "UNSIGNED-PAYLOAD"};
  SigV4Signer other({"AKIAIOSFODNN7EXAMPLE", "another-secret", ""}, "us-east-1");
  EXPECT_NE(ExampleSigner().Sign(request, kMay24th2013).back().second,
            other.Sign(request, kMay24th2013).back().second);
  EXPECT_NE(ExampleSigner().Sign(request, kMay24th2013).back().second,
            ExampleSigner().Sign(request, kMay24th2013 + 1).back().second);
}

TEST(SigV4, SessionTokensAreSentAndSigned) {
  SigV4Signer signer({"AKID", "secret", "token/with+chars"}, "eu-west-1");
  HttpHeaders headers = signer.Sign({"PUT", "h", "/k", {}, {}, "UNSIGNED-PAYLOAD"}, kMay24th2013);
  bool has_token = false;
  for (const auto& [k, v] : headers) {
    if (k == "x-amz-security-token") has_token = v == "token/with+chars";
  }
  EXPECT_TRUE(has_token);
  EXPECT_NE(headers.back().second.find("x-amz-security-token"), std::string::npos);
  EXPECT_NE(headers.back().second.find("/eu-west-1/s3/"), std::string::npos);
}

TEST(SigV4, UriEncodingFollowsRfc3986) {
  EXPECT_EQ(AwsUriEncode("a-b_c.d~e/f g+h=%", true), "a-b_c.d~e/f%20g%2Bh%3D%25");
  EXPECT_EQ(AwsUriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(AwsUriEncode("\xc3\xa9", true), "%C3%A9");
}

TEST(SigV4, CanonicalQueryIsSortedAndEncoded) {
  EXPECT_EQ(SigV4Signer::CanonicalQuery({{"prefix", "d/x y"}, {"list-type", "2"}, {"uploads", ""}}),
            "list-type=2&prefix=d%2Fx%20y&uploads=");
}

TEST(SigV4, ContentMd5IsBase64) {
  // RFC 1321's test vector: MD5("abc") = 900150983cd24fb0d6963f7d28e17f72.
  EXPECT_EQ(Base64Md5("abc"), "kAFQmDzST7DWlj99KOF/cg==");
  EXPECT_EQ(AmzDate(kMay24th2013), "20130524T000000Z");
}

}  // namespace
}  // namespace proxima

#include "proxima/base/units.h"

#include <gtest/gtest.h>

namespace proxima {
namespace {

TEST(Units, SizesInDecimalAndBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("4096", "x"), 4096u);
  EXPECT_EQ(*ParseByteSize("500G", "x"), 500'000'000'000u);
  EXPECT_EQ(*ParseByteSize("1.5TB", "x"), 1'500'000'000'000u);
  EXPECT_EQ(*ParseByteSize("64Mi", "x"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("2GiB", "x"), 2ull << 30);
  for (const char* bad : {"", "G", "-1G", "12X", "1GG", "1Gx", "nan", "1e30"}) {
    Status s = ParseByteSize(bad, "--capacity").status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("--capacity"), std::string::npos);
  }
}

TEST(Units, Durations) {
  EXPECT_EQ(*ParseDuration("90s", "x"), 90'000'000'000);
  EXPECT_EQ(*ParseDuration("1d", "x"), int64_t{86400} * 1'000'000'000);
  EXPECT_EQ(*ParseDuration("1.5h", "x"), int64_t{5400} * 1'000'000'000);
  for (const char* bad : {"", "1", "h", "1y", "1hh", "-1h"}) {
    EXPECT_EQ(ParseDuration(bad, "--ttl").status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(FormatDuration(int64_t{86400} * 1'000'000'000), "1d");
  EXPECT_EQ(FormatDuration(int64_t{30} * 3600 * 1'000'000'000), "1d 6h");
  EXPECT_EQ(FormatDuration(int64_t{54} * 3600 * 1'000'000'000), "2d 6h");
  EXPECT_EQ(FormatDuration(int64_t{45} * 60 * 1'000'000'000), "45m");
}

}  // namespace
}  // namespace proxima

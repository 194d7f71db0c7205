#include "proxima/app/settings.h"

#include <gtest/gtest.h>

#include <map>

#include "test_util.h"

namespace proxima {
namespace {

class SettingsTest : public ::testing::Test {
 protected:
  Result<Settings> Load(const std::string& yaml) {
    testing::WriteTestFile(path_, yaml);
    return Settings::Load(path_, [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
  }
  testing::TempDir dir_;
  std::string path_ = dir_.path() + "/config.yaml";
  std::map<std::string, std::string> env_;
};

TEST_F(SettingsTest, TheFileFillsInWhatTheEnvironmentLeavesOut) {
  env_["AWS_REGION"] = "from-env";
  auto s = Load("store: s3://lake/datasets\ns3:\n  endpoint: http://h:1\n  region: eu-west-1\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_STREQ(s->Get("PROXIMA_STORE"), "s3://lake/datasets");
  EXPECT_STREQ(s->Get("AWS_ENDPOINT_URL"), "http://h:1");
  EXPECT_STREQ(s->Get("AWS_REGION"), "from-env");
  EXPECT_EQ(s->Get("AWS_PROFILE"), nullptr);
}

TEST_F(SettingsTest, AMissingOrEmptyFileIsTheEnvironmentAlone) {
  env_["PROXIMA_STORE"] = "/data/store";
  auto s = Settings::Load(dir_.path() + "/none.yaml", [this](const char* n) -> const char* {
    auto it = env_.find(n);
    return it == env_.end() ? nullptr : it->second.c_str();
  });
  ASSERT_TRUE(s.ok());
  EXPECT_STREQ(s->Get("PROXIMA_STORE"), "/data/store");
  EXPECT_TRUE(Load("").ok());
}

TEST_F(SettingsTest, TyposAndBadYamlNameTheFileTheLineAndTheKey) {
  auto typo = Load("store: s3://lake/x\ns3:\n  endpont: http://h\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("config.yaml:3: unknown setting 's3.endpont'"),
            std::string::npos)
      << typo.status().message();
  auto bad = Load("store: [unclosed\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not valid YAML"), std::string::npos);
  auto list = Load("store:\n  - a\n  - b\n");
  EXPECT_NE(list.status().message().find("single value"), std::string::npos);
  EXPECT_FALSE(Load("- just\n- a list\n").ok());
}

}  // namespace
}  // namespace proxima

#include "proxima/app/server_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace proxima {
namespace {

Result<ServerConfig> Load(const std::string& yaml) {
  testing::TempDir dir;
  std::ofstream(dir / "hub.yaml") << yaml;
  return LoadServerConfig(dir / "hub.yaml");
}

TEST(ServerConfig, TheCacheJanitorIntervalIsADurationOrOff) {
  auto defaults = Load("listen: 127.0.0.1:9000\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->options.janitor_interval_ns, int64_t{600} * 1'000'000'000);
  auto set = Load("caches:\n  janitor_interval: 90s\n");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->options.janitor_interval_ns, int64_t{90} * 1'000'000'000);
  auto off = Load("caches:\n  janitor_interval: off\n");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->options.janitor_interval_ns, 0);
  Status bad = Load("listen: 127.0.0.1:9000\ncaches:\n  janitor_interval: soon\n").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find(":2: caches.janitor_interval"), std::string::npos) << bad.message();
  Status unknown = Load("caches:\n  interval: 5m\n").status();
  EXPECT_NE(unknown.message().find("known: janitor_interval"), std::string::npos)
      << unknown.message();
}

}  // namespace
}  // namespace proxima

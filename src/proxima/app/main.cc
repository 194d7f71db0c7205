// The composition root: the only place that names concrete adapters.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "proxima/adapters/local_object_store.h"
#include "proxima/adapters/sqlite_ref_store.h"
#include "proxima/adapters/system_clock.h"
#include "proxima/base/file_util.h"
#include "proxima/cli/environment.h"

namespace {

std::string HomeDir() {
  if (const char* h = std::getenv("PROXIMA_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.proxima";
}

// PROXIMA_STORE selects the data lake: a folder path or file:// URL. The
// default is $PROXIMA_HOME/store.
proxima::Result<std::string> StoreFolder(const std::string& home) {
  const char* s = std::getenv("PROXIMA_STORE");
  if (s == nullptr || *s == '\0') return home + "/store";
  std::string spec = s;
  if (spec.rfind("file://", 0) == 0) return spec.substr(7);
  if (spec.find("://") != std::string::npos) {
    return proxima::Status::InvalidArgument("PROXIMA_STORE='" + spec +
                                            "': this build supports local folders only");
  }
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  proxima::SystemClock clock;
  proxima::Environment env;
  env.home = HomeDir();
  env.clock = &clock;
  env.stderr_is_tty = isatty(STDERR_FILENO) == 1;
  env.open_store = [&]() -> proxima::Result<std::unique_ptr<proxima::ObjectStore>> {
    PROXIMA_ASSIGN_OR_RETURN(std::string folder, StoreFolder(env.home));
    PROXIMA_ASSIGN_OR_RETURN(auto store, proxima::LocalObjectStore::Open(folder));
    return std::unique_ptr<proxima::ObjectStore>(std::move(store));
  };
  env.open_refs = [&]() -> proxima::Result<std::unique_ptr<proxima::RefStore>> {
    PROXIMA_RETURN_IF_ERROR(proxima::MakeDirs(env.home));
    return proxima::OpenSqliteRefStore(env.home + "/catalog.db");
  };
  return proxima::RunCli(argc, argv, env);
}

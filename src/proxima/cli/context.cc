#include "proxima/cli/context.h"

namespace proxima {

Status CommandContext::Open() {
  if (repo_) return Status::Ok();
  PROXIMA_ASSIGN_OR_RETURN(store_, env.open_store());
  PROXIMA_ASSIGN_OR_RETURN(repo_, Repository::Open(store_.get(), /*create=*/true));
  PROXIMA_ASSIGN_OR_RETURN(refs_, env.open_refs());
  return Status::Ok();
}

Status CommandContext::OpenCaches() {
  PROXIMA_RETURN_IF_ERROR(Open());
  if (!caches_) {
    PROXIMA_ASSIGN_OR_RETURN(caches_, env.open_caches());
  }
  return Status::Ok();
}

Status CommandContext::OpenCompute() {
  if (!compute_) {
    PROXIMA_ASSIGN_OR_RETURN(compute_, env.open_compute());
  }
  return Status::Ok();
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "proxima: error: %s\n", status.message().c_str());
  return 1;
}

}  // namespace proxima

#pragma once

#include <memory>
#include <string>

#include "proxima/ports/ref_store.h"

namespace proxima {

// The embedded catalog: a SQLite database (WAL, synchronous=FULL) next to the
// local store. Compare-and-swap runs in a BEGIN IMMEDIATE transaction, so it
// is atomic across threads and processes. Thread-safe (one connection behind
// a mutex).
Result<std::unique_ptr<RefStore>> OpenSqliteRefStore(const std::string& path);

}  // namespace proxima

#pragma once

#include <memory>
#include <string>

#include "proxima/ports/catalog.h"

namespace proxima {

// The catalog on SQLite: a file in WAL mode with synchronous=FULL, the
// embedded default ($PROXIMA_HOME/catalog.db). Safe across threads and
// processes sharing the file.
Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path, int64_t now_unix_ns,
                                                   int connections = 4);

// The catalog on PostgreSQL (postgresql://user@host:port/db), which several
// servers may share. Migrations run at open, once, under an advisory lock.
Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& url, int64_t now_unix_ns,
                                                     int connections = 8);

// Either, by the form of `spec`: a postgresql:// or postgres:// URL, or a
// path to a SQLite file; with a pool of `connections`.
Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& spec, int64_t now_unix_ns,
                                             int connections);

}  // namespace proxima

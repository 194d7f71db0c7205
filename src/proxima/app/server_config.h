#pragma once

#include <string>

#include "proxima/base/result.h"
#include "proxima/server/hub_server.h"

namespace proxima {

// `proxima server --config FILE`: a YAML file, every key optional.
//
//   listen: 0.0.0.0:8080             default 127.0.0.1:8080
//   catalog: postgresql://u@db/hub   default $PROXIMA_HOME/catalog.db (SQLite)
//   store: s3://bucket/prefix        default as the data commands (PROXIMA_STORE,
//                                    config.yaml, $PROXIMA_HOME/store)
//   tls:
//     cert: /etc/proxima/cert.pem
//     key: /etc/proxima/key.pem
//   limits:
//     max_object_bytes: 268435456
//     max_json_bytes: 1048576
//     max_page_size: 1000
//     threads: 64
//     catalog_connections: 48
//     verify_uploads: behind          or blobs (before the upload returns), or
//                                     trailers (trusted writers; fastest)
//   caches:
//     janitor_interval: 10m           how often the cache janitor runs; off: never
//
// Unknown keys and malformed values are errors naming the file and line.
struct ServerConfig {
  ServerOptions options;
  std::string catalog;
  std::string store;
  int catalog_connections = 48;  // the catalog's connection pool
};

Result<ServerConfig> LoadServerConfig(const std::string& path);

// "HOST:PORT" (or ":PORT", or "[v6]:PORT") into the options.
Status ParseListen(const std::string& listen, ServerOptions* options);

}  // namespace proxima

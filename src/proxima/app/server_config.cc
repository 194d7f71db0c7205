#include "proxima/app/server_config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>

#include "proxima/base/units.h"

namespace proxima {

namespace {

Result<uint64_t> Number(const YAML::Node& node, const std::string& where, uint64_t min,
                        uint64_t max) {
  std::string v = node.as<std::string>();
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
    return Status::InvalidArgument(where + ": expected an integer from " + std::to_string(min) +
                                   " to " + std::to_string(max) + ", not '" + v + "'");
  }
  return n;
}

}  // namespace

Status ParseListen(const std::string& listen, ServerOptions* options) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen address '" + listen + "': expected HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port = listen.substr(colon + 1);
  int n = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (ec != std::errc() || end != port.data() + port.size() || n < 0 || n > 65535) {
    return Status::InvalidArgument("listen address '" + listen + "': the port must be 0 to 65535");
  }
  options->host = host.empty() ? "0.0.0.0" : host;
  options->port = n;
  return Status::Ok();
}

Result<ServerConfig> LoadServerConfig(const std::string& path) {
  ServerConfig config;
  if (path.empty()) return config;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::NotFound("server config " + path + " does not exist or cannot be read");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) +
                                   ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) return Status::InvalidArgument(path + ": expected a mapping");
  try {
    for (const auto& item : root) {
      std::string key = item.first.as<std::string>();
      std::string where = path + ":" + std::to_string(item.first.Mark().line + 1) + ": " + key;
      const YAML::Node& v = item.second;
      if (key == "listen" && v.IsScalar()) {
        PROXIMA_RETURN_IF_ERROR(ParseListen(v.as<std::string>(), &config.options));
      } else if (key == "catalog" && v.IsScalar()) {
        config.catalog = v.as<std::string>();
      } else if (key == "store" && v.IsScalar()) {
        config.store = v.as<std::string>();
      } else if (key == "tls" && v.IsMap()) {
        for (const auto& t : v) {
          std::string k = t.first.as<std::string>();
          if (k == "cert" && t.second.IsScalar()) {
            config.options.tls_cert_file = t.second.as<std::string>();
          } else if (k == "key" && t.second.IsScalar()) {
            config.options.tls_key_file = t.second.as<std::string>();
          } else {
            return Status::InvalidArgument(where + "." + k + ": unknown (known: cert, key)");
          }
        }
      } else if (key == "limits" && v.IsMap()) {
        for (const auto& l : v) {
          std::string k = l.first.as<std::string>();
          std::string at = where + "." + k;
          if (k == "max_object_bytes") {
            PROXIMA_ASSIGN_OR_RETURN(config.options.max_object_bytes,
                                     Number(l.second, at, 1 << 20, uint64_t{4} << 30));
          } else if (k == "max_json_bytes") {
            PROXIMA_ASSIGN_OR_RETURN(config.options.max_json_bytes,
                                     Number(l.second, at, 1024, 64 << 20));
          } else if (k == "max_page_size") {
            PROXIMA_ASSIGN_OR_RETURN(config.options.max_page_size, Number(l.second, at, 1, 100000));
          } else if (k == "verify_uploads") {
            using Verify = ServerOptions::VerifyUploads;
            std::string v = l.second.as<std::string>();
            if (v == "behind") {
              config.options.verify_uploads = Verify::kBehind;
            } else if (v == "blobs") {
              config.options.verify_uploads = Verify::kBlobs;
            } else if (v == "trailers") {
              config.options.verify_uploads = Verify::kTrailers;
            } else {
              return Status::InvalidArgument(
                  at +
                  ": expected 'behind' (every blob of a pack, checked after the upload; the "
                  "default), 'blobs' (checked before it returns) or 'trailers', not '" +
                  v + "'");
            }
          } else if (k == "catalog_connections") {
            PROXIMA_ASSIGN_OR_RETURN(uint64_t n, Number(l.second, at, 1, 1000));
            config.catalog_connections = static_cast<int>(n);
          } else if (k == "threads") {
            PROXIMA_ASSIGN_OR_RETURN(uint64_t n, Number(l.second, at, 1, 4096));
            config.options.threads = static_cast<int>(n);
          } else {
            return Status::InvalidArgument(
                at +
                ": unknown (known: max_object_bytes, max_json_bytes, max_page_size, threads, "
                "catalog_connections, verify_uploads)");
          }
        }
      } else if (key == "caches" && v.IsMap()) {
        for (const auto& c : v) {
          std::string k = c.first.as<std::string>();
          if (k == "janitor_interval" && c.second.IsScalar()) {
            std::string text = c.second.as<std::string>();
            if (text == "off" || text == "0") {
              config.options.janitor_interval_ns = 0;
            } else {
              PROXIMA_ASSIGN_OR_RETURN(config.options.janitor_interval_ns,
                                       ParseDuration(text, where + "." + k));
            }
          } else {
            return Status::InvalidArgument(where + "." + k + ": unknown (known: janitor_interval)");
          }
        }
      } else {
        return Status::InvalidArgument(
            where +
            ": unknown setting or wrong type (known: listen, catalog, store, tls.cert, "
            "tls.key, limits.*, caches.janitor_interval)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

}  // namespace proxima

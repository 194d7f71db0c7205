#include "proxima/app/settings.h"

#include <yaml-cpp/yaml.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace proxima {
namespace {

struct Key {
  const char* path;  // in the file: "store", "s3.endpoint"
  const char* env;
};
constexpr Key kKeys[] = {
    {"store", "PROXIMA_STORE"},
    {"s3.endpoint", "AWS_ENDPOINT_URL"},
    {"s3.region", "AWS_REGION"},
    {"s3.profile", "AWS_PROFILE"},
    {"s3.addressing", "PROXIMA_S3_ADDRESSING"},
    {"s3.retry_seconds", "PROXIMA_RETRY_SECONDS"},
    {"hub.url", "PROXIMA_HUB"},
    {"hub.token", "PROXIMA_TOKEN"},
    {"hub.ca_bundle", "PROXIMA_HUB_CA_BUNDLE"},
};

const char* EnvFor(const std::string& path) {
  for (const Key& k : kKeys) {
    if (path == k.path) return k.env;
  }
  return nullptr;
}

std::string Known() {
  std::string out;
  for (const Key& k : kKeys) out += std::string(out.empty() ? "" : ", ") + k.path;
  return out;
}

Status Walk(const YAML::Node& node, const std::string& prefix, const std::string& file,
            std::map<std::string, std::string>* out) {
  if (!node.IsMap()) {
    return Status::InvalidArgument(file + ": expected a mapping" +
                                   (prefix.empty() ? "" : " under '" + prefix + "'"));
  }
  for (const auto& item : node) {
    std::string key = item.first.as<std::string>();
    std::string path = prefix.empty() ? key : prefix + "." + key;
    std::string line = std::to_string(item.first.Mark().line + 1);
    if (item.second.IsMap()) {
      PROXIMA_RETURN_IF_ERROR(Walk(item.second, path, file, out));
      continue;
    }
    const char* env = EnvFor(path);
    if (env == nullptr) {
      return Status::InvalidArgument(file + ":" + line + ": unknown setting '" + path +
                                     "' (known: " + Known() + ")");
    }
    if (!item.second.IsScalar()) {
      return Status::InvalidArgument(file + ":" + line + ": '" + path + "' must be a single value");
    }
    (*out)[env] = item.second.as<std::string>();
  }
  return Status::Ok();
}

}  // namespace

Result<Settings> Settings::Load(const std::string& config_path, Getenv getenv) {
  Settings s;
  s.getenv_ = std::move(getenv);
  std::error_code ec;
  if (!std::filesystem::exists(config_path, ec)) return s;
  try {
    YAML::Node root = YAML::LoadFile(config_path);
    if (root.IsNull()) return s;  // an empty file
    PROXIMA_RETURN_IF_ERROR(Walk(root, "", config_path, &s.from_file_));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(config_path + ":" + std::to_string(e.mark.line + 1) +
                                   ": not valid YAML: " + e.msg);
  }
  return s;
}

const char* Settings::Get(const char* name) const {
  if (const char* v = getenv_(name); v != nullptr && *v != '\0') return v;
  auto it = from_file_.find(name);
  return it == from_file_.end() ? nullptr : it->second.c_str();
}

Status SaveHubLogin(const std::string& config_path, const std::string& url,
                    const std::string& token) {
  YAML::Node root;
  std::error_code ec;
  try {
    if (std::filesystem::exists(config_path, ec)) root = YAML::LoadFile(config_path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(config_path + ": not valid YAML, not changed: " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) return Status::InvalidArgument(config_path + ": expected a mapping");
  root["hub"]["url"] = url;
  root["hub"]["token"] = token;
  YAML::Emitter out;
  out << root;
  // The token is a secret: the file is written 0600 from the start (never
  // readable by others, not even briefly) and renamed into place.
  std::string tmp = config_path + ".tmp";
  mode_t old_mask = ::umask(077);
  bool written;
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << out.c_str() << "\n";
    written = f.good();
  }
  ::umask(old_mask);
  if (!written) return Status::PermissionDenied("cannot write " + tmp);
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, config_path, ec);
  if (ec) return Status::PermissionDenied("cannot replace " + config_path + ": " + ec.message());
  ::chmod(config_path.c_str(), 0600);
  return Status::Ok();
}

}  // namespace proxima

#include "proxima/adapters/s3_config.h"

#include <fstream>
#include <map>

namespace proxima {
namespace {

using IniFile = std::map<std::string, std::map<std::string, std::string>>;

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// The sections and keys of an AWS config or credentials file. Indented lines
// (nested settings such as "s3 =\n  addressing_style = path") are read as
// "s3.addressing_style".
IniFile ReadIni(const std::string& path) {
  IniFile ini;
  std::ifstream in(path);
  std::string line, section, parent;
  while (std::getline(in, line)) {
    bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    line = Trimmed(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trimmed(line.substr(1, line.size() - 2));
      parent.clear();
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Trimmed(line.substr(0, eq));
    std::string value = Trimmed(line.substr(eq + 1));
    if (indented && !parent.empty()) {
      ini[section][parent + "." + key] = value;
    } else {
      ini[section][key] = value;
      parent = value.empty() ? key : "";
    }
  }
  return ini;
}

bool ValidBucketName(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return b.front() != '-' && b.front() != '.' && b.back() != '-' && b.back() != '.';
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseS3Url(std::string_view url) {
  constexpr std::string_view kScheme = "s3://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("'" + std::string(url) + "' is not an s3://bucket/prefix URL");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  std::string prefix(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (!ValidBucketName(bucket)) {
    return Status::InvalidArgument("'" + std::string(url) + "': '" + bucket +
                                   "' is not a valid bucket name (3 to 63 characters: a-z, 0-9, "
                                   "'-' and '.')");
  }
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (prefix.size() > 1 && prefix.ends_with("//")) prefix.pop_back();
  if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
  if (prefix.find("//") != std::string::npos) {
    return Status::InvalidArgument("'" + std::string(url) + "': the prefix has an empty segment");
  }
  return std::make_pair(bucket, prefix);
}

Result<S3Config> S3ConfigFromUrl(std::string_view url,
                                 const std::function<const char*(const char*)>& getenv) {
  auto env = [&](const char* name) -> std::string {
    const char* v = getenv(name);
    return v == nullptr ? "" : v;
  };
  S3Config config;
  PROXIMA_ASSIGN_OR_RETURN(auto location, ParseS3Url(url));
  config.bucket = location.first;
  config.prefix = location.second;

  std::string home = env("HOME");
  std::string config_path = env("AWS_CONFIG_FILE");
  if (config_path.empty()) config_path = home + "/.aws/config";
  std::string credentials_path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (credentials_path.empty()) credentials_path = home + "/.aws/credentials";
  std::string profile = env("AWS_PROFILE");
  bool profile_named = !profile.empty();
  if (profile.empty()) profile = "default";

  IniFile aws_config = ReadIni(config_path);
  const auto& config_section =
      aws_config[profile == "default" ? std::string("default") : "profile " + profile];
  auto profile_value = [&](const std::string& key) -> std::string {
    auto it = config_section.find(key);
    return it == config_section.end() ? "" : it->second;
  };

  config.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (config.endpoint.empty()) config.endpoint = env("AWS_ENDPOINT_URL");
  if (config.endpoint.empty()) config.endpoint = profile_value("endpoint_url");
  while (!config.endpoint.empty() && config.endpoint.back() == '/') config.endpoint.pop_back();
  if (!config.endpoint.empty() && config.endpoint.rfind("http://", 0) != 0 &&
      config.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("S3 endpoint '" + config.endpoint +
                                   "' must start with http:// or https:// (AWS_ENDPOINT_URL)");
  }

  config.region = env("AWS_REGION");
  if (config.region.empty()) config.region = env("AWS_DEFAULT_REGION");
  if (config.region.empty()) config.region = profile_value("region");
  if (config.region.empty()) config.region = "us-east-1";

  config.ca_bundle = env("AWS_CA_BUNDLE");
  if (config.ca_bundle.empty()) config.ca_bundle = profile_value("ca_bundle");

  std::string addressing = env("PROXIMA_S3_ADDRESSING");
  if (addressing.empty()) addressing = profile_value("s3.addressing_style");
  if (addressing.empty() || addressing == "auto") {
    config.path_style = !config.endpoint.empty();
  } else if (addressing == "path" || addressing == "virtual") {
    config.path_style = addressing == "path";
  } else {
    return Status::InvalidArgument("PROXIMA_S3_ADDRESSING='" + addressing +
                                   "': expected 'path' or 'virtual'");
  }
  bool https = config.endpoint.empty() || config.endpoint.rfind("https://", 0) == 0;
  if (!config.path_style && https && config.bucket.find('.') != std::string::npos) {
    // "a.b.s3.amazonaws.com" is not covered by the wildcard certificate.
    config.path_style = true;
  }

  config.credentials.access_key_id = env("AWS_ACCESS_KEY_ID");
  config.credentials.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  config.credentials.session_token = env("AWS_SESSION_TOKEN");
  config.credentials_source = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  if (config.credentials.access_key_id.empty() || profile_named) {
    IniFile credentials = ReadIni(credentials_path);
    const std::map<std::string, std::string>* section = nullptr;
    std::string source;
    if (auto it = credentials.find(profile); it != credentials.end()) {
      section = &it->second;
      source = "profile '" + profile + "' of " + credentials_path;
    } else if (config_section.count("aws_access_key_id")) {
      section = &config_section;
      source = "profile '" + profile + "' of " + config_path;
    }
    if (section != nullptr) {
      auto get = [&](const char* k) {
        auto it = section->find(k);
        return it == section->end() ? std::string() : it->second;
      };
      config.credentials.access_key_id = get("aws_access_key_id");
      config.credentials.secret_access_key = get("aws_secret_access_key");
      config.credentials.session_token = get("aws_session_token");
      config.credentials_source = source;
    } else if (profile_named) {
      return Status::InvalidArgument("AWS_PROFILE='" + profile + "': no such profile in " +
                                     credentials_path + " or " + config_path);
    }
  }
  if (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty()) {
    return Status::Unauthenticated(
        "no S3 credentials for " + std::string(url) +
        ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in " +
        credentials_path);
  }
  return config;
}

}  // namespace proxima

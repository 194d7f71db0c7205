#pragma once

#include <functional>
#include <map>
#include <string>

#include "proxima/base/result.h"

namespace proxima {

// Where the composition root reads its settings: the environment first, then
// $PROXIMA_HOME/config.yaml, whose keys stand for environment variables:
//
//   store: s3://bucket/prefix        PROXIMA_STORE
//   s3:
//     endpoint: https://host         AWS_ENDPOINT_URL
//     region: eu-west-1              AWS_REGION
//     profile: lab                   AWS_PROFILE
//     addressing: path|virtual       PROXIMA_S3_ADDRESSING
//     retry_seconds: 120             PROXIMA_RETRY_SECONDS
//   hub:                             (written by 'proxima login')
//     url: https://hub:8080          PROXIMA_HUB
//     token: pxm_...                 PROXIMA_TOKEN
//     ca_bundle: /etc/ca.pem         PROXIMA_HUB_CA_BUNDLE
//
// An unknown key or a malformed file is an error that names the file, the
// key and the line, so that a typo never silently selects the default store.
class Settings {
 public:
  using Getenv = std::function<const char*(const char*)>;

  // A missing file is no error: then only the environment counts.
  static Result<Settings> Load(const std::string& config_path, Getenv getenv);

  // The environment variable `name`, or the file's setting for it; null when
  // neither has one. The pointer lives as long as this object.
  const char* Get(const char* name) const;

 private:
  Getenv getenv_;
  std::map<std::string, std::string> from_file_;  // environment name -> value
};

// Records a hub login in the config file (creating it if needed), keeping its
// other settings. The file is made mode 0600: it holds a secret.
Status SaveHubLogin(const std::string& config_path, const std::string& url,
                    const std::string& token);

}  // namespace proxima

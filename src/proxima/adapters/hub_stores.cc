#include "proxima/adapters/hub_stores.h"

#include <nlohmann/json.hpp>

namespace proxima {

namespace {

using nlohmann::json;

Result<json> ParseJson(const std::string& body, const std::string& what) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Unavailable("hub sent a malformed answer to " + what);
  }
  return doc;
}

std::string StringField(const json& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

class HubRefStore : public RefStore {
 public:
  explicit HubRefStore(std::shared_ptr<HubClient> hub) : hub_(std::move(hub)) {}

  Status CreateDataset(std::string_view name, int64_t) override {
    json body = {{"name", std::string(name)}};
    return hub_->Call("POST", "/api/v1/datasets", body.dump()).status();
  }

  Result<std::vector<DatasetRecord>> ListDatasets() override {
    std::vector<DatasetRecord> out;
    std::string after;
    while (true) {
      PROXIMA_ASSIGN_OR_RETURN(
          std::string body,
          hub_->Call("GET", "/api/v1/datasets?limit=1000&after=" + HubQueryEscape(after)));
      PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "a dataset listing"));
      for (const json& item : doc.value("items", json::array())) {
        out.push_back({StringField(item, "name"), item.value("created_unix_ns", int64_t{0})});
      }
      if (!doc.contains("next") || !doc["next"].is_string()) break;
      after = doc["next"].get<std::string>();
    }
    return out;
  }

  Result<bool> DatasetExists(std::string_view name) override {
    Result<std::string> r = hub_->Call("GET", "/api/v1/datasets/" + std::string(name));
    if (r.status().IsNotFound()) return false;
    PROXIMA_RETURN_IF_ERROR(r.status());
    return true;
  }

  Result<std::optional<ObjectId>> GetRef(std::string_view dataset, std::string_view ref) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body, hub_->Call("GET", RefPath(dataset, ref)));
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "a ref lookup"));
    if (!doc.contains("commit") || doc["commit"].is_null()) return std::optional<ObjectId>();
    auto id = Hash256::FromHex(StringField(doc, "commit"));
    if (!id) return Status::Unavailable("hub sent a malformed commit id");
    return std::optional<ObjectId>(*id);
  }

  Status CompareAndSwapRef(std::string_view dataset, std::string_view ref,
                           const std::optional<ObjectId>& expected,
                           const std::optional<ObjectId>& desired) override {
    json body = {{"expected", expected ? json(expected->Hex()) : json(nullptr)},
                 {"desired", desired ? json(desired->Hex()) : json(nullptr)}};
    return hub_->Call("PUT", RefPath(dataset, ref), body.dump()).status();
  }

  Result<std::vector<RefRecord>> ListRefs(std::string_view dataset) override {
    std::vector<std::string> names;
    if (dataset.empty()) {
      PROXIMA_ASSIGN_OR_RETURN(std::vector<DatasetRecord> all, ListDatasets());
      for (const DatasetRecord& d : all) names.push_back(d.name);
    } else {
      names.emplace_back(dataset);
    }
    std::vector<RefRecord> out;
    for (const std::string& name : names) {
      PROXIMA_ASSIGN_OR_RETURN(std::string body,
                               hub_->Call("GET", "/api/v1/datasets/" + name + "/refs"));
      PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "a ref listing"));
      for (const json& item : doc.value("items", json::array())) {
        auto id = Hash256::FromHex(StringField(item, "commit"));
        if (!id) return Status::Unavailable("hub sent a malformed commit id");
        out.push_back({name, StringField(item, "ref"), *id});
      }
    }
    return out;
  }

 private:
  static std::string RefPath(std::string_view dataset, std::string_view ref) {
    return "/api/v1/datasets/" + std::string(dataset) + "/refs/" + std::string(ref);
  }

  std::shared_ptr<HubClient> hub_;
};

class HubObjectStore : public ObjectStore {
 public:
  explicit HubObjectStore(std::shared_ptr<HubClient> hub) : hub_(std::move(hub)) {}

  std::string Describe() const override { return "hub " + hub_->url(); }

  Status Put(std::string_view key, std::string_view data) override {
    return hub_->Call("PUT", Path(key), data, {{"Content-Type", "application/octet-stream"}})
        .status();
  }

  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return hub_
        ->Call("PUT", Path(key), data,
               {{"Content-Type", "application/octet-stream"}, {"If-None-Match", "*"}})
        .status();
  }

  Result<std::string> Get(std::string_view key) override { return hub_->Call("GET", Path(key)); }

  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return hub_->Call("GET", Path(key) + "?offset=" + std::to_string(offset) +
                                 "&length=" + std::to_string(length));
  }

  Result<uint64_t> Size(std::string_view key) override {
    PROXIMA_ASSIGN_OR_RETURN(HttpResponse r, hub_->Send("HEAD", Path(key)));
    if (r.status == 404) {
      return Status::NotFound("object '" + std::string(key) + "' is not in " + Describe());
    }
    if (r.status != 200) return HubError(r, hub_->url());
    std::string size = r.Header("x-object-size");
    if (size.empty()) return Status::Unavailable("hub sent no object size");
    return std::stoull(size);
  }

  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub_->Call("GET", "/api/v1/objects?prefix=" + HubQueryEscape(prefix)));
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "an object listing"));
    for (const json& item : doc.value("items", json::array())) {
      PROXIMA_RETURN_IF_ERROR(fn({StringField(item, "key"), item.value("size", uint64_t{0})}));
    }
    return Status::Ok();
  }

  Status Delete(std::string_view key) override { return hub_->Call("DELETE", Path(key)).status(); }

  int PreferredConcurrency() const override { return 8; }

  Status Sync() override { return hub_->Call("POST", "/api/v1/objects/sync").status(); }

 private:
  static std::string Path(std::string_view key) { return "/api/v1/objects/" + std::string(key); }
  std::shared_ptr<HubClient> hub_;
};

}  // namespace

std::unique_ptr<RefStore> MakeHubRefStore(std::shared_ptr<HubClient> hub) {
  return std::make_unique<HubRefStore>(std::move(hub));
}

std::unique_ptr<ObjectStore> MakeHubObjectStore(std::shared_ptr<HubClient> hub) {
  return std::make_unique<HubObjectStore>(std::move(hub));
}

}  // namespace proxima

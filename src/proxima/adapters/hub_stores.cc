#include "proxima/adapters/hub_stores.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "proxima/base/coding.h"
#include "proxima/base/parallel.h"
#include "proxima/model/keys.h"
#include "proxima/ports/compute_codec.h"

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

// Calls `fn` for every item of a paged listing (`path` ends in '?' or '&').
Status ForEachPage(HubClient& hub, const std::string& path,
                   const std::function<Status(const json&)>& fn) {
  std::string after;
  while (true) {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub.Call("GET", path + "limit=1000&after=" + HubQueryEscape(after)));
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "a listing"));
    for (const json& item : doc.value("items", json::array())) {
      PROXIMA_RETURN_IF_ERROR(fn(item));
    }
    if (!doc.contains("next") || !doc["next"].is_string()) return Status::Ok();
    after = doc["next"].get<std::string>();
  }
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
    PROXIMA_RETURN_IF_ERROR(ForEachPage(*hub_, "/api/v1/datasets?", [&](const json& item) {
      out.push_back({StringField(item, "name"), item.value("created_unix_ns", int64_t{0})});
      return Status::Ok();
    }));
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
      PROXIMA_RETURN_IF_ERROR(
          ForEachPage(*hub_, "/api/v1/datasets/" + name + "/refs?", [&](const json& item) {
            auto id = Hash256::FromHex(StringField(item, "commit"));
            if (!id) return Status::Unavailable("hub sent a malformed commit id");
            out.push_back({name, StringField(item, "ref"), *id});
            return Status::Ok();
          }));
    }
    return out;
  }

 private:
  static std::string RefPath(std::string_view dataset, std::string_view ref) {
    return "/api/v1/datasets/" + std::string(dataset) + "/refs/" + std::string(ref);
  }

  std::shared_ptr<HubClient> hub_;
};

// Objects through the hub, or directly to the hub's store when it hands out
// URLs (S3): then packs go up and every object comes down without passing
// through the hub; trees, indexes and commits go up through the hub, which
// verifies them. Whether the store allows it is learned on first use.
class HubObjectStore : public ObjectStore {
 public:
  explicit HubObjectStore(std::shared_ptr<HubClient> hub)
      : hub_(std::move(hub)), direct_http_(HttpClient::Options{}) {}

  std::string Describe() const override { return "hub " + hub_->url(); }

  Status Put(std::string_view key, std::string_view data) override {
    return Upload(key, data, /*create_only=*/false);
  }

  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return Upload(key, data, /*create_only=*/true);
  }

  Result<std::string> Get(std::string_view key) override {
    return Download(key, "", [&] { return hub_->Call("GET", Path(key)); });
  }

  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    if (length == 0) return std::string();
    std::string range =
        "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
    return Download(key, range, [&] {
      return hub_->Call(
          "GET",
          Path(key) + "?offset=" + std::to_string(offset) + "&length=" + std::to_string(length), {},
          {}, static_cast<size_t>(std::min<uint64_t>(length, 64 << 20)));
    });
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
    return ForEachPage(*hub_, "/api/v1/objects?prefix=" + HubQueryEscape(prefix) + "&",
                       [&](const json& item) {
                         return fn({StringField(item, "key"), item.value("size", uint64_t{0}),
                                    item.value("pending", false)});
                       });
  }

  Status Delete(std::string_view key) override { return hub_->Call("DELETE", Path(key)).status(); }

  // Small objects go up in batches of up to 4 MiB, each one request
  // (docs/api.md, POST /api/v1/objects/batch); packs one by one as ever.
  Status PutMany(const std::vector<std::pair<std::string, std::string>>& objects,
                 int concurrency) override {
    constexpr size_t kBatchBytes = size_t{4} << 20;
    constexpr size_t kBatchItems = 2000;
    std::vector<std::string> bodies;
    std::vector<size_t> singles;
    size_t items = 0;
    for (size_t i = 0; i < objects.size(); ++i) {
      const auto& [key, data] = objects[i];
      if (IsPack(key) || key == kConfigKey || data.size() >= kBatchBytes) {
        singles.push_back(i);
        continue;
      }
      if (bodies.empty() || bodies.back().size() + key.size() + data.size() + 20 > kBatchBytes ||
          items == kBatchItems) {
        bodies.emplace_back();
        items = 0;
      }
      PutLengthPrefixed(&bodies.back(), key);
      PutLengthPrefixed(&bodies.back(), data);
      ++items;
    }
    size_t n = bodies.size();
    return ParallelFor(n + singles.size(), concurrency, [&](size_t i) -> Status {
      if (i >= n) return Put(objects[singles[i - n]].first, objects[singles[i - n]].second);
      return hub_
          ->Call("POST", "/api/v1/objects/batch", bodies[i],
                 {{"Content-Type", "application/octet-stream"}})
          .status();
    });
  }

  int PreferredConcurrency() const override { return 8; }

  Status Sync() override { return hub_->Call("POST", "/api/v1/objects/sync").status(); }

 private:
  static std::string Path(std::string_view key) { return "/api/v1/objects/" + std::string(key); }
  static bool IsPack(std::string_view key) { return key.rfind("data/", 0) == 0; }

  // The hub's answer to POST /api/v1/objects/urls for one key: a URL, or
  // present (nullopt with *present set). FailedPrecondition when the store
  // hands out no URLs; it is remembered and the hub streams from then on.
  Result<std::optional<std::string>> UrlFor(std::string_view method, std::string_view key,
                                            bool* present) {
    json body = {{"method", std::string(method)}, {"keys", {std::string(key)}}};
    Result<std::string> r = hub_->Call("POST", "/api/v1/objects/urls", body.dump());
    if (r.status().code() == StatusCode::kFailedPrecondition) {
      direct_ = 0;
      return std::optional<std::string>();
    }
    PROXIMA_RETURN_IF_ERROR(r.status());
    direct_ = 1;
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(*r, "a URL request"));
    const json& urls = doc["urls"];
    auto it = urls.find(std::string(key));
    if (it == urls.end() || !it->is_string()) {
      *present = true;
      return std::optional<std::string>();
    }
    return std::optional<std::string>(it->get<std::string>());
  }

  Status Upload(std::string_view key, std::string_view data, bool create_only) {
    if (IsPack(key) && direct_ != 0) {
      bool present = false;
      PROXIMA_ASSIGN_OR_RETURN(std::optional<std::string> url, UrlFor("PUT", key, &present));
      if (present) {
        return create_only ? Status::AlreadyExists("object '" + std::string(key) + "' exists")
                           : Status::Ok();
      }
      if (url) {
        PROXIMA_ASSIGN_OR_RETURN(
            HttpResponse r,
            direct_http_.Send(
                {"PUT", *url, {{"Content-Type", "application/octet-stream"}}, data, 0}));
        if (r.status == 200) return Status::Ok();
        return DirectError(r, "upload", key);
      }
    }
    HttpHeaders headers = {{"Content-Type", "application/octet-stream"}};
    if (create_only) headers.emplace_back("If-None-Match", "*");
    return hub_->Call("PUT", Path(key), data, std::move(headers)).status();
  }

  Result<std::string> Download(std::string_view key, const std::string& range,
                               const std::function<Result<std::string>()>& through_hub) {
    if (direct_ == 0) return through_hub();
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string url;
      {
        std::lock_guard lock(mu_);
        auto it = urls_.find(std::string(key));
        if (it != urls_.end() && it->second.second > std::chrono::steady_clock::now()) {
          url = it->second.first;
        }
      }
      if (url.empty()) {
        bool present = false;
        PROXIMA_ASSIGN_OR_RETURN(std::optional<std::string> fresh, UrlFor("GET", key, &present));
        if (!fresh) return through_hub();
        url = *fresh;
        std::lock_guard lock(mu_);
        if (urls_.size() > 100'000) urls_.clear();
        // Signed for 15 minutes; reused for 10.
        urls_[std::string(key)] = {url,
                                   std::chrono::steady_clock::now() + std::chrono::minutes(10)};
      }
      HttpHeaders headers;
      if (!range.empty()) headers.emplace_back("Range", range);
      PROXIMA_ASSIGN_OR_RETURN(HttpResponse r,
                               direct_http_.Send({"GET", url, std::move(headers), {}, 0}));
      if (r.status == 200 || r.status == 206) return std::move(r.body);
      if (r.status == 416) return std::string();  // a range past the end
      if (r.status == 404) {
        return Status::NotFound("object '" + std::string(key) + "' is not in " + Describe());
      }
      if (r.status == 403 && attempt == 0) {  // expired: ask for a new URL once
        std::lock_guard lock(mu_);
        urls_.erase(std::string(key));
        continue;
      }
      return DirectError(r, "download", key);
    }
    return Status::Unavailable("cannot download '" + std::string(key) + "' directly");
  }

  Status DirectError(const HttpResponse& r, const char* what, std::string_view key) {
    std::string msg = std::string("direct ") + what + " of '" + std::string(key) +
                      "' from the hub's store failed: HTTP " + std::to_string(r.status) + " " +
                      r.body.substr(0, 200);
    if (r.status >= 500 || r.status == 429) return Status::Unavailable(std::move(msg));
    return Status::PermissionDenied(std::move(msg));
  }

  std::shared_ptr<HubClient> hub_;
  HttpClient direct_http_;
  std::atomic<int> direct_{-1};  // -1 unknown, 0 through the hub, 1 direct
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>>
      urls_;
};

// Volumes, caches and leases through the hub (api_caches.cc): the same
// compare-and-swap as the embedded catalog, checked by the hub.
class HubCacheCatalog : public CacheCatalog {
 public:
  explicit HubCacheCatalog(std::shared_ptr<HubClient> hub) : hub_(std::move(hub)) {}

  Status CreateVolume(const VolumeRecord& v) override {
    json body = {{"name", v.name},
                 {"path", v.path},
                 {"resource", v.resource},
                 {"capacity_bytes", v.capacity_bytes},
                 {"ttl_seconds", v.ttl_ns / 1'000'000'000},
                 {"high", v.high},
                 {"low", v.low}};
    return hub_->Call("POST", "/api/v1/volumes", body.dump()).status();
  }

  Result<VolumeRecord> GetVolume(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub_->Call("GET", "/api/v1/volumes/" + std::string(name)));
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "a volume lookup"));
    return Volume(doc);
  }

  Result<std::vector<VolumeRecord>> ListVolumes() override {
    std::vector<VolumeRecord> out;
    PROXIMA_RETURN_IF_ERROR(ForEachPage(*hub_, "/api/v1/volumes?", [&](const json& item) {
      out.push_back(Volume(item));
      return Status::Ok();
    }));
    return out;
  }

  Status DeleteVolume(std::string_view name) override {
    return hub_->Call("DELETE", "/api/v1/volumes/" + std::string(name)).status();
  }

  Status PutQuota(const QuotaRecord& q) override {
    json body = {{"bytes", q.bytes}};
    return hub_->Call("PUT", "/api/v1/volumes/" + q.volume + "/quotas/" + q.team, body.dump())
        .status();
  }

  Result<std::vector<QuotaRecord>> ListQuotas(std::string_view volume) override {
    std::vector<QuotaRecord> out;
    PROXIMA_RETURN_IF_ERROR(ForEachPage(
        *hub_, "/api/v1/volumes/" + std::string(volume) + "/quotas?", [&](const json& item) {
          out.push_back(
              {std::string(volume), StringField(item, "team"), item.value("bytes", uint64_t{0})});
          return Status::Ok();
        }));
    return out;
  }

  Result<std::optional<CacheRecord>> GetCache(std::string_view volume, std::string_view dataset,
                                              const ObjectId& commit) override {
    Result<std::string> body = hub_->Call("GET", CachePath(volume, dataset, commit));
    if (body.status().IsNotFound()) {
      // An unknown volume is an error; an absent cache is not.
      PROXIMA_RETURN_IF_ERROR(GetVolume(volume).status());
      return std::optional<CacheRecord>();
    }
    PROXIMA_RETURN_IF_ERROR(body.status());
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(*body, "a cache lookup"));
    PROXIMA_ASSIGN_OR_RETURN(CacheRecord c, Cache(doc));
    return std::optional<CacheRecord>(std::move(c));
  }

  Result<std::vector<CacheRecord>> ListCaches(std::string_view volume) override {
    std::vector<std::string> names;
    if (volume.empty()) {
      PROXIMA_ASSIGN_OR_RETURN(std::vector<VolumeRecord> all, ListVolumes());
      for (const VolumeRecord& v : all) names.push_back(v.name);
    } else {
      names.emplace_back(volume);
    }
    std::vector<CacheRecord> out;
    for (const std::string& name : names) {
      PROXIMA_RETURN_IF_ERROR(
          ForEachPage(*hub_, "/api/v1/volumes/" + name + "/caches?", [&](const json& item) {
            PROXIMA_ASSIGN_OR_RETURN(CacheRecord c, Cache(item));
            out.push_back(std::move(c));
            return Status::Ok();
          }));
    }
    return out;
  }

  Result<int64_t> PutCache(const CacheRecord& c) override {
    json body = {{"state", CacheStateName(c.state)},
                 {"files", c.files},
                 {"bytes", c.bytes},
                 {"done_bytes", c.done_bytes},
                 {"fetched_bytes", c.fetched_bytes},
                 {"reason", c.reason},
                 {"created_unix_ns", c.created_unix_ns},
                 {"last_used_unix_ns", c.last_used_unix_ns},
                 {"pinned", c.pinned},
                 {"team", c.team},
                 {"version", c.version}};
    PROXIMA_ASSIGN_OR_RETURN(
        std::string answer,
        hub_->Call("PUT", CachePath(c.volume, c.dataset, c.commit), body.dump()));
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(answer, "a cache update"));
    return doc.value("version", int64_t{0});
  }

  Status DeleteCache(std::string_view volume, std::string_view dataset, const ObjectId& commit,
                     int64_t version) override {
    return hub_
        ->Call("DELETE", CachePath(volume, dataset, commit) + "?version=" + std::to_string(version))
        .status();
  }

  Status PutLease(const LeaseRecord& l) override {
    json body = {{"dataset", l.dataset},
                 {"commit", l.commit.Hex()},
                 {"holder", l.holder},
                 {"expires_unix_ns", l.expires_unix_ns}};
    return hub_->Call("PUT", "/api/v1/volumes/" + l.volume + "/leases/" + l.id, body.dump())
        .status();
  }

  Status DeleteLease(std::string_view id) override {
    // The hub addresses a lease by its volume; find it among the volumes.
    PROXIMA_ASSIGN_OR_RETURN(std::vector<VolumeRecord> volumes, ListVolumes());
    for (const VolumeRecord& v : volumes) {
      Result<std::string> r =
          hub_->Call("DELETE", "/api/v1/volumes/" + v.name + "/leases/" + std::string(id));
      if (!r.status().IsNotFound()) return r.status();
    }
    return Status::NotFound("lease '" + std::string(id) + "' does not exist");
  }

  Result<std::vector<LeaseRecord>> ListLeases(std::string_view volume) override {
    std::vector<LeaseRecord> out;
    PROXIMA_RETURN_IF_ERROR(ForEachPage(
        *hub_, "/api/v1/volumes/" + std::string(volume) + "/leases?", [&](const json& item) {
          auto id = Hash256::FromHex(StringField(item, "commit"));
          if (!id) return Status::Unavailable("hub sent a malformed commit id");
          out.push_back({StringField(item, "id"), StringField(item, "volume"),
                         StringField(item, "dataset"), *id, StringField(item, "holder"),
                         item.value("expires_unix_ns", int64_t{0}), StringField(item, "owner")});
          return Status::Ok();
        }));
    return out;
  }

 private:
  static std::string CachePath(std::string_view volume, std::string_view dataset,
                               const ObjectId& commit) {
    return "/api/v1/volumes/" + std::string(volume) + "/caches/" + std::string(dataset) + "/" +
           commit.Hex();
  }

  static VolumeRecord Volume(const json& doc) {
    VolumeRecord v;
    v.name = StringField(doc, "name");
    v.path = StringField(doc, "path");
    v.resource = StringField(doc, "resource");
    v.capacity_bytes = doc.value("capacity_bytes", uint64_t{0});
    v.ttl_ns = doc.value("ttl_seconds", int64_t{0}) * 1'000'000'000;
    v.high = doc.value("high", 0.9);
    v.low = doc.value("low", 0.7);
    v.created_unix_ns = doc.value("created_unix_ns", int64_t{0});
    return v;
  }

  static Result<CacheRecord> Cache(const json& doc) {
    CacheRecord c;
    c.volume = StringField(doc, "volume");
    c.dataset = StringField(doc, "dataset");
    auto id = Hash256::FromHex(StringField(doc, "commit"));
    auto state = ParseCacheState(StringField(doc, "state"));
    if (!id || !state) return Status::Unavailable("hub sent a malformed cache row");
    c.commit = *id;
    c.state = *state;
    c.files = doc.value("files", uint64_t{0});
    c.bytes = doc.value("bytes", uint64_t{0});
    c.done_bytes = doc.value("done_bytes", uint64_t{0});
    c.fetched_bytes = doc.value("fetched_bytes", uint64_t{0});
    c.reason = StringField(doc, "reason");
    c.created_unix_ns = doc.value("created_unix_ns", int64_t{0});
    c.last_used_unix_ns = doc.value("last_used_unix_ns", int64_t{0});
    c.pinned = doc.value("pinned", false);
    c.team = StringField(doc, "team");
    c.version = doc.value("version", int64_t{0});
    return c;
  }

  std::shared_ptr<HubClient> hub_;
};

// Resources, templates, queues and jobs kept by the hub. The rows travel in
// the codec's JSON (ports/compute_codec.h), as the API sends them.
class HubComputeCatalog : public ComputeCatalog {
 public:
  explicit HubComputeCatalog(std::shared_ptr<HubClient> hub) : hub_(std::move(hub)) {}

  Status CreateResource(const ResourceRecord& r) override {
    return hub_->Call("POST", "/api/v1/compute", EncodeResource(r)).status();
  }
  Result<ResourceRecord> GetResource(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub_->Call("GET", "/api/v1/compute/" + std::string(name)));
    return Answer(DecodeResource(body));
  }
  Result<std::vector<ResourceRecord>> ListResources() override {
    return All<ResourceRecord>("/api/v1/compute?", DecodeResource);
  }
  Status UpdateResource(const ResourceRecord&) override {
    return Status::InvalidArgument("a resource's capacity changes on the hub only");
  }
  Status DeleteResource(std::string_view name) override {
    return hub_->Call("DELETE", "/api/v1/compute/" + std::string(name)).status();
  }

  Status CreateTemplate(const TemplateRecord& t) override {
    return hub_->Call("POST", "/api/v1/templates", EncodeTemplate(t)).status();
  }
  Result<TemplateRecord> GetTemplate(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub_->Call("GET", "/api/v1/templates/" + std::string(name)));
    return Answer(DecodeTemplate(body));
  }
  Result<std::vector<TemplateRecord>> ListTemplates() override {
    return All<TemplateRecord>("/api/v1/templates?", DecodeTemplate);
  }
  Status DeleteTemplate(std::string_view name) override {
    return hub_->Call("DELETE", "/api/v1/templates/" + std::string(name)).status();
  }

  Status CreateQueue(const QueueRecord& q) override {
    return hub_->Call("POST", "/api/v1/queues", EncodeQueue(q)).status();
  }
  Result<QueueRecord> GetQueue(std::string_view name) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub_->Call("GET", "/api/v1/queues/" + std::string(name)));
    return Answer(DecodeQueue(body));
  }
  Result<std::vector<QueueRecord>> ListQueues() override {
    return All<QueueRecord>("/api/v1/queues?", DecodeQueue);
  }
  Status DeleteQueue(std::string_view name) override {
    return hub_->Call("DELETE", "/api/v1/queues/" + std::string(name)).status();
  }

  // The hub fills in the owner and the submission time.
  Result<JobRecord> CreateJob(const JobRecord& job) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub_->Call("POST", "/api/v1/jobs", EncodeJobSpec(job.spec)));
    return Answer(DecodeJob(body));
  }
  Result<JobRecord> GetJob(int64_t id) override {
    PROXIMA_ASSIGN_OR_RETURN(std::string body,
                             hub_->Call("GET", "/api/v1/jobs/" + std::to_string(id)));
    return Answer(DecodeJob(body));
  }
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& f) override {
    std::string path = "/api/v1/jobs?limit=" + std::to_string(f.limit);
    if (f.before > 0) path += "&before=" + std::to_string(f.before);
    if (!f.owner.empty()) path += "&owner=" + HubQueryEscape(f.owner);
    if (!f.states.empty()) {
      std::string states;
      for (JobState s : f.states)
        states += (states.empty() ? "" : ",") + std::string(JobStateName(s));
      path += "&state=" + states;
    }
    PROXIMA_ASSIGN_OR_RETURN(std::string body, hub_->Call("GET", path));
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "a job listing"));
    return Answer(DecodeJobs(doc.value("items", json::array()).dump()));
  }
  Result<std::vector<JobRecord>> ListActiveJobs() override {
    JobFilter f;
    f.states = {JobState::kQueued, JobState::kPlacing, JobState::kStaging, JobState::kRunning};
    f.limit = 1000;
    PROXIMA_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, ListJobs(f));
    std::reverse(jobs.begin(), jobs.end());  // oldest first
    return jobs;
  }
  // Only a cancellation goes through (the hub refuses any other change).
  Result<int64_t> PutJob(const JobRecord& job) override {
    PROXIMA_ASSIGN_OR_RETURN(
        std::string body,
        hub_->Call("PUT", "/api/v1/jobs/" + std::to_string(job.id), EncodeJob(job)));
    PROXIMA_ASSIGN_OR_RETURN(json doc, ParseJson(body, "a job update"));
    return doc.value("version", int64_t{0});
  }

 private:
  // A row the hub sent that does not decode is the hub's fault.
  template <typename T>
  static Result<T> Answer(Result<T> decoded) {
    if (decoded.ok()) return decoded;
    return Status::Unavailable("hub sent a malformed answer: " + decoded.status().message());
  }

  template <typename T, typename Decode>
  Result<std::vector<T>> All(const std::string& path, Decode decode) {
    std::vector<T> out;
    PROXIMA_RETURN_IF_ERROR(ForEachPage(*hub_, path, [&](const json& item) -> Status {
      PROXIMA_ASSIGN_OR_RETURN(T row, Answer(decode(item.dump())));
      out.push_back(std::move(row));
      return Status::Ok();
    }));
    return out;
  }

  std::shared_ptr<HubClient> hub_;
};

}  // namespace

std::unique_ptr<RefStore> MakeHubRefStore(std::shared_ptr<HubClient> hub) {
  return std::make_unique<HubRefStore>(std::move(hub));
}

std::unique_ptr<ObjectStore> MakeHubObjectStore(std::shared_ptr<HubClient> hub) {
  return std::make_unique<HubObjectStore>(std::move(hub));
}

std::unique_ptr<CacheCatalog> MakeHubCacheCatalog(std::shared_ptr<HubClient> hub) {
  return std::make_unique<HubCacheCatalog>(std::move(hub));
}

std::unique_ptr<ComputeCatalog> MakeHubComputeCatalog(std::shared_ptr<HubClient> hub) {
  return std::make_unique<HubComputeCatalog>(std::move(hub));
}

}  // namespace proxima

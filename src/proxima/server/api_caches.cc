// Cache volumes, caches and leases: /api/v1/volumes/... (docs/caches.md).
//
// The hub keeps the rows; fills, evictions and readers run on the nodes that
// mount a volume and move the rows here by compare-and-swap. Volumes are
// managed by hub administrators; a cache or a lease of a dataset needs read
// access to the dataset (filling a cache is reading the dataset), and
// caches of datasets the caller cannot read are invisible to it.
#include <charconv>
#include <set>

#include "proxima/server/api.h"
#include "proxima/server/requests.h"

namespace proxima::api {

namespace {

const std::string kVolume = "/api/v1/volumes/([^/]+)";
const std::string kCache = kVolume + "/caches/([^/]+)/([0-9a-f]{64})";
const std::string kLease = kVolume + "/leases/([0-9a-zA-Z_-]{1,64})";
const std::string kQuota = kVolume + "/quotas/([^/]+)";

Json VolumeJson(const VolumeRecord& v) {
  return {{"name", v.name},
          {"path", v.path},
          {"resource", v.resource},
          {"capacity_bytes", v.capacity_bytes},
          {"ttl_seconds", v.ttl_ns / 1'000'000'000},
          {"high", v.high},
          {"low", v.low},
          {"created_unix_ns", v.created_unix_ns}};
}

Json CacheJson(const CacheRecord& c) {
  return {{"volume", c.volume},
          {"dataset", c.dataset},
          {"commit", c.commit.Hex()},
          {"state", CacheStateName(c.state)},
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
}

Json LeaseJson(const LeaseRecord& l) {
  return {{"id", l.id},           {"volume", l.volume},
          {"dataset", l.dataset}, {"commit", l.commit.Hex()},
          {"holder", l.holder},   {"expires_unix_ns", l.expires_unix_ns},
          {"owner", l.owner}};
}

// One page of the rows `fetch` lists on the request's volume, keeping those
// of datasets `who` may read (every one for an administrator).
template <typename T, typename Fetch, typename Key, typename ToJson>
Status ListOnVolume(Hub& hub, const httplib::Request& req, httplib::Response& res,
                    const Principal& who, Fetch fetch, Key key, ToJson to_json) {
  std::string volume = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->GetVolume(volume).status());
  std::set<std::string> readable;
  if (!who.admin) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> visible, hub.access->VisibleDatasets(who));
    for (const GrantRecord& g : visible) readable.insert(g.dataset);
  }
  Result<std::vector<T>> all = fetch(volume);
  PROXIMA_RETURN_IF_ERROR(all.status());
  std::vector<T> mine;
  for (T& row : *all) {
    if (who.admin || readable.count(row.dataset) != 0) mine.push_back(std::move(row));
  }
  SendJson(res, 200, PageOf(std::move(mine), key, page, to_json));
  return Status::Ok();
}

ObjectId CommitOf(const httplib::Request& req, int index) {
  return *ObjectId::FromHex(req.matches[index].str());  // the route admits only 64 hex digits
}

Status ListVolumes(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal&) {
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<VolumeRecord> volumes, hub.catalog->ListVolumes());
  SendJson(res, 200,
           PageOf(
               std::move(volumes), [](const VolumeRecord& v) { return v.name; }, page, VolumeJson));
  return Status::Ok();
}

Status CreateVolume(Hub& hub, const httplib::Request& req, httplib::Response& res,
                    const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "adding a volume"));
  PROXIMA_ASSIGN_OR_RETURN(VolumeRecord v, ParseVolume(req.body));
  v.created_unix_ns = hub.clock->NowUnixNanos();
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CreateVolume(v));
  Audit(hub, who, "volume.create", "volume:" + v.name, DumpJson(VolumeJson(v)));
  SendJson(res, 201, VolumeJson(v));
  return Status::Ok();
}

Status GetVolume(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal&) {
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(req.matches[1].str(), "volume"));
  PROXIMA_ASSIGN_OR_RETURN(VolumeRecord v, hub.catalog->GetVolume(req.matches[1].str()));
  SendJson(res, 200, VolumeJson(v));
  return Status::Ok();
}

Status DeleteVolume(Hub& hub, const httplib::Request& req, httplib::Response& res,
                    const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(name, "volume"));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "removing a volume"));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteVolume(name));
  Audit(hub, who, "volume.delete", "volume:" + name);
  SendJson(res, 200, {{"deleted", name}});
  return Status::Ok();
}

Status ListCaches(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  return ListOnVolume<CacheRecord>(
      hub, req, res, who, [&](const std::string& v) { return hub.catalog->ListCaches(v); },
      [](const CacheRecord& c) { return c.dataset + "@" + c.commit.Hex(); }, CacheJson);
}

Status GetCache(Hub& hub, const httplib::Request& req, httplib::Response& res,
                const Principal& who) {
  std::string volume = req.matches[1], dataset = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, dataset, Access::kRead).status());
  PROXIMA_ASSIGN_OR_RETURN(auto row, hub.catalog->GetCache(volume, dataset, CommitOf(req, 3)));
  if (!row) {
    PROXIMA_RETURN_IF_ERROR(hub.catalog->GetVolume(volume).status());
    return Status::NotFound("no cache of '" + dataset + "@" + CommitOf(req, 3).ShortHex() +
                            "' on volume '" + volume + "'");
  }
  SendJson(res, 200, CacheJson(*row));
  return Status::Ok();
}

Status PutCache(Hub& hub, const httplib::Request& req, httplib::Response& res,
                const Principal& who) {
  std::string volume = req.matches[1], dataset = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, dataset, Access::kRead).status());
  PROXIMA_ASSIGN_OR_RETURN(CacheRecord row, ParseCacheRow(req.body));
  row.volume = volume;
  row.dataset = dataset;
  row.commit = CommitOf(req, 3);
  // The team is fixed when the row is recorded (updates never change it).
  if (row.version == 0 && !row.team.empty() && !who.admin &&
      who.RoleIn(row.team) < TeamRole::kMember) {
    return Status::PermissionDenied("a cache counts against team '" + row.team +
                                    "' only when a member of it (or a hub admin) asks");
  }
  PROXIMA_ASSIGN_OR_RETURN(int64_t version, hub.catalog->PutCache(row));
  if (row.version == 0 || row.state == CacheState::kEvicting) {
    Audit(hub, who, row.version == 0 ? "cache.create" : "cache.evict", "volume:" + volume,
          DumpJson({{"dataset", dataset}, {"commit", row.commit.Hex()}}));
  }
  SendJson(res, 200, {{"version", version}});
  return Status::Ok();
}

Status DeleteCache(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  std::string volume = req.matches[1], dataset = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, dataset, Access::kRead).status());
  auto it = req.params.find("version");
  int64_t version = 0;
  const std::string& text = it == req.params.end() ? std::string() : it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return Status::InvalidArgument("'version' must be the row's version (a positive integer)");
  }
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteCache(volume, dataset, CommitOf(req, 3), version));
  Audit(hub, who, "cache.delete", "volume:" + volume,
        DumpJson({{"dataset", dataset}, {"commit", CommitOf(req, 3).Hex()}}));
  SendJson(res, 200, {{"deleted", dataset + "@" + CommitOf(req, 3).Hex()}});
  return Status::Ok();
}

Status ListQuotas(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal&) {
  std::string volume = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->GetVolume(volume).status());
  PROXIMA_ASSIGN_OR_RETURN(std::vector<QuotaRecord> quotas, hub.catalog->ListQuotas(volume));
  SendJson(res, 200,
           PageOf(
               std::move(quotas), [](const QuotaRecord& q) { return q.team; }, page,
               [](const QuotaRecord& q) {
                 return Json{{"team", q.team}, {"bytes", q.bytes}};
               }));
  return Status::Ok();
}

Status PutQuota(Hub& hub, const httplib::Request& req, httplib::Response& res,
                const Principal& who) {
  std::string volume = req.matches[1], team = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(team, "team"));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "setting a quota"));
  PROXIMA_ASSIGN_OR_RETURN(uint64_t bytes, ParseQuota(req.body));
  PROXIMA_RETURN_IF_ERROR(hub.catalog->GetTeam(team).status());
  PROXIMA_RETURN_IF_ERROR(hub.catalog->PutQuota({volume, team, bytes}));
  Audit(hub, who, "volume.quota", "volume:" + volume, DumpJson({{"team", team}, {"bytes", bytes}}));
  SendJson(res, 200, {{"team", team}, {"bytes", bytes}});
  return Status::Ok();
}

Status ListLeases(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  return ListOnVolume<LeaseRecord>(
      hub, req, res, who, [&](const std::string& v) { return hub.catalog->ListLeases(v); },
      [](const LeaseRecord& l) { return l.id; }, LeaseJson);
}

// A lease belongs to the user who took it: only that user (or a hub
// admin) renews or releases it, so a reader cannot end another's lease.
Status RequireLeaseOwner(const Principal& who, const LeaseRecord& lease) {
  if (who.admin || lease.owner == who.user) return Status::Ok();
  return Status::PermissionDenied("lease '" + lease.id + "' was taken by another user");
}

Status PutLease(Hub& hub, const httplib::Request& req, httplib::Response& res,
                const Principal& who) {
  std::string volume = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_ASSIGN_OR_RETURN(LeaseRecord lease, ParseLease(req.body));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, lease.dataset, Access::kRead).status());
  lease.id = req.matches[2];
  lease.volume = volume;
  lease.owner = who.user;
  // At most a week ahead of the hub's clock: a lease is renewed, not forever.
  constexpr int64_t kMaxLeaseNs = int64_t{7} * 24 * 3600 * 1'000'000'000;
  lease.expires_unix_ns = std::min(lease.expires_unix_ns, hub.clock->NowUnixNanos() + kMaxLeaseNs);
  PROXIMA_ASSIGN_OR_RETURN(std::vector<LeaseRecord> existing, hub.catalog->ListLeases(volume));
  for (const LeaseRecord& l : existing) {
    if (l.id == lease.id) PROXIMA_RETURN_IF_ERROR(RequireLeaseOwner(who, l));
  }
  PROXIMA_RETURN_IF_ERROR(hub.catalog->PutLease(lease));
  SendJson(res, 200, LeaseJson(lease));
  return Status::Ok();
}

Status DeleteLease(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  std::string volume = req.matches[1], id = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(ValidatePrincipalName(volume, "volume"));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<LeaseRecord> leases, hub.catalog->ListLeases(volume));
  for (const LeaseRecord& l : leases) {
    if (l.id != id) continue;
    PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, l.dataset, Access::kRead).status());
    // An expired lease holds nothing: any janitor may collect it.
    if (l.expires_unix_ns > hub.clock->NowUnixNanos()) {
      PROXIMA_RETURN_IF_ERROR(RequireLeaseOwner(who, l));
    }
    PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteLease(id));
    SendJson(res, 200, {{"deleted", id}});
    return Status::Ok();
  }
  return Status::NotFound("lease '" + id + "' does not exist on volume '" + volume + "'");
}

}  // namespace

void RegisterCacheRoutes(Router& r) {
  auto bind = [&r](HubHandler fn) { return Bind(r.hub(), fn); };
  r.Get("/api/v1/volumes", bind(ListVolumes));
  r.Post("/api/v1/volumes", bind(CreateVolume));
  r.Get(kVolume, bind(GetVolume));
  r.Delete(kVolume, bind(DeleteVolume));
  r.Get(kVolume + "/caches", bind(ListCaches));
  r.Get(kCache, bind(GetCache));
  r.Put(kCache, bind(PutCache));
  r.Delete(kCache, bind(DeleteCache));
  r.Get(kVolume + "/quotas", bind(ListQuotas));
  r.Put(kQuota, bind(PutQuota));
  r.Get(kVolume + "/leases", bind(ListLeases));
  r.Put(kLease, bind(PutLease));
  r.Delete(kLease, bind(DeleteLease));
}

}  // namespace proxima::api

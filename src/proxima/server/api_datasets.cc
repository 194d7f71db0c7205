// Datasets, refs and grants: /api/v1/datasets/...
#include "proxima/server/api.h"
#include "proxima/server/requests.h"

namespace proxima::api {

namespace {

const std::string kDataset = "/api/v1/datasets/([^/]+)";

Json IdJson(const std::optional<ObjectId>& id) { return id ? Json(id->Hex()) : Json(nullptr); }

Status ListDatasets(Hub& hub, const httplib::Request& req, httplib::Response& res,
                    const Principal& who) {
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  // Written as text, keys in the order a Json object dumps them: this is
  // the hub's busiest listing, and building a Json of a page cost most of
  // its time.
  TextPage out(page.limit);
  std::string last;
  bool more = false;
  auto add = [&](const std::string& name, int64_t created, Access access) {
    std::string& item = out.NextItem();
    item += "{\"access\":";
    AppendJsonString(&item, AccessName(access));
    item += ",\"created_unix_ns\":";
    item += std::to_string(created);
    item += ",\"name\":";
    AppendJsonString(&item, name);
    item += '}';
    last = name;
  };
  if (who.admin) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<DatasetRecord> rows,
                             hub.catalog->ListDatasetsPage(page.after, page.limit + 1));
    more = rows.size() > page.limit;
    if (more) rows.pop_back();
    for (const DatasetRecord& d : rows) add(d.name, d.created_unix_ns, Access::kAdmin);
  } else {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> visible, hub.access->VisibleDatasets(who));
    for (const GrantRecord& g : visible) {
      if (g.dataset <= page.after) continue;
      if (out.count() == page.limit) {
        more = true;
        break;
      }
      // The page is small: its creation times come one lookup each.
      PROXIMA_ASSIGN_OR_RETURN(DatasetRecord d, hub.catalog->GetDataset(g.dataset));
      add(g.dataset, d.created_unix_ns, g.access);
    }
  }
  out.Send(res, more ? std::optional<std::string>(last) : std::nullopt);
  return Status::Ok();
}

Status CreateDataset(Hub& hub, const httplib::Request& req, httplib::Response& res,
                     const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_ASSIGN_OR_RETURN(CreateDatasetRequest body, ParseCreateDataset(req.body));
  if (!who.MayCreateDatasets()) {
    return Status::PermissionDenied(
        "creating datasets needs the member or admin role in a team (you are a viewer or in no "
        "team); ask a hub administrator");
  }
  int64_t now = hub.clock->NowUnixNanos();
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CreateDataset(body.name, now));
  // The creator administers the dataset. Undo the creation if that fails,
  // so that no dataset is left that nobody but hub admins may touch.
  Status granted = hub.catalog->PutGrant({body.name, "user:" + who.user, Access::kAdmin});
  if (!granted.ok()) {
    IgnoreError(hub.catalog->DeleteDataset(body.name));
    return granted;
  }
  hub.access->Forget();  // the creator's best access changed
  Audit(hub, who, "dataset.create", "dataset:" + body.name);
  SendJson(res, 201, {{"name", body.name}, {"created_unix_ns", now}, {"access", "admin"}});
  return Status::Ok();
}

Status GetDataset(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_ASSIGN_OR_RETURN(Access access, RequireDatasetAccess(hub, who, name, Access::kRead));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<RefRecord> refs, hub.catalog->ListRefs(name));
  Json head = nullptr;
  Json tags = Json::object();
  for (const RefRecord& r : refs) {
    if (r.name == kHeadRef) head = r.commit.Hex();
    if (r.name.rfind("tags/", 0) == 0) tags[r.name.substr(5)] = r.commit.Hex();
  }
  SendJson(res, 200,
           {{"name", name}, {"access", AccessName(access)}, {"head", head}, {"tags", tags}});
  return Status::Ok();
}

Status DeleteDataset(Hub& hub, const httplib::Request& req, httplib::Response& res,
                     const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, name, Access::kAdmin).status());
  PROXIMA_RETURN_IF_ERROR(hub.catalog->DeleteDataset(name));
  hub.access->Forget();
  Audit(hub, who, "dataset.delete", "dataset:" + name);
  SendJson(res, 200, {{"deleted", name}});
  return Status::Ok();
}

Status ListRefs(Hub& hub, const httplib::Request& req, httplib::Response& res,
                const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, name, Access::kRead).status());
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<RefRecord> refs, hub.catalog->ListRefs(name));
  SendJson(res, 200,
           PageOf(
               std::move(refs), [](const RefRecord& r) { return r.name; }, page,
               [](const RefRecord& r) {
                 return Json{{"ref", r.name}, {"commit", r.commit.Hex()}};
               }));
  return Status::Ok();
}

Status GetRef(Hub& hub, const httplib::Request& req, httplib::Response& res, const Principal& who) {
  std::string name = req.matches[1], ref = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(ValidateRefName(ref));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, name, Access::kRead).status());
  PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> commit, hub.catalog->GetRef(name, ref));
  SendJson(res, 200, {{"ref", ref}, {"commit", IdJson(commit)}});
  return Status::Ok();
}

Status UpdateRef(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  std::string name = req.matches[1], ref = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(ValidateRefName(ref));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, name, Access::kWrite).status());
  PROXIMA_ASSIGN_OR_RETURN(RefUpdateRequest body, ParseRefUpdate(req.body));
  if (body.desired) {
    // A ref never points at a commit the store lacks (docs/format.md,
    // "Write order"): the client uploads first, then moves the ref.
    Result<uint64_t> size = hub.store->Size(ObjectKey(ObjectKind::kCommit, *body.desired));
    if (size.status().IsNotFound()) {
      return Status::FailedPrecondition("commit " + body.desired->ShortHex() +
                                        " is not in the store; upload it before moving '" + ref +
                                        "'");
    }
    PROXIMA_RETURN_IF_ERROR(size.status());
  }
  PROXIMA_RETURN_IF_ERROR(hub.catalog->CompareAndSwapRef(name, ref, body.expected, body.desired));
  Audit(hub, who, body.desired ? "ref.update" : "ref.delete", "dataset:" + name,
        DumpJson({{"ref", ref}, {"from", IdJson(body.expected)}, {"to", IdJson(body.desired)}}));
  SendJson(res, 200, {{"ref", ref}, {"commit", IdJson(body.desired)}});
  return Status::Ok();
}

Status ListGrants(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, name, Access::kAdmin).status());
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> grants, hub.catalog->ListGrants(name));
  SendJson(res, 200,
           PageOf(
               std::move(grants), [](const GrantRecord& g) { return g.subject; }, page,
               [](const GrantRecord& g) {
                 return Json{{"subject", g.subject}, {"access", AccessName(g.access)}};
               }));
  return Status::Ok();
}

Status PutGrant(Hub& hub, const httplib::Request& req, httplib::Response& res,
                const Principal& who) {
  std::string name = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, name, Access::kAdmin).status());
  PROXIMA_ASSIGN_OR_RETURN(GrantRequest body, ParseGrant(req.body));
  // The subject must exist: a grant to a typo would silently grant nothing.
  if (body.subject.rfind("user:", 0) == 0) {
    PROXIMA_RETURN_IF_ERROR(hub.catalog->GetUser(body.subject.substr(5)).status());
  } else {
    PROXIMA_RETURN_IF_ERROR(hub.catalog->GetTeam(body.subject.substr(5)).status());
  }
  PROXIMA_RETURN_IF_ERROR(hub.catalog->PutGrant({name, body.subject, body.access}));
  hub.access->Forget();
  Audit(hub, who, "grant.set", "dataset:" + name,
        DumpJson({{"subject", body.subject}, {"access", AccessName(body.access)}}));
  SendJson(res, 200, {{"subject", body.subject}, {"access", AccessName(body.access)}});
  return Status::Ok();
}

Status RemoveGrant(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  std::string name = req.matches[1], subject = req.matches[2];
  PROXIMA_RETURN_IF_ERROR(ValidateSubject(subject));
  PROXIMA_RETURN_IF_ERROR(RequireDatasetAccess(hub, who, name, Access::kAdmin).status());
  PROXIMA_RETURN_IF_ERROR(hub.catalog->RemoveGrant(name, subject));
  hub.access->Forget();
  Audit(hub, who, "grant.remove", "dataset:" + name, DumpJson({{"subject", subject}}));
  SendJson(res, 200, {{"removed", subject}});
  return Status::Ok();
}

}  // namespace

void RegisterDatasetRoutes(Router& r) {
  auto bind = [&r](HubHandler fn) { return Bind(r.hub(), fn); };
  r.Get("/api/v1/datasets", bind(ListDatasets));
  r.Post("/api/v1/datasets", bind(CreateDataset));
  r.Get(kDataset, bind(GetDataset));
  r.Delete(kDataset, bind(DeleteDataset));
  r.Get(kDataset + "/refs", bind(ListRefs));
  r.Get(kDataset + "/refs/(head|tags/[^/]+)", bind(GetRef));
  r.Put(kDataset + "/refs/(head|tags/[^/]+)", bind(UpdateRef));
  r.Get(kDataset + "/grants", bind(ListGrants));
  r.Put(kDataset + "/grants", bind(PutGrant));
  r.Delete(kDataset + "/grants/([^/]+)", bind(RemoveGrant));
}

}  // namespace proxima::api

// The data plane through the hub: /api/v1/objects/... For a store the client
// cannot reach itself (the local folder of the hub), the hub streams object
// bytes, after checking permissions and, for uploads, every hash.
//
// Objects are content-addressed and shared by every dataset of the store
// (that is what deduplicates across datasets), so object access is granted
// by having read (or write) access to some dataset, and an object id acts as
// a capability: ids reach a client only through the trees and commits of
// datasets it can read. Listing is restricted accordingly (docs/api.md).
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <unordered_set>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/parallel.h"
#include "proxima/core/object_check.h"
#include "proxima/server/api.h"
#include "proxima/server/requests.h"
#include "proxima/server/socket_body.h"
#include "proxima/server/upload_verifier.h"

namespace proxima::api {

namespace {

// Upload bodies land in buffers kept for the next upload: a fresh 16 MiB
// buffer per pack cost the hub 4,096 page faults (8% of its CPU in a sync).
AlignedBufferPool& Bodies() {
  // As many as a client sends packs at once (HubObjectStore's concurrency),
  // of pack size; never destroyed, as server threads may outlive exit.
  static auto* pool = new AlignedBufferPool(8, size_t{32} << 20);
  return *pool;
}

// Bodies at least this large are read from the socket directly.
constexpr uint64_t kDirectBodyBytes = uint64_t{256} << 10;
// How long a body may stall before the upload fails (the server's read timeout).
constexpr int kBodyStallMs = 60'000;

Status RequireAny(Hub& hub, const Principal& who, Access level) {
  PROXIMA_ASSIGN_OR_RETURN(bool any, hub.access->HasAnyAccess(who, level));
  if (any) return Status::Ok();
  return Status::PermissionDenied("objects need " + std::string(AccessName(level)) +
                                  " access to at least one dataset; you have none");
}

// Reading the objects `keys`: read access to some dataset, except for the
// store's config, which is no secret (every client reads it first, even one
// that can read no dataset yet).
Status RequireRead(Hub& hub, const Principal& who, const std::vector<std::string>& keys) {
  bool only_config =
      std::all_of(keys.begin(), keys.end(), [](const std::string& k) { return k == kConfigKey; });
  return only_config ? Status::Ok() : RequireAny(hub, who, Access::kRead);
}

Result<uint64_t> NumberParam(const httplib::Request& req, const char* name, uint64_t dflt) {
  if (!req.has_param(name)) return dflt;
  std::string v = req.get_param_value(name);
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size()) {
    return Status::InvalidArgument(std::string("'") + name + "' must be a non-negative integer");
  }
  return n;
}

Status GetObject(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who) {
  std::string key = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidateObjectKey(key));
  PROXIMA_RETURN_IF_ERROR(RequireRead(hub, who, {key}));
  if (req.method == "HEAD") {
    PROXIMA_ASSIGN_OR_RETURN(uint64_t size, hub.reads->Size(key));
    res.status = 200;
    res.set_header("X-Object-Size", std::to_string(size));
    return Status::Ok();
  }
  const bool ranged = req.has_param("offset") || req.has_param("length");
  uint64_t offset = 0;
  uint64_t length = UINT64_MAX;
  if (ranged) {
    PROXIMA_ASSIGN_OR_RETURN(offset, NumberParam(req, "offset", 0));
    PROXIMA_ASSIGN_OR_RETURN(length, NumberParam(req, "length", UINT64_MAX));
    length = std::min<uint64_t>(length, hub.options->max_object_bytes);
  }
  // Trees, indexes, commits: small, and read often (the page cache serves
  // them). A Range header is cpp-httplib's to apply, to a body it holds.
  if (!IdFromKey(ObjectKind::kPack, key) || req.has_header("Range")) {
    std::string bytes;
    if (ranged) {
      PROXIMA_ASSIGN_OR_RETURN(bytes, hub.reads->GetRange(key, offset, length));
    } else {
      PROXIMA_ASSIGN_OR_RETURN(bytes, hub.reads->Get(key));
    }
    hub.metrics->AddObjectBytes(bytes.size(), 0);
    res.status = 200;
    res.set_content(bytes, "application/octet-stream");
    return Status::Ok();
  }
  // Pack content (a clone moves every byte of a dataset through here) is
  // read as the embedded mode reads it, past the page cache into aligned
  // memory that is not zero-filled, and the response is written from that
  // memory, not from a copy.
  // The buffer is sized for what the object holds, not for what was asked.
  PROXIMA_ASSIGN_OR_RETURN(uint64_t size, hub.reads->Size(key));
  offset = std::min(offset, size);
  length = std::min(length, size - offset);
  auto buffer = std::make_shared<AlignedBuffer>();
  PROXIMA_ASSIGN_OR_RETURN(std::string_view bytes,
                           hub.reads->GetRangeInto(key, offset, length, buffer.get()));
  hub.metrics->AddObjectBytes(bytes.size(), 0);
  res.status = 200;
  if (bytes.empty()) {
    // A provider of no bytes would read to cpp-httplib as one of unknown length.
    res.set_content("", "application/octet-stream");
    return Status::Ok();
  }
  res.set_content_provider(bytes.size(), "application/octet-stream",
                           [buffer, bytes](size_t at, size_t n, httplib::DataSink& sink) {
                             if (at >= bytes.size()) return false;
                             return sink.write(bytes.data() + at, std::min(n, bytes.size() - at));
                           });
  return Status::Ok();
}

// `verify_uploads: behind` (upload_verifier.h): the pack's trailer is
// checked now, its blobs by the verifier. Until then the bytes wait under an
// incoming key of their own, never at the pack's key, so that a lying upload
// can never replace or be taken for an honest one.
Status StorePending(Hub& hub, const Principal& who, const std::string& key, std::string_view bytes,
                    bool create_only) {
  PROXIMA_RETURN_IF_ERROR(VerifyObjectBytes(key, bytes, /*pack_blobs=*/false));
  Result<uint64_t> stored = hub.store->Size(key);
  if (stored.ok()) {
    // In place, so verified: the same content (the trailer names every blob).
    if (create_only) {
      return Status::AlreadyExists("object '" + key + "' already exists in " +
                                   hub.store->Describe());
    }
    return Status::Ok();
  }
  if (!stored.status().IsNotFound()) return stored.status();
  // The row first: bytes without one would pass for verified after a crash.
  UnverifiedRecord row{IncomingKey(*IdFromKey(ObjectKind::kPack, key)), key, who.user, "",
                       hub.clock->NowUnixNanos()};
  PROXIMA_RETURN_IF_ERROR(hub.catalog->AddUnverified(row));
  Status put = hub.store->PutIfAbsent(row.key, bytes);
  if (!put.ok()) {
    IgnoreError(hub.catalog->RemoveUnverified(row.key));
    return put;
  }
  hub.verifier->Wake();
  return Status::Ok();
}

// An index that lists pending packs is itself pending until they are in
// place: other users' clients do not deduplicate against it meanwhile.
Status NotePendingIndex(Hub& hub, const Principal& who, const std::string& key,
                        std::string_view bytes) {
  PROXIMA_ASSIGN_OR_RETURN(std::vector<IndexedPack> packs, DecodeIndex(bytes, key));
  std::string pending;
  for (const IndexedPack& p : packs) {
    std::string pack_key = ObjectKey(ObjectKind::kPack, p.pack);
    Result<uint64_t> size = hub.store->Size(pack_key);
    if (size.ok()) continue;
    if (!size.status().IsNotFound()) return size.status();
    if (!pending.empty()) pending += ' ';
    pending += pack_key;
  }
  if (pending.empty()) return Status::Ok();
  Status added =
      hub.catalog->AddUnverified({key, "", who.user, pending, hub.clock->NowUnixNanos()});
  return added.IsAlreadyExists() ? Status::Ok() : added;  // the same index, uploaded again
}

Status PutObject(Hub& hub, const httplib::Request& req, httplib::Response& res,
                 const Principal& who, const httplib::ContentReader& reader) {
  std::string key = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidateObjectKey(key));
  PROXIMA_RETURN_IF_ERROR(RequireAny(hub, who, Access::kWrite));
  if (key == kConfigKey) {
    return Status::PermissionDenied("the hub owns its store's config; it cannot be written");
  }
  // The body goes straight into page-aligned memory: the local store then
  // writes it with O_DIRECT, as the embedded mode's packs are written.
  const uint64_t limit = hub.options->max_object_bytes;
  auto too_large = [&] {
    SendError(res,
              Status::InvalidArgument("object '" + key + "' is over the hub's limit of " +
                                      std::to_string(limit) + " bytes (limits.max_object_bytes)"),
              413);
    // The rest of the body is not read: the connection cannot carry another
    // request, so the client must not reuse it.
    res.set_header("Connection", "close");
    return Status::Ok();
  };
  AlignedBufferPool::Lease lease(&Bodies());
  AlignedBuffer& body = *lease;
  std::string length = req.get_header_value("Content-Length");
  const uint64_t declared = length.empty() ? 0 : std::strtoull(length.c_str(), nullptr, 10);
  if (declared > limit) return too_large();
  // Rounded up, so that the next pack, a little larger, fits a reused buffer.
  constexpr uint64_t kStep = uint64_t{4} << 20;
  body.Reserve((declared + kStep - 1) / kStep * kStep);
  // A large body over plain HTTP is read from its socket directly (see
  // socket_body.h): the library delivers what it has buffered, and the hub
  // reads the rest in large reads, then stops the library's loop.
  int fd = -1;
  if (declared >= kDirectBodyBytes && hub.options->tls_cert_file.empty() &&
      !req.has_header("Transfer-Encoding") && !req.has_header("Content-Encoding")) {
    fd = FindRequestSocket(req);
  }
  bool over = false;
  Status direct = Status::Ok();
  reader([&](const char* data, size_t n) {
    over = body.size() + n > limit;
    if (over) return false;
    body.Append(std::string_view(data, n));
    if (fd < 0 || body.size() >= declared) return true;
    size_t before = body.size();
    direct = ReadSocketExactly(fd, declared - before, kBodyStallMs, body);
    hub.metrics->AddSocketBodyBytes(body.size() - before);
    return false;  // every byte of the body is read
  });
  if (over) return too_large();
  if (!direct.ok()) {
    res.set_header("Connection", "close");
    return direct.WithContext("object '" + key + "'");
  }
  if (fd >= 0 && body.size() != declared) {
    res.set_header("Connection", "close");
    return Status::InvalidArgument("object '" + key + "': the body ended after " +
                                   std::to_string(body.size()) + " of " + std::to_string(declared) +
                                   " bytes");
  }
  std::string_view bytes = body.view();
  bool create_only = req.get_header_value("If-None-Match") == "*";
  using Verify = ServerOptions::VerifyUploads;
  const Verify mode = hub.options->verify_uploads;
  if (mode == Verify::kBehind && IdFromKey(ObjectKind::kPack, key)) {
    PROXIMA_RETURN_IF_ERROR(StorePending(hub, who, key, bytes, create_only));
  } else {
    // Index objects are checked against the packs they list, pending ones
    // included.
    PROXIMA_RETURN_IF_ERROR(VerifyUpload(*hub.reads, key, bytes, mode == Verify::kBlobs));
    // In every mode: a hub may have been switched, or share its catalog.
    if (IdFromKey(ObjectKind::kIndex, key)) {
      PROXIMA_RETURN_IF_ERROR(NotePendingIndex(hub, who, key, bytes));
    }
    // Objects are immutable and named by their content, and these bytes were
    // just verified: a plain Put is safe even if the object exists (it holds
    // the same content). With If-None-Match: * the client asks create-only.
    PROXIMA_RETURN_IF_ERROR(create_only ? hub.store->PutIfAbsent(key, bytes)
                                        : hub.store->Put(key, bytes));
  }
  hub.metrics->AddObjectBytes(0, bytes.size());
  SendJson(res, 201, {{"key", key}, {"size", bytes.size()}});
  return Status::Ok();
}

// One item of a batch: verified as its own PUT would be, then stored.
Status StoreBatchItem(Hub& hub, const Principal& who, const ObjectBatchItem& item, bool blobs,
                      std::atomic<uint64_t>* bytes) {
  std::string key(item.key);
  PROXIMA_RETURN_IF_ERROR(VerifyUpload(*hub.reads, key, item.bytes, blobs));
  if (IdFromKey(ObjectKind::kIndex, key)) {
    PROXIMA_RETURN_IF_ERROR(NotePendingIndex(hub, who, key, item.bytes));
  }
  PROXIMA_RETURN_IF_ERROR(hub.store->Put(key, item.bytes));
  bytes->fetch_add(item.bytes.size(), std::memory_order_relaxed);
  return Status::Ok();
}

// Many small objects in one request (trees: a sync of 100,000 files in
// 1,000 folders writes 1,000 of them). Each is verified as its own PUT.
Status PutObjectBatch(Hub& hub, const httplib::Request& req, httplib::Response& res,
                      const Principal& who) {
  constexpr size_t kMaxItems = 10000;
  PROXIMA_RETURN_IF_ERROR(RequireAny(hub, who, Access::kWrite));
  if (req.body.size() > hub.options->max_object_bytes) {
    res.set_header("Connection", "close");
    return Status::InvalidArgument("an object batch is over the hub's limit of " +
                                   std::to_string(hub.options->max_object_bytes) +
                                   " bytes (limits.max_object_bytes)");
  }
  PROXIMA_ASSIGN_OR_RETURN(std::vector<ObjectBatchItem> items,
                           ParseObjectBatch(req.body, kMaxItems));
  const bool blobs = hub.options->verify_uploads == ServerOptions::VerifyUploads::kBlobs;
  // Items are independent (a tree delta's base is durable before the sync
  // that refers to it starts), and storing each is mostly creating a file:
  // a few threads take a sync's thousand trees in a third of the time.
  constexpr int kBatchThreads = 4;
  std::atomic<uint64_t> bytes{0};
  Status s = ParallelFor(items.size(), kBatchThreads, [&](size_t i) -> Status {
    try {
      return StoreBatchItem(hub, who, items[i], blobs, &bytes);
    } catch (const std::exception& e) {  // a worker thread must not terminate the hub
      return Status::Internal(std::string("object batch: ") + e.what());
    }
  });
  if (!s.ok()) return s.WithContext("object batch");
  hub.metrics->AddObjectBytes(0, bytes.load());
  SendJson(res, 201, {{"stored", items.size()}, {"bytes", bytes.load()}});
  return Status::Ok();
}

Status DeleteObject(Hub& hub, const httplib::Request& req, httplib::Response& res,
                    const Principal& who) {
  std::string key = req.matches[1];
  PROXIMA_RETURN_IF_ERROR(ValidateObjectKey(key));
  PROXIMA_RETURN_IF_ERROR(RequireHubAdmin(who, "deleting objects"));
  PROXIMA_RETURN_IF_ERROR(hub.store->Delete(key));
  Audit(hub, who, "object.delete", "object:" + key);
  SendJson(res, 200, {{"deleted", key}});
  return Status::Ok();
}

// Every commit reachable from the refs of the datasets `who` can read.
Result<std::unordered_set<ObjectId, Hash256Hasher>> VisibleCommits(Hub& hub, const Principal& who) {
  PROXIMA_ASSIGN_OR_RETURN(std::vector<GrantRecord> visible, hub.access->VisibleDatasets(who));
  std::vector<ObjectId> todo;
  for (const GrantRecord& g : visible) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<RefRecord> refs, hub.catalog->ListRefs(g.dataset));
    for (const RefRecord& r : refs) todo.push_back(r.commit);
  }
  std::unordered_set<ObjectId, Hash256Hasher> seen;
  while (!todo.empty()) {
    ObjectId id = todo.back();
    todo.pop_back();
    if (!seen.insert(id).second) continue;
    std::vector<ObjectId> parents;
    {
      std::lock_guard lock(hub.parents_mu);
      auto it = hub.parents.find(id);
      if (it != hub.parents.end()) parents = it->second;
    }
    if (parents.empty()) {
      Result<Commit> commit = hub.repo->LoadCommit(id);
      if (!commit.ok()) continue;  // fsck's business, not the listing's
      parents = commit->parents;
      std::lock_guard lock(hub.parents_mu);
      hub.parents[id] = parents;
    }
    todo.insert(todo.end(), parents.begin(), parents.end());
  }
  return seen;
}

Status ListObjects(Hub& hub, const httplib::Request& req, httplib::Response& res,
                   const Principal& who) {
  std::string prefix = req.get_param_value("prefix");
  const std::string commits(KindPrefix(ObjectKind::kCommit));
  const std::string index(KindPrefix(ObjectKind::kIndex));
  std::optional<std::unordered_set<ObjectId, Hash256Hasher>> filter;
  if (who.admin) {
    // everything
  } else if (prefix.rfind(index, 0) == 0) {
    PROXIMA_RETURN_IF_ERROR(RequireAny(hub, who, Access::kRead));
  } else if (prefix.rfind(commits, 0) == 0) {
    PROXIMA_ASSIGN_OR_RETURN(filter, VisibleCommits(hub, who));
  } else {
    return Status::PermissionDenied("listing objects under '" + prefix +
                                    "' needs a hub administrator (others may list '" + index +
                                    "' and '" + commits + "')");
  }
  PROXIMA_ASSIGN_OR_RETURN(PageRequest page, ParsePage(req.params, hub.options->max_page_size));
  std::vector<ObjectInfo> found;
  auto list = [&](const std::string& under) {
    return hub.store->List(under, [&](const ObjectInfo& info) -> Status {
      if (info.key <= page.after) return Status::Ok();
      if (filter) {
        auto id = IdFromKey(ObjectKind::kCommit, info.key);
        if (!id || filter->count(*id) == 0) return Status::Ok();
      }
      found.push_back(info);
      return Status::Ok();
    });
  };
  // Packs and trees fan out into 256 folders (docs/format.md, "Keys").
  bool whole_kind =
      prefix == KindPrefix(ObjectKind::kPack) || prefix == KindPrefix(ObjectKind::kTree);
  if (whole_kind) {
    // Their keys are KIND/xx/<id>: list shard by shard from the page's cursor,
    // until the page is full, so that paging through a large store costs
    // each page its own keys, not a listing of everything before them.
    static constexpr char kHex[] = "0123456789abcdef";
    int first = 0;
    if (page.after.size() >= prefix.size() + 2 && page.after.rfind(prefix, 0) == 0) {
      std::string shard = page.after.substr(prefix.size(), 2);
      first = static_cast<int>(std::string_view(kHex).find(shard[0])) * 16 +
              static_cast<int>(std::string_view(kHex).find(shard[1]));
      if (first < 0) first = 0;
    }
    for (int i = first; i < 256 && found.size() <= page.limit; ++i) {
      PROXIMA_RETURN_IF_ERROR(list(prefix + kHex[i >> 4] + kHex[i & 15] + "/"));
    }
  } else {
    PROXIMA_RETURN_IF_ERROR(list(prefix));
  }
  // Indexes that list packs still waiting for their verification, uploaded
  // by someone else: the caller may read through them, not deduplicate.
  // Read after the listing: a row is written before its index and removed
  // only once its packs are in place, so no index listed above can have
  // become pending unseen.
  std::unordered_set<std::string> pending;
  if (index.rfind(prefix, 0) == 0 || prefix.rfind(index, 0) == 0) {
    PROXIMA_ASSIGN_OR_RETURN(std::vector<UnverifiedRecord> rows, hub.catalog->ListUnverified());
    for (const UnverifiedRecord& r : rows) {
      if (r.object.empty() && r.uploader != who.user) pending.insert(r.key);
    }
  }
  // Written as text, as a dumped Json would read (keys sorted): listing
  // commits is a busy read, and building a Json of the page cost more than
  // listing the store.
  std::sort(found.begin(), found.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  TextPage out(std::min(found.size(), page.limit));
  for (const ObjectInfo& o : found) {
    if (out.count() == page.limit) {
      out.Send(res, found[out.count() - 1].key);
      return Status::Ok();
    }
    std::string& item = out.NextItem();
    item += "{\"key\":";
    AppendJsonString(&item, o.key);
    if (pending.count(o.key) != 0) item += ",\"pending\":true";
    item += ",\"size\":";
    item += std::to_string(o.size);
    item += '}';
  }
  out.Send(res, std::nullopt);
  return Status::Ok();
}

// Direct access for stores that can hand out URLs (S3): the hub answers
// which objects are missing and signs URLs, and the bytes go between client
// and store. Only packs may be uploaded this way: trees, indexes and commits
// are small and pass through the hub, which verifies them (an index also
// against the trailers of the packs it lists), so deduplication never
// trusts a claim the hub has not checked (docs/api.md, "Objects").
Status ObjectUrls(Hub& hub, const httplib::Request& req, httplib::Response& res,
                  const Principal& who) {
  constexpr int64_t kExpiresSeconds = 900;
  PROXIMA_RETURN_IF_ERROR(CheckJsonSize(hub, req));
  PROXIMA_ASSIGN_OR_RETURN(ObjectUrlsRequest body, ParseObjectUrls(req.body));
  bool put = body.method == "PUT";
  PROXIMA_RETURN_IF_ERROR(put ? RequireAny(hub, who, Access::kWrite)
                              : RequireRead(hub, who, body.keys));
  Json urls = Json::object();
  Json present = Json::array();
  for (const std::string& key : body.keys) {
    if (put) {
      if (!IdFromKey(ObjectKind::kPack, key)) {
        return Status::InvalidArgument("only packs are uploaded directly; PUT '" + key +
                                       "' through the hub, which verifies it");
      }
      Result<uint64_t> size = hub.store->Size(key);
      if (size.ok()) {
        present.push_back(key);
        continue;
      }
      if (!size.status().IsNotFound()) return size.status();
    }
    PROXIMA_ASSIGN_OR_RETURN(std::string url,
                             hub.store->PresignedUrl(body.method, key, kExpiresSeconds));
    urls[key] = std::move(url);
  }
  SendJson(res, 200,
           {{"urls", std::move(urls)},
            {"present", std::move(present)},
            {"expires_in_seconds", kExpiresSeconds}});
  return Status::Ok();
}

Status SyncStore(Hub& hub, const httplib::Request&, httplib::Response& res, const Principal& who) {
  PROXIMA_RETURN_IF_ERROR(RequireAny(hub, who, Access::kWrite));
  PROXIMA_RETURN_IF_ERROR(hub.store->Sync());
  SendJson(res, 200, {{"synced", true}});
  return Status::Ok();
}

}  // namespace

void RegisterObjectRoutes(Router& r) {
  auto bind = [&r](HubHandler fn) { return Bind(r.hub(), fn); };
  r.Get("/api/v1/objects", bind(ListObjects));
  r.Post("/api/v1/objects/sync", bind(SyncStore));
  r.Post("/api/v1/objects/urls", bind(ObjectUrls));
  r.Post("/api/v1/objects/batch", bind(PutObjectBatch));
  r.Get("/api/v1/objects/(.+)", bind(GetObject));
  r.PutStream("/api/v1/objects/(.+)",
              [&hub = r.hub()](const httplib::Request& req, httplib::Response& res,
                               const Principal& who, const httplib::ContentReader& reader) {
                return PutObject(hub, req, res, who, reader);
              });
  r.Delete("/api/v1/objects/(.+)", bind(DeleteObject));
}

}  // namespace proxima::api

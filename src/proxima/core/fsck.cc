#include "proxima/core/fsck.h"

#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "proxima/base/parallel.h"
#include "proxima/model/names.h"

namespace proxima {

Result<FsckReport> CheckStore(Repository& repo, RefStore& refs, bool read_data, int threads,
                              Progress* progress) {
  FsckReport report;
  PROXIMA_ASSIGN_OR_RETURN(std::vector<RefRecord> all_refs, refs.ListRefs(""));
  report.refs = all_refs.size();
  StartPhase(progress, "checking commits and trees", 0, 0);

  std::unordered_set<ObjectId, Hash256Hasher> commits_seen, trees_seen;
  std::unordered_map<ObjectId, std::string, Hash256Hasher> blob_paths;  // blob -> a file using it
  std::vector<std::pair<ObjectId, std::string>> commit_stack;
  for (const RefRecord& r : all_refs) {
    commit_stack.push_back({r.commit, r.dataset + " " + r.name});
  }
  std::vector<std::pair<ObjectId, std::string>> tree_stack;  // tree, path
  while (!commit_stack.empty()) {
    auto [id, from] = commit_stack.back();
    commit_stack.pop_back();
    if (!commits_seen.insert(id).second) continue;
    auto commit = repo.LoadCommit(id);
    if (!commit.ok()) {
      report.problems.push_back("commit " + id.Hex() + " (reached from " + from +
                                "): " + commit.status().message());
      continue;
    }
    ++report.commits;
    for (const ObjectId& p : commit->parents)
      commit_stack.push_back({p, "commit " + id.ShortHex()});
    tree_stack.push_back({commit->tree, ""});
  }
  while (!tree_stack.empty()) {
    auto [id, path] = tree_stack.back();
    tree_stack.pop_back();
    if (!trees_seen.insert(id).second) continue;
    auto tree = repo.LoadTree(id);
    if (!tree.ok()) {
      report.problems.push_back("folder " + QuotePath(path.empty() ? "/" : path) + ": " +
                                tree.status().message());
      continue;
    }
    ++report.trees;
    for (const TreeEntry& e : tree->entries) {
      std::string child = path.empty() ? e.name : path + "/" + e.name;
      if (e.type == EntryType::kDirectory) tree_stack.push_back({e.tree, child});
      for (const ObjectId& c : e.chunks) blob_paths.emplace(c, child);
    }
  }
  report.blobs = blob_paths.size();

  StartPhase(progress, "loading index", 0, 0);
  PROXIMA_ASSIGN_OR_RETURN(auto index, repo.LoadBlobIndex());
  for (const std::string& d : index->damaged()) {
    report.notes.push_back(d + " (left out; a missing blob would be reported below)");
  }
  std::map<uint32_t, std::vector<PackedBlob>> by_pack;
  uint64_t bytes_total = 0;
  for (const auto& [blob, path] : blob_paths) {
    const BlobIndex::Location* loc = index->Find(blob);
    if (loc == nullptr) {
      report.problems.push_back("content of " + QuotePath(path) + " (blob " + blob.ShortHex() +
                                ") is in no index: it is missing from the store");
      continue;
    }
    by_pack[loc->pack].push_back(index->ToPackedBlob(blob, *loc));
    bytes_total += loc->raw_length;
  }
  report.packs = by_pack.size();
  if (!read_data) return report;

  std::vector<std::pair<uint32_t, std::vector<PackedBlob>>> work(by_pack.begin(), by_pack.end());
  std::mutex mu;
  StartPhase(progress, "verifying data", work.size(), bytes_total);
  IgnoreError(ParallelFor(work.size(), threads, [&](size_t w) -> Status {
    const ObjectId& pack_id = index->PackId(work[w].first);
    std::vector<std::string> found;
    uint64_t verified = 0;
    std::string key = ObjectKey(ObjectKind::kPack, pack_id);
    auto bytes = repo.store().Get(key);
    auto id = bytes.ok() ? PackIdOf(*bytes, key) : Result<ObjectId>(bytes.status());
    if (!bytes.ok()) {
      found.push_back(bytes.status().message());
    } else if (!id.ok() || *id != pack_id) {
      found.push_back("pack '" + key + "' in " + repo.store().Describe() +
                      " does not match its id (corrupted or truncated)");
    } else {
      std::string scratch;
      for (const PackedBlob& b : work[w].second) {
        if (b.offset + b.stored_length > bytes->size()) {
          found.push_back("blob " + b.id.ShortHex() + " lies past the end of pack " + key);
          continue;
        }
        auto raw = DecodeBlob(std::string_view(*bytes).substr(b.offset, b.stored_length), b, key,
                              &scratch);
        if (!raw.ok()) {
          found.push_back(raw.status().message());
        } else {
          verified += raw->size();
        }
      }
    }
    AddFiles(progress, 1);
    AddBytes(progress, verified);
    std::lock_guard lock(mu);
    report.bytes_verified += verified;
    for (std::string& p : found) report.problems.push_back(std::move(p));
    return Status::Ok();
  }));
  return report;
}

}  // namespace proxima

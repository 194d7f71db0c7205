#include "proxima/core/history.h"

#include "proxima/model/names.h"

namespace proxima {

std::pair<std::string, std::string> SplitSpec(std::string_view spec) {
  size_t at = spec.find('@');
  if (at == std::string_view::npos) return {std::string(spec), ""};
  return {std::string(spec.substr(0, at)), std::string(spec.substr(at + 1))};
}

static bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

Result<Revision> ResolveRevision(Repository& repo, RefStore& refs, std::string_view spec) {
  auto [name, rev] = SplitSpec(spec);
  PROXIMA_RETURN_IF_ERROR(ValidateDatasetName(name));
  PROXIMA_ASSIGN_OR_RETURN(bool exists, refs.DatasetExists(name));
  if (!exists) {
    return Status::NotFound("dataset '" + name + "' does not exist (see 'proxima data list')");
  }
  Revision out{name, ObjectId(), std::string(spec)};
  if (rev.empty() || rev == "head" || rev == "HEAD") {
    PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> head, refs.GetRef(name, kHeadRef));
    if (!head) {
      return Status::NotFound("dataset '" + name +
                              "' has no commits yet (run 'proxima data sync' in its folder)");
    }
    out.commit = *head;
    return out;
  }
  if (ValidateTagName(rev).ok()) {
    PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> tag, refs.GetRef(name, TagRef(rev)));
    if (tag) {
      out.commit = *tag;
      return out;
    }
  }
  std::string lower;
  for (char c : rev) lower.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c));
  if (!IsHex(lower) || lower.size() < 4 || lower.size() > 64) {
    return Status::NotFound("'" + rev + "' is neither a tag of dataset '" + name +
                            "' nor a commit id (at least 4 hex digits)");
  }
  PROXIMA_ASSIGN_OR_RETURN(std::vector<ObjectId> candidates, repo.FindCommitsByPrefix(lower));
  std::vector<ObjectId> mine;
  for (const ObjectId& id : candidates) {
    auto c = repo.LoadCommit(id);
    if (c.ok() && c->dataset == name) mine.push_back(id);
  }
  if (mine.empty()) {
    return Status::NotFound("dataset '" + name + "' has no commit " + rev);
  }
  if (mine.size() > 1) {
    std::string list;
    for (const ObjectId& id : mine) list += " " + id.ShortHex(16);
    return Status::InvalidArgument("commit id '" + rev + "' is ambiguous in dataset '" + name +
                                   "':" + list + "; give more digits");
  }
  out.commit = mine[0];
  return out;
}

Result<std::vector<LogEntry>> CommitLog(Repository& repo, const ObjectId& start, size_t limit) {
  std::vector<LogEntry> out;
  ObjectId id = start;
  for (;;) {
    PROXIMA_ASSIGN_OR_RETURN(Commit c, repo.LoadCommit(id));
    bool more = !c.parents.empty();
    ObjectId parent = more ? c.parents[0] : ObjectId();
    out.push_back({id, std::move(c)});
    if (!more || (limit != 0 && out.size() >= limit)) break;
    id = parent;
  }
  return out;
}

Result<std::vector<TreeEntry>> ListPath(Repository& repo, const ObjectId& tree,
                                        std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  ObjectId current = tree;
  std::string walked;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    PROXIMA_ASSIGN_OR_RETURN(Tree t, repo.LoadTree(current));
    const TreeEntry* found = nullptr;
    for (const TreeEntry& e : t.entries) {
      if (e.name == part) found = &e;
    }
    walked += (walked.empty() ? "" : "/") + std::string(part);
    if (found == nullptr) return Status::NotFound("no file or folder " + QuotePath(walked));
    if (found->type != EntryType::kDirectory) {
      if (!path.empty()) return Status::NotFound(QuotePath(walked) + " is not a folder");
      return std::vector<TreeEntry>{*found};
    }
    current = found->tree;
  }
  PROXIMA_ASSIGN_OR_RETURN(Tree t, repo.LoadTree(current));
  return std::move(t.entries);
}

Status CreateTag(RefStore& refs, const Revision& rev, std::string_view tag) {
  PROXIMA_RETURN_IF_ERROR(ValidateTagName(tag));
  if (tag == "head" || tag == "HEAD") {
    return Status::InvalidArgument("'" + std::string(tag) + "' is reserved for the dataset head");
  }
  Status s = refs.CompareAndSwapRef(rev.dataset, TagRef(tag), std::nullopt, rev.commit);
  if (s.code() == StatusCode::kAborted) {
    return Status::AlreadyExists("tag '" + std::string(tag) + "' already exists in dataset '" +
                                 rev.dataset + "'");
  }
  return s;
}

}  // namespace proxima

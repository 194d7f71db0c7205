#include "proxima/core/diff.h"

#include "proxima/core/tree_builder.h"

namespace proxima {

namespace {

std::string Join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

// Every file and link below a tree, as added or deleted.
Status AllBelow(Repository& repo, const ObjectId& tree, const std::string& prefix,
                Change::Kind kind, std::vector<Change>* out) {
  std::vector<FileState> entries;
  PROXIMA_RETURN_IF_ERROR(FlattenTree(repo, tree, prefix, &entries, nullptr));
  for (const FileState& e : entries) {
    if (e.type == EntryType::kDirectory) continue;
    Change c{kind, e.path, e.type, 0, 0};
    (kind == Change::kAdded ? c.new_size : c.old_size) = e.size;
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

Status One(Repository& repo, const TreeEntry& e, const std::string& prefix, Change::Kind kind,
           std::vector<Change>* out) {
  std::string path = Join(prefix, e.name);
  if (e.type == EntryType::kDirectory) return AllBelow(repo, e.tree, path, kind, out);
  Change c{kind, path, e.type, 0, 0};
  (kind == Change::kAdded ? c.new_size : c.old_size) = e.size;
  out->push_back(std::move(c));
  return Status::Ok();
}

Status DiffInto(Repository& repo, const ObjectId& a, const ObjectId& b, const std::string& prefix,
                std::vector<Change>* out) {
  if (a == b) return Status::Ok();
  // The newer tree is often a delta against the older one: it is applied
  // to the copy in hand rather than read again.
  PROXIMA_ASSIGN_OR_RETURN(TreeBytes fa, repo.LoadTreeBytes(a));
  KnownTree known{a, fa.full};
  PROXIMA_ASSIGN_OR_RETURN(TreeBytes fb, repo.LoadTreeBytes(b, &known));
  PROXIMA_ASSIGN_OR_RETURN(Tree ta, DecodeTree(fa.full, ObjectKey(ObjectKind::kTree, a)));
  PROXIMA_ASSIGN_OR_RETURN(Tree tb, DecodeTree(fb.full, ObjectKey(ObjectKind::kTree, b)));
  size_t i = 0, j = 0;
  while (i < ta.entries.size() || j < tb.entries.size()) {
    int cmp = i == ta.entries.size()   ? 1
              : j == tb.entries.size() ? -1
                                       : ta.entries[i].name.compare(tb.entries[j].name);
    if (cmp < 0) {
      PROXIMA_RETURN_IF_ERROR(One(repo, ta.entries[i++], prefix, Change::kDeleted, out));
      continue;
    }
    if (cmp > 0) {
      PROXIMA_RETURN_IF_ERROR(One(repo, tb.entries[j++], prefix, Change::kAdded, out));
      continue;
    }
    const TreeEntry& ea = ta.entries[i++];
    const TreeEntry& eb = tb.entries[j++];
    bool a_dir = ea.type == EntryType::kDirectory;
    bool b_dir = eb.type == EntryType::kDirectory;
    std::string path = Join(prefix, ea.name);
    if (a_dir && b_dir) {
      PROXIMA_RETURN_IF_ERROR(DiffInto(repo, ea.tree, eb.tree, path, out));
    } else if (a_dir || b_dir) {
      PROXIMA_RETURN_IF_ERROR(One(repo, ea, prefix, Change::kDeleted, out));
      PROXIMA_RETURN_IF_ERROR(One(repo, eb, prefix, Change::kAdded, out));
    } else if (ea.type != eb.type || ea.chunks != eb.chunks || ea.target != eb.target ||
               ea.mode != eb.mode || ea.size != eb.size) {
      out->push_back({Change::kModified, path, eb.type, ea.size, eb.size});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Change>> DiffTrees(Repository& repo, const ObjectId& a, const ObjectId& b) {
  std::vector<Change> out;
  PROXIMA_RETURN_IF_ERROR(DiffInto(repo, a, b, "", &out));
  return out;
}

}  // namespace proxima

#include "proxima/core/tree_builder.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "proxima/base/parallel.h"
#include "proxima/model/names.h"

namespace proxima {

namespace {

struct Frame {
  std::string path;  // "" for the root
  std::string name;
  uint32_t mode = 0755;
  Tree tree;
  uint64_t files = 0;
  uint64_t bytes = 0;
};

std::string_view Parent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view Base(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<BuiltTrees> BuildTrees(const std::vector<FileState>& entries, const TreeEmitter& emit) {
  BuiltTrees out;
  std::vector<Frame> stack(1);
  stack[0].mode = 0755;
  auto close_top = [&]() -> Status {
    Frame frame = std::move(stack.back());
    stack.pop_back();
    std::string bytes = EncodeTree(frame.tree);
    ObjectId id = Sha256(bytes);
    PROXIMA_RETURN_IF_ERROR(emit(frame.path, id, std::move(bytes)));
    out.trees.push_back(id);
    if (stack.empty()) {
      out.root = id;
      return Status::Ok();
    }
    TreeEntry e;
    e.name = std::move(frame.name);
    e.type = EntryType::kDirectory;
    e.mode = frame.mode;
    e.tree = id;
    e.file_count = frame.files;
    e.size = frame.bytes;
    Frame& parent = stack.back();
    parent.files += frame.files;
    parent.bytes += frame.bytes;
    parent.tree.entries.push_back(std::move(e));
    return Status::Ok();
  };

  for (const FileState& f : entries) {
    std::string_view parent = Parent(f.path);
    while (stack.size() > 1 && stack.back().path != parent) {
      PROXIMA_RETURN_IF_ERROR(close_top());
    }
    if (stack.back().path != parent) {
      return Status::Internal("entry " + QuotePath(f.path) + " is out of walk order");
    }
    Frame& top = stack.back();
    if (f.type == EntryType::kDirectory) {
      ++out.stats.dirs;
      Frame frame;
      frame.path = f.path;
      frame.name = std::string(Base(f.path));
      frame.mode = f.mode;
      stack.push_back(std::move(frame));
      continue;
    }
    TreeEntry e;
    e.name = std::string(Base(f.path));
    e.type = f.type;
    e.mode = f.mode;
    if (f.type == EntryType::kFile) {
      e.size = f.size;
      e.chunks = f.chunks;
      ++top.files;
      top.bytes += f.size;
      ++out.stats.files;
      out.stats.bytes += f.size;
    } else {
      e.target = f.target;
      e.size = f.target.size();
      ++out.stats.symlinks;
    }
    top.tree.entries.push_back(std::move(e));
  }
  while (!stack.empty()) PROXIMA_RETURN_IF_ERROR(close_top());
  return out;
}

namespace {

using TreeMap = std::unordered_map<ObjectId, Tree, Hash256Hasher>;

// Loads every tree under `root` in breadth-first waves, each wave's trees in
// parallel: on a network store a tree is a round trip, and a commit of a
// thousand folders must not cost a thousand round trips in a row.
Result<TreeMap> LoadTrees(Repository& repo, const ObjectId& root) {
  TreeMap trees;
  std::vector<ObjectId> wave = {root};
  while (!wave.empty()) {
    std::vector<Tree> loaded(wave.size());
    PROXIMA_RETURN_IF_ERROR(ParallelFor(wave.size(), DefaultThreads(), [&](size_t i) -> Status {
      PROXIMA_ASSIGN_OR_RETURN(loaded[i], repo.LoadTree(wave[i]));
      return Status::Ok();
    }));
    std::vector<ObjectId> next;
    for (size_t i = 0; i < wave.size(); ++i) {
      for (const TreeEntry& e : loaded[i].entries) {
        if (e.type == EntryType::kDirectory && !trees.count(e.tree)) next.push_back(e.tree);
      }
      trees.emplace(wave[i], std::move(loaded[i]));
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    wave = std::move(next);
  }
  return trees;
}

Status Flatten(Repository& repo, TreeMap& trees, const ObjectId& id, const std::string& prefix,
               std::vector<FileState>* out, std::vector<ObjectId>* tree_ids) {
  Tree tree;
  auto it = trees.find(id);
  if (it == trees.end()) {
    // Identical folders share one tree object, already used up: load it again.
    PROXIMA_ASSIGN_OR_RETURN(tree, repo.LoadTree(id));
  } else {
    tree = std::move(it->second);
    trees.erase(it);  // memory is released as the list grows
  }
  if (tree_ids != nullptr) tree_ids->push_back(id);
  for (TreeEntry& e : tree.entries) {
    FileState f;
    f.path = prefix.empty() ? e.name : prefix + "/" + e.name;
    f.type = e.type;
    f.mode = e.mode;
    f.size = e.size;
    f.chunks = std::move(e.chunks);
    f.target = std::move(e.target);
    if (e.type == EntryType::kDirectory) {
      std::string path = f.path;
      out->push_back(std::move(f));
      PROXIMA_RETURN_IF_ERROR(Flatten(repo, trees, e.tree, path, out, tree_ids));
    } else {
      out->push_back(std::move(f));
    }
  }
  return Status::Ok();
}

}  // namespace

Status FlattenTree(Repository& repo, const ObjectId& root, const std::string& prefix,
                   std::vector<FileState>* out, std::vector<ObjectId>* trees) {
  PROXIMA_ASSIGN_OR_RETURN(TreeMap loaded, LoadTrees(repo, root));
  // One allocation of the right size: growing a list of a million entries by
  // doubling would hold two copies of it for a moment.
  size_t entries = 0;
  for (const auto& [id, tree] : loaded) entries += tree.entries.size();
  out->reserve(out->size() + entries);
  if (trees != nullptr) trees->reserve(trees->size() + loaded.size());
  return Flatten(repo, loaded, root, prefix, out, trees);
}

TreeWriter::TreeWriter(Repository* repo, const std::optional<ObjectId>& previous_root,
                       int concurrency)
    : repo_(repo), previous_root_(previous_root), concurrency_(concurrency) {}

Result<std::optional<ObjectId>> TreeWriter::PreviousAt(const std::string& path) {
  using Found = std::optional<ObjectId>;
  if (!previous_root_) return Found();
  if (path.empty()) return previous_root_;
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? std::string() : path.substr(0, slash);
  std::string_view name = std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
  auto it = folders_.find(parent);
  if (it == folders_.end()) {
    PROXIMA_ASSIGN_OR_RETURN(Found parent_id, PreviousAt(parent));
    Folder folder;
    if (parent_id) {
      folder.id = *parent_id;
      PROXIMA_ASSIGN_OR_RETURN(folder.bytes, repo_->LoadTreeBytes(*parent_id));
      PROXIMA_ASSIGN_OR_RETURN(
          Tree tree, DecodeTree(folder.bytes.full, ObjectKey(ObjectKind::kTree, *parent_id)));
      for (TreeEntry& e : tree.entries) {
        if (e.type == EntryType::kDirectory) folder.dirs.emplace_back(std::move(e.name), e.tree);
      }
    }
    it = folders_.emplace(parent, std::move(folder)).first;
  }
  const auto& dirs = it->second.dirs;
  auto found = std::lower_bound(dirs.begin(), dirs.end(), name,
                                [](const auto& d, std::string_view n) { return d.first < n; });
  if (found == dirs.end() || found->first != name) return Found();
  return Found(found->second);
}

Result<TreeWriter::Base> TreeWriter::BaseFor(const std::string& path, const ObjectId& previous) {
  // Deltas are made against a tree stored in full: the previous tree itself,
  // or the base of its delta. Chains then never grow past one delta, and a
  // base costs one read, two at most, and no decompression.
  // A folder read as the parent of another new tree is at hand.
  auto parent = folders_.find(path);
  if (parent != folders_.end() && parent->second.id == previous &&
      parent->second.bytes.chain.empty()) {
    return Base{previous, &parent->second.bytes, {}, true};
  }
  std::string key = ObjectKey(ObjectKind::kTree, previous);
  PROXIMA_ASSIGN_OR_RETURN(std::string stored, repo_->store().Get(key));
  Base base;
  base.usable = true;
  if (IsTreeDelta(stored)) {
    PROXIMA_ASSIGN_OR_RETURN(TreeDelta delta, ParseTreeDelta(stored, key));
    base.id = delta.base;
    PROXIMA_ASSIGN_OR_RETURN(base.owned, repo_->LoadTreeBytes(base.id));
    // Stores written before this rule may hold longer chains: against those,
    // the previous tree is the base while its chain is short enough.
    if (!base.owned.chain.empty()) {
      base.id = previous;
      PROXIMA_ASSIGN_OR_RETURN(base.owned, repo_->LoadTreeBytes(previous));
      base.usable = base.owned.chain.size() < kMaxTreeDeltaDepth;
    }
  } else {
    base.id = previous;
    PROXIMA_ASSIGN_OR_RETURN(base.owned, ResolveTree(repo_->store(), previous, std::move(stored)));
  }
  return base;
}

Status TreeWriter::Add(NewTree tree) {
  batch_.push_back(std::move(tree));
  return batch_.size() >= kBatch ? Finish() : Status::Ok();
}

Status TreeWriter::Finish() {
  // Serial: each changed folder's parent is read once, then cached.
  std::vector<std::optional<ObjectId>> bases(batch_.size());
  for (size_t i = 0; i < batch_.size(); ++i) {
    PROXIMA_ASSIGN_OR_RETURN(bases[i], PreviousAt(batch_[i].path));
  }
  bool deltas = repo_->TakesTreeDeltas();
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> as_delta{0};
  // What to store, by batch position (empty: nothing); stored together
  // below, so that a hub takes them in a few requests.
  std::vector<std::string> forms(batch_.size());
  std::vector<char> store(batch_.size(), 0);
  // The loop only reads folders_, which the serial pass above filled.
  Status s = ParallelFor(batch_.size(), concurrency_, [&](size_t i) -> Status {
    const NewTree& t = batch_[i];
    if (bases[i] == t.id) return Status::Ok();  // unchanged: it is stored already
    std::string form;
    if (bases[i] && deltas) {
      // A tree that exists (from an older commit, another dataset; the base
      // itself, for a folder put back as it was) is not written again as a
      // delta: trees may be deltas against it, and rewriting it as one could
      // lengthen their chains or close a cycle. (An empty one is what a
      // power loss may leave of a killed sync's.)
      Result<uint64_t> existing = repo_->store().Size(ObjectKey(ObjectKind::kTree, t.id));
      if (existing.ok() && *existing > 0) return Status::Ok();
      if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
      PROXIMA_ASSIGN_OR_RETURN(Base base, BaseFor(t.path, *bases[i]));
      // Against an old store's chain, never a delta that would close one.
      bool in_chain = std::find(base.bytes().chain.begin(), base.bytes().chain.end(), t.id) !=
                      base.bytes().chain.end();
      if (base.usable && !in_chain) {
        form = EncodeTreeDelta(base.id, base.bytes().full, t.full);
        // A delta must earn the read it costs: at most half of the tree.
        if (form.size() > t.full.size() / 2) form.clear();
      }
    }
    written.fetch_add(1, std::memory_order_relaxed);
    if (!form.empty()) as_delta.fetch_add(1, std::memory_order_relaxed);
    forms[i] = std::move(form);
    store[i] = 1;
    return Status::Ok();
  });
  if (s.ok()) {
    std::vector<std::pair<std::string, std::string>> objects;
    for (size_t i = 0; i < batch_.size(); ++i) {
      if (!store[i]) continue;
      objects.emplace_back(ObjectKey(ObjectKind::kTree, batch_[i].id),
                           forms[i].empty() ? std::move(batch_[i].full) : std::move(forms[i]));
    }
    s = repo_->store().PutMany(objects, concurrency_);
  }
  written_ += written.load();
  deltas_ += as_delta.load();
  batch_.clear();
  return s;
}

}  // namespace proxima

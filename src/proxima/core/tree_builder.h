#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxima/core/file_state.h"
#include "proxima/core/repository.h"

namespace proxima {

struct BuiltTrees {
  ObjectId root;
  CommitStats stats;
  std::vector<ObjectId> trees;  // every tree, root last
};

// Receives a folder's path ("" for the root), its tree id and encoding.
using TreeEmitter =
    std::function<Status(const std::string& path, const ObjectId& id, std::string full)>;

// Builds the Merkle trees of a walk-order list whose files carry their
// chunks. Each directory must appear before its contents. `emit` receives
// every encoded tree, children before parents (the write order).
Result<BuiltTrees> BuildTrees(const std::vector<FileState>& entries, const TreeEmitter& emit);

struct NewTree {
  std::string path;
  ObjectId id;
  std::string full;  // the full encoding
};

// Stores new trees, each as a delta when the store takes deltas and one
// pays (docs/format.md, "Tree deltas"): against the tree its folder had in
// the previous commit if that is stored in full, else against that tree's
// own base, so chains stay one delta long. The previous trees are found by
// path from the previous root: a changed folder's parent changed too, so the
// parents it reads are the bases of the trees that come next. A tree that is
// the previous commit's tree at the same path, or the base, exists already
// and is not written.
class TreeWriter {
 public:
  TreeWriter(Repository* repo, const std::optional<ObjectId>& previous_root, int concurrency);

  // Queues a tree (trees come children first); stores a full batch on
  // `concurrency` threads.
  Status Add(NewTree tree);
  // Stores what is queued.
  Status Finish();

  uint64_t written() const { return written_; }
  uint64_t deltas() const { return deltas_; }

 private:
  static constexpr size_t kBatch = 2048;

  // A folder of the previous commit, read as the parent of a new tree.
  struct Folder {
    ObjectId id;
    TreeBytes bytes;
    std::vector<std::pair<std::string, ObjectId>> dirs;  // sub-folders by name, sorted
  };

  // What a new tree of a folder whose previous tree was `previous` is
  // stored as a delta against; `bytes` is null when none will do.
  struct Base {
    ObjectId id;
    const TreeBytes* shared = nullptr;  // a folder of folders_, or null: `owned`
    TreeBytes owned;
    bool usable = false;  // false: store the tree in full
    const TreeBytes& bytes() const { return shared != nullptr ? *shared : owned; }
  };
  Result<Base> BaseFor(const std::string& path, const ObjectId& previous);

  // The tree at folder `path` in the previous commit, if it had that folder.
  Result<std::optional<ObjectId>> PreviousAt(const std::string& path);

  Repository* repo_;
  std::optional<ObjectId> previous_root_;
  int concurrency_;
  std::unordered_map<std::string, Folder> folders_;  // by path
  std::vector<NewTree> batch_;
  uint64_t written_ = 0;
  uint64_t deltas_ = 0;
};

// The entries of the tree `root`, flattened in walk order (stat fields zero),
// below `prefix`. `trees`, when not null, receives the ids of all trees read.
Status FlattenTree(Repository& repo, const ObjectId& root, const std::string& prefix,
                   std::vector<FileState>* out, std::vector<ObjectId>* trees);

}  // namespace proxima

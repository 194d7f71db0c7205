#pragma once

#include <functional>
#include <string>
#include <vector>

#include "proxima/core/file_state.h"
#include "proxima/core/repository.h"

namespace proxima {

struct BuiltTrees {
  ObjectId root;
  CommitStats stats;
  std::vector<ObjectId> trees;  // every tree, root last
};

// Builds the Merkle trees of a walk-order list whose files carry their
// chunks. Each directory must appear before its contents. `emit` receives
// every encoded tree, children before parents (the write order).
Result<BuiltTrees> BuildTrees(
    const std::vector<FileState>& entries,
    const std::function<Status(const ObjectId&, const std::string&)>& emit);

// The entries of the tree `root`, flattened in walk order (stat fields zero),
// below `prefix`. `trees`, when not null, receives the ids of all trees read.
Status FlattenTree(Repository& repo, const ObjectId& root, const std::string& prefix,
                   std::vector<FileState>* out, std::vector<ObjectId>* trees);

}  // namespace proxima

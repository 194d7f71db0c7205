#pragma once

#include <vector>

#include "proxima/core/repository.h"
#include "proxima/core/sync.h"

namespace proxima {

// The files and links added, modified and deleted from tree `a` to tree `b`,
// in walk order. Sub-trees with equal ids are never opened, so the cost is
// that of what changed, not of the dataset's size.
Result<std::vector<Change>> DiffTrees(Repository& repo, const ObjectId& a, const ObjectId& b);

}  // namespace proxima

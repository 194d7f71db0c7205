#pragma once

#include <string>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/core/file_state.h"

namespace proxima {

// A three-way merge of flattened commits (walk order), path by path: where
// only one side changed an entry relative to `base`, that side wins; where
// both made the same change, it is kept once; where both changed it
// differently, or one side removed a folder the other added to, the path is
// a conflict. Directories compare by type and mode, files by content.
//
// On success `conflicts` is empty and the result is the merged list (walk
// order, ready for BuildTrees). Otherwise it lists the conflicting paths.
std::vector<FileState> MergeFlat(const std::vector<FileState>& base,
                                 const std::vector<FileState>& ours,
                                 const std::vector<FileState>& theirs,
                                 std::vector<std::string>* conflicts);

}  // namespace proxima

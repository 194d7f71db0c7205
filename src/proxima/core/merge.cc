#include "proxima/core/merge.h"

#include <string>
#include <unordered_set>

namespace proxima {

namespace {

bool Same(const FileState* a, const FileState* b) {
  if (a == nullptr || b == nullptr) return a == b;
  if (a->type == EntryType::kDirectory || b->type == EntryType::kDirectory) {
    return a->type == b->type && a->mode == b->mode;
  }
  return a->SameContent(*b);
}

std::string_view Parent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

}  // namespace

std::vector<FileState> MergeFlat(const std::vector<FileState>& base,
                                 const std::vector<FileState>& ours,
                                 const std::vector<FileState>& theirs,
                                 std::vector<std::string>* conflicts) {
  std::vector<FileState> out;
  out.reserve(theirs.size() + ours.size() / 8);
  std::unordered_set<std::string> dirs;  // kept folders
  size_t b = 0, o = 0, t = 0;
  const std::vector<FileState>* lists[] = {&base, &ours, &theirs};
  size_t* at[] = {&b, &o, &t};
  while (b < base.size() || o < ours.size() || t < theirs.size()) {
    // The smallest path in walk order among the three heads.
    const std::string* path = nullptr;
    for (int i = 0; i < 3; ++i) {
      if (*at[i] == lists[i]->size()) continue;
      const std::string& p = (*lists[i])[*at[i]].path;
      if (path == nullptr || ComparePaths(p, *path) < 0) path = &p;
    }
    const FileState* entry[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < 3; ++i) {
      if (*at[i] < lists[i]->size() && (*lists[i])[*at[i]].path == *path) {
        entry[i] = &(*lists[i])[*at[i]];
      }
    }
    const std::string current = *path;  // the heads advance below
    for (int i = 0; i < 3; ++i) {
      if (entry[i] != nullptr) ++*at[i];
    }
    const FileState *bs = entry[0], *os = entry[1], *ts = entry[2];
    const FileState* result;
    if (Same(os, bs)) {
      result = ts;
    } else if (Same(ts, bs) || Same(os, ts)) {
      result = os;
    } else {
      conflicts->push_back(current);
      continue;
    }
    if (result == nullptr) continue;
    std::string_view parent = Parent(result->path);
    if (!parent.empty() && dirs.count(std::string(parent)) == 0) {
      // One side added under a folder the other removed.
      conflicts->push_back(current);
      continue;
    }
    out.push_back(*result);
    if (result->type == EntryType::kDirectory) dirs.insert(result->path);
  }
  return out;
}

}  // namespace proxima

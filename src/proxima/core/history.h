#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxima/core/repository.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

// A dataset and one of its commits, as named by the user.
struct Revision {
  std::string dataset;
  ObjectId commit;
  std::string spec;  // what the user typed
};

// Parses "NAME" (the head), "NAME@TAG", "NAME@ID" or "NAME@PREFIX" (at least
// 4 hex digits, unique among the dataset's commits). Errors name the spec
// and say what exists: an unknown dataset, an empty dataset, an unknown or
// ambiguous commit.
Result<Revision> ResolveRevision(Repository& repo, RefStore& refs, std::string_view spec);

// Splits "NAME[@REV]" without resolving it.
std::pair<std::string, std::string> SplitSpec(std::string_view spec);

struct LogEntry {
  ObjectId id;
  Commit commit;
};

// Commits reachable from `start` by first parents, newest first; at most
// `limit` (0: all).
Result<std::vector<LogEntry>> CommitLog(Repository& repo, const ObjectId& start, size_t limit);

// The entries of the directory at `path` in `tree` ("" for the top), or the
// single entry `path` names when it is a file or link.
Result<std::vector<TreeEntry>> ListPath(Repository& repo, const ObjectId& tree,
                                        std::string_view path);

// Creates tag `tag` on `commit`; AlreadyExists when the tag exists.
Status CreateTag(RefStore& refs, const Revision& rev, std::string_view tag);

}  // namespace proxima

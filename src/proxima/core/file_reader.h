#pragma once

#include <string>

#include "proxima/base/result.h"
#include "proxima/core/chunker.h"
#include "proxima/core/file_state.h"
#include "proxima/core/progress.h"

namespace proxima {

class PackWriter;

// Reads the file at `entry->path` below the folder open as `root_fd`,
// without following a symbolic link anywhere on the way (openat2 with
// RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH), cuts it into blobs and records
// their ids in `entry->chunks`; each blob goes to `sink` when it is not null.
// The entry's stat fields are refreshed from the open file. A file that
// changes while it is read is read again, up to `max_attempts` times, then
// FailedPrecondition: its content is never recorded half-old, half-new.
// PermissionDenied when it cannot be opened; NotFound when it vanished.
Status ReadAndChunkFile(int root_fd, FileState* entry, const Chunker& chunker, PackWriter* sink,
                        Progress* progress, int max_attempts = 3);

// Opens a path below `root_fd` without following symbolic links.
int OpenBeneath(int root_fd, const std::string& path, int flags, int mode = 0);

}  // namespace proxima

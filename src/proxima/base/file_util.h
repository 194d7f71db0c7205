#pragma once

#include <string>
#include <string_view>

#include "proxima/base/result.h"

namespace proxima {

// Small POSIX helpers shared by the adapters and the working-folder code.
// All paths are byte strings; errors name the path.

// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically: a temporary file in the same directory,
// write, fsync, rename over `path`, fsync the directory. Readers see either the
// old content or the new, never a mix, even after a crash.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view data, const std::string& path_for_errors);

// Reads exactly `n` bytes at `offset` (or fewer at end of file) into `out`.
Status PreadAll(int fd, size_t n, uint64_t offset, std::string* out,
                const std::string& path_for_errors);

// fsync(2) on a directory, making a rename or create inside it durable.
Status FsyncDir(const std::string& dir);

// mkdir -p. Existing directories are fine.
Status MakeDirs(const std::string& path);

// rm -rf, without following symbolic links. A missing path is fine.
Status RemoveAll(const std::string& path);

// "a" + "/" + "b", with no doubled slash.
std::string JoinPath(std::string_view a, std::string_view b);

// The directory part of a path ("." if none).
std::string DirName(const std::string& path);

// A name unique to this process and call, for temporary files.
std::string UniqueTempSuffix();

}  // namespace proxima

#pragma once

#include <string>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/core/file_state.h"

namespace proxima {

// Something the scan or the sync left out, and why.
struct SkippedPath {
  std::string path;
  std::string reason;  // "special file (fifo)", "cannot read: permission denied"
};

struct ScanResult {
  std::vector<FileState> entries;  // walk order, without content
  std::vector<SkippedPath> skipped;
};

// Walks `root` without following symbolic links and without reading file
// content (one getdents and one lstat per entry). Regular files, directories
// and symbolic links are listed; sockets, fifos and devices are skipped and
// reported, as are directories that cannot be opened. The `.proxima` state
// directory at the top is left out.
Result<ScanResult> ScanFolder(const std::string& root);

}  // namespace proxima

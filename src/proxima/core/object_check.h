#pragma once

#include <string_view>

#include "proxima/base/status.h"

namespace proxima {

// Checks that `bytes` are a valid object for `key` before a server stores
// them for a client: a tree, index or commit hashes to the id in its key; a
// pack's trailer hashes to its id and every blob in it to its blob id (so a
// client cannot plant a pack under a name that another dataset's upload
// would later skip as already present). Corruption naming the key when they
// do not; InvalidArgument for a key that is no object key.
Status VerifyObjectBytes(std::string_view key, std::string_view bytes);

}  // namespace proxima

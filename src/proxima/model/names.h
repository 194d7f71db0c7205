#pragma once

#include <string>
#include <string_view>

#include "proxima/base/status.h"

namespace proxima {

// Rules for tree entry names and symlink targets (docs/format.md, "Names").
// `what` names the containing object in the error message.
Status ValidateEntryName(std::string_view name, std::string_view what);
Status ValidateSymlinkTarget(std::string_view target, std::string_view what);

// Validates a relative path made of valid names joined by '/': no empty
// component, no "." or "..", not absolute.
Status ValidateRelativePath(std::string_view path);

// Dataset and tag names: 1 to 100 characters of [A-Za-z0-9._-], not starting
// with '.' or '-'.
Status ValidateDatasetName(std::string_view name);
Status ValidateTagName(std::string_view name);

bool IsValidUtf8(std::string_view s);

// A path as shown to users: unchanged when it is printable UTF-8, otherwise
// double-quoted with C escapes (\n, \t, \", \\, \xNN), as git does.
std::string QuotePath(std::string_view path);

}  // namespace proxima

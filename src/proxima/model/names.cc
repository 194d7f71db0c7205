#include "proxima/model/names.h"

#include <cstdio>

namespace proxima {

Status ValidateEntryName(std::string_view name, std::string_view what) {
  if (name.empty()) return Status::Corruption(std::string(what) + ": empty entry name");
  if (name.size() > 255) {
    return Status::Corruption(std::string(what) + ": entry name longer than 255 bytes");
  }
  if (name == "." || name == "..") {
    return Status::Corruption(std::string(what) + ": entry named '" + std::string(name) +
                              "' (path traversal rejected)");
  }
  for (char c : name) {
    if (c == '/' || c == '\0') {
      return Status::Corruption(std::string(what) + ": entry name " + QuotePath(name) +
                                " contains '/' or NUL (path traversal rejected)");
    }
  }
  return Status::Ok();
}

Status ValidateSymlinkTarget(std::string_view target, std::string_view what) {
  if (target.empty() || target.size() > 4095 || target.find('\0') != std::string_view::npos) {
    return Status::Corruption(std::string(what) + ": invalid symbolic link target");
  }
  return Status::Ok();
}

Status ValidateRelativePath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  if (path.front() == '/') {
    return Status::InvalidArgument("absolute path " + QuotePath(path) + " is not allowed");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument("path " + QuotePath(path) +
                                     " has an empty, '.' or '..' component");
    }
    start = end + 1;
  }
  return Status::Ok();
}

static Status ValidateSimpleName(std::string_view name, std::string_view kind) {
  bool ok = !name.empty() && name.size() <= 100 && name.front() != '.' && name.front() != '-';
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    ok = ok && allowed;
  }
  if (!ok) {
    return Status::InvalidArgument(
        std::string(kind) + " name " + QuotePath(name) +
        " is invalid: use 1 to 100 letters, digits, '.', '_' or '-', not starting with '.' or '-'");
  }
  return Status::Ok();
}

Status ValidateDatasetName(std::string_view name) { return ValidateSimpleName(name, "dataset"); }
Status ValidateTagName(std::string_view name) { return ValidateSimpleName(name, "tag"); }

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string QuotePath(std::string_view path) {
  bool plain = IsValidUtf8(path);
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') plain = false;
  }
  if (plain) return std::string(path);
  // Escape control bytes and, when the name is not UTF-8, every byte >= 0x80.
  bool utf8 = IsValidUtf8(path);
  std::string out = "\"";
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (u < 0x20 || u == 0x7f || (u >= 0x80 && !utf8)) {
          char buf[5];
          std::snprintf(buf, sizeof(buf), "\\x%02x", u);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace proxima

#include "proxima/model/keys.h"

namespace proxima {

std::string_view KindPrefix(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kPack:
      return "data/";
    case ObjectKind::kTree:
      return "trees/";
    case ObjectKind::kIndex:
      return "index/";
    case ObjectKind::kCommit:
      return "commits/";
  }
  return "";
}

static bool FansOut(ObjectKind kind) {
  return kind == ObjectKind::kPack || kind == ObjectKind::kTree;
}

std::string ObjectKey(ObjectKind kind, const ObjectId& id) {
  std::string hex = id.Hex();
  std::string key(KindPrefix(kind));
  if (FansOut(kind)) {
    key.append(hex, 0, 2);
    key.push_back('/');
  }
  key += hex;
  return key;
}

std::optional<ObjectId> IdFromKey(ObjectKind kind, std::string_view key) {
  std::string_view prefix = KindPrefix(kind);
  if (key.substr(0, prefix.size()) != prefix) return std::nullopt;
  key.remove_prefix(prefix.size());
  if (FansOut(kind)) {
    if (key.size() < 3 || key[2] != '/') return std::nullopt;
    std::string_view fan = key.substr(0, 2);
    key.remove_prefix(3);
    if (key.substr(0, 2) != fan) return std::nullopt;
  }
  return Hash256::FromHex(key);
}

std::string IncomingPackPrefix(const ObjectId& pack) {
  return std::string(kIncomingPrefix) + pack.Hex() + ".";
}

}  // namespace proxima

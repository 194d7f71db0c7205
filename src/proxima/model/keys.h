#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "proxima/base/hash.h"

namespace proxima {

using ObjectId = Hash256;

// Object kinds and their store keys (docs/format.md, "Keys").
enum class ObjectKind { kPack, kTree, kIndex, kCommit };

inline constexpr std::string_view kConfigKey = "config";
std::string_view KindPrefix(ObjectKind kind);  // "data/", "trees/", "index/", "commits/"
std::string ObjectKey(ObjectKind kind, const ObjectId& id);
// Parses a key produced by ObjectKey; nullopt for anything else.
std::optional<ObjectId> IdFromKey(ObjectKind kind, std::string_view key);

// A pack a hub stored before verifying it waits at "incoming/<id>.<suffix>"
// (docs/format.md, "Keys"); readers that miss the pack's own key look there.
inline constexpr std::string_view kIncomingPrefix = "incoming/";
std::string IncomingPackPrefix(const ObjectId& pack);  // "incoming/<id>."

}  // namespace proxima

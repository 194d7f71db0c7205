#include "proxima/model/commit.h"

#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>

#include "proxima/model/names.h"

namespace proxima {

using nlohmann::json;

std::string FormatUtc(int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / 1000000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status ValidateMetadataJson(std::string_view text) {
  try {
    if (json::parse(text).is_object()) return Status::Ok();
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("commit metadata is not valid JSON: ") + e.what());
  }
  return Status::InvalidArgument("commit metadata must be a JSON object, like {\"source\":\"x\"}");
}

Result<std::string> EncodeCommit(const Commit& c) {
  for (const std::string* s : {&c.dataset, &c.author, &c.message}) {
    if (!IsValidUtf8(*s)) return Status::InvalidArgument("commit text must be UTF-8");
  }
  json j;
  try {
    j["type"] = "commit";
    j["version"] = 1;
    j["dataset"] = c.dataset;
    j["tree"] = c.tree.Hex();
    j["parents"] = json::array();
    for (const ObjectId& p : c.parents) j["parents"].push_back(p.Hex());
    j["author"] = c.author;
    j["message"] = c.message;
    j["time"] = FormatUtc(c.time_unix_ns);
    j["time_unix_ns"] = c.time_unix_ns;
    j["stats"] = {{"files", c.stats.files},
                  {"bytes", c.stats.bytes},
                  {"dirs", c.stats.dirs},
                  {"symlinks", c.stats.symlinks}};
    j["changes"] = {{"added", c.changes.added},
                    {"modified", c.changes.modified},
                    {"deleted", c.changes.deleted},
                    {"bytes_added", c.changes.bytes_added}};
    j["metadata"] = json::parse(c.metadata_json);
    j["lineage"] = json::parse(c.lineage_json);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("commit metadata is not valid JSON: ") + e.what());
  }
  if (!j["metadata"].is_object()) {
    return Status::InvalidArgument("commit metadata must be a JSON object");
  }
  return j.dump();
}

namespace {

// Integer fields of JSON objects, range-checked before conversion: nlohmann's
// get<> of a number outside the target type's range (a float like 5e48) is
// undefined behaviour (found by tests/fuzz).
Result<int64_t> IntegerField(const json& j, const char* key, int64_t lo, int64_t hi,
                             const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return Status::Corruption(where + ": field '" + key + "' is missing or not an integer");
  }
  bool in_range = it->is_number_unsigned() ? it->get<uint64_t>() <= static_cast<uint64_t>(hi)
                                           : it->get<int64_t>() >= lo && it->get<int64_t>() <= hi;
  if (!in_range) return Status::Corruption(where + ": field '" + key + "' is out of range");
  return it->get<int64_t>();
}

Result<uint64_t> CountField(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) {
    return Status::Corruption(where + ": field '" + key + "' is missing or not a count");
  }
  return it->get<uint64_t>();
}

}  // namespace

Result<Commit> DecodeCommit(std::string_view bytes, std::string_view what) {
  const std::string w = "commit " + std::string(what);
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption("commit " + std::string(what) + ": " + std::string(why));
  };
  try {
    json j = json::parse(bytes);
    if (!j.is_object() || j.value("type", "") != "commit") return corrupt("not a commit object");
    int64_t version = 0;
    if (j.contains("version")) {
      PROXIMA_ASSIGN_OR_RETURN(version, IntegerField(j, "version", 0, INT32_MAX, w));
    }
    if (version != 1) {
      return Status::FailedPrecondition("commit " + std::string(what) + " has format version " +
                                        std::to_string(version) +
                                        ", which this Proxima does not know; upgrade Proxima");
    }
    Commit c;
    c.dataset = j.at("dataset").get<std::string>();
    auto tree = Hash256::FromHex(j.at("tree").get<std::string>());
    if (!tree) return corrupt("bad tree id");
    c.tree = *tree;
    for (const auto& p : j.at("parents")) {
      auto id = Hash256::FromHex(p.get<std::string>());
      if (!id) return corrupt("bad parent id");
      c.parents.push_back(*id);
    }
    c.author = j.at("author").get<std::string>();
    c.message = j.at("message").get<std::string>();
    PROXIMA_ASSIGN_OR_RETURN(c.time_unix_ns,
                             IntegerField(j, "time_unix_ns", INT64_MIN, INT64_MAX, w));
    const json& s = j.at("stats");
    PROXIMA_ASSIGN_OR_RETURN(c.stats.files, CountField(s, "files", w));
    PROXIMA_ASSIGN_OR_RETURN(c.stats.bytes, CountField(s, "bytes", w));
    PROXIMA_ASSIGN_OR_RETURN(c.stats.dirs, CountField(s, "dirs", w));
    PROXIMA_ASSIGN_OR_RETURN(c.stats.symlinks, CountField(s, "symlinks", w));
    const json& ch = j.at("changes");
    PROXIMA_ASSIGN_OR_RETURN(c.changes.added, CountField(ch, "added", w));
    PROXIMA_ASSIGN_OR_RETURN(c.changes.modified, CountField(ch, "modified", w));
    PROXIMA_ASSIGN_OR_RETURN(c.changes.deleted, CountField(ch, "deleted", w));
    PROXIMA_ASSIGN_OR_RETURN(c.changes.bytes_added, CountField(ch, "bytes_added", w));
    c.metadata_json = j.at("metadata").dump();
    c.lineage_json = j.at("lineage").dump();
    return c;
  } catch (const json::exception& e) {
    return corrupt(e.what());
  }
}

std::string EncodeStoreConfig(const StoreConfig& config) {
  json j = {{"format", "proxima-store"},
            {"version", config.version},
            {"store_id", config.store_id},
            {"chunker",
             {{"algorithm", "fastcdc-gear-v1"},
              {"min_size", config.chunker.min_size},
              {"avg_size", config.chunker.avg_size},
              {"max_size", config.chunker.max_size}}}};
  return j.dump(2) + "\n";
}

Result<StoreConfig> DecodeStoreConfig(std::string_view bytes, std::string_view where) {
  std::string w(where);
  try {
    json j = json::parse(bytes);
    if (!j.is_object() || j.value("format", "") != "proxima-store") {
      return Status::FailedPrecondition(w + " is not a Proxima store (its 'config' is foreign)");
    }
    StoreConfig c;
    PROXIMA_ASSIGN_OR_RETURN(int64_t version, IntegerField(j, "version", INT32_MIN, INT32_MAX, w));
    c.version = static_cast<int>(version);
    if (c.version > StoreConfig::kCurrentVersion || c.version < 1) {
      return Status::FailedPrecondition(
          w + " has store format version " + std::to_string(c.version) +
          " but this Proxima reads up to version " + std::to_string(StoreConfig::kCurrentVersion) +
          "; upgrade Proxima");
    }
    c.store_id = j.at("store_id").get<std::string>();
    const json& ch = j.at("chunker");
    if (ch.value("algorithm", "") != "fastcdc-gear-v1") {
      return Status::FailedPrecondition(w + " uses an unknown chunker; upgrade Proxima");
    }
    uint32_t sizes[3];
    const char* names[3] = {"min_size", "avg_size", "max_size"};
    for (int i = 0; i < 3; ++i) {
      PROXIMA_ASSIGN_OR_RETURN(int64_t v, IntegerField(ch, names[i], 0, UINT32_MAX, w));
      sizes[i] = static_cast<uint32_t>(v);
    }
    c.chunker = {sizes[0], sizes[1], sizes[2]};
    if (c.chunker.min_size == 0 || c.chunker.min_size > c.chunker.avg_size ||
        c.chunker.avg_size > c.chunker.max_size || c.chunker.max_size > (256u << 20)) {
      return Status::Corruption(w + ": chunker sizes are inconsistent");
    }
    return c;
  } catch (const json::exception& e) {
    return Status::Corruption(w + ": config is not valid: " + e.what());
  }
}

}  // namespace proxima

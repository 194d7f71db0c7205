#include "proxima/cli/change_output.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "proxima/cli/output.h"
#include "proxima/model/names.h"

namespace proxima {

void PrintChange(const Change& c) {
  std::string sizes = c.kind == Change::kModified
                          ? HumanBytes(c.old_size) + " -> " + HumanBytes(c.new_size)
                          : HumanBytes(c.kind == Change::kAdded ? c.new_size : c.old_size);
  std::printf("%c  %s  %s\n", static_cast<char>(c.kind), QuotePath(c.path).c_str(), sizes.c_str());
}

nlohmann::json ChangeJson(const Change& c) {
  return {{"change", std::string(1, static_cast<char>(c.kind))},
          {"path", JsonPath(c.path)},
          {"type", EntryTypeName(c.type)},
          {"old_size", c.old_size},
          {"new_size", c.new_size}};
}

}  // namespace proxima

#pragma once

#include <nlohmann/json_fwd.hpp>

#include "proxima/core/sync.h"

namespace proxima {

// One change as `status -v`, `sync -v` and `diff` print it:
// "M  path  1.2 kB -> 1.4 kB", "A  path  3.0 kB".
void PrintChange(const Change& change);

// One change as the --json outputs list it.
nlohmann::json ChangeJson(const Change& change);

}  // namespace proxima

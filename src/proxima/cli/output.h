#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "proxima/base/units.h"  // HumanBytes
#include "proxima/core/progress.h"
#include "proxima/core/sync.h"
#include "proxima/ports/clock.h"

namespace proxima {

// "1,234,567"
std::string Grouped(uint64_t n);
// A path for JSON output: itself when UTF-8, else its C-quoted form.
std::string JsonPath(std::string_view path);
std::string EntryTypeName(EntryType type);
// "rw-r--r--" style, with the type letter: "-rw-r--r--", "d", "l".
std::string ModeString(EntryType type, uint32_t mode);

// Draws a progress line on stderr from a Progress while it lives, when
// stderr is a terminal; does nothing otherwise (quiet in a pipe).
class ProgressPrinter {
 public:
  ProgressPrinter(Progress* progress, Clock* clock, bool enabled);
  ~ProgressPrinter();  // stops and clears the line
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

 private:
  void Loop();
  Progress* progress_;
  Clock* clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace proxima

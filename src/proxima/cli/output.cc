#include "proxima/cli/output.h"

#include <chrono>
#include <cstdio>

#include "proxima/model/names.h"

namespace proxima {

std::string Grouped(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string JsonPath(std::string_view path) {
  return IsValidUtf8(path) ? std::string(path) : QuotePath(path);
}

std::string EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

std::string ModeString(EntryType type, uint32_t mode) {
  std::string s = type == EntryType::kDirectory ? "d" : type == EntryType::kSymlink ? "l" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s.push_back((mode >> (8 - i)) & 1 ? rwx[i] : '-');
  return s;
}

ProgressPrinter::ProgressPrinter(Progress* progress, Clock* clock, bool enabled)
    : progress_(progress), clock_(clock) {
  if (enabled) thread_ = std::thread([this] { Loop(); });
}

ProgressPrinter::~ProgressPrinter() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

void ProgressPrinter::Loop() {
  const char* last_phase = nullptr;
  int64_t phase_start = clock_->MonotonicNanos();
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const char* phase = progress_->phase.load();
    int64_t now = clock_->MonotonicNanos();
    if (phase != last_phase) {
      last_phase = phase;
      phase_start = now;
    }
    double secs = static_cast<double>(now - phase_start) / 1e9;
    uint64_t files = progress_->files_done, files_total = progress_->files_total;
    uint64_t bytes = progress_->bytes_done, bytes_total = progress_->bytes_total;
    std::string line = std::string(phase);
    if (files_total > 0) line += "  " + Grouped(files) + "/" + Grouped(files_total) + " files";
    if (bytes_total > 0) {
      line += "  " + HumanBytes(bytes) + "/" + HumanBytes(bytes_total);
      if (secs > 0.5) {
        double rate = static_cast<double>(bytes) / secs;
        line += "  " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
        if (rate > 0 && bytes < bytes_total) {
          auto eta = static_cast<int>(static_cast<double>(bytes_total - bytes) / rate);
          char buf[32];
          std::snprintf(buf, sizeof(buf), "  ETA %d:%02d", eta / 60, eta % 60);
          line += buf;
        }
      }
    } else if (files > 0) {
      line += "  " + Grouped(files) + " files";
    }
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  }
}

}  // namespace proxima

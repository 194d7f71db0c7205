#include "proxima/base/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace proxima {

namespace {

// Splits "1.5Gi" into 1.5 and "Gi"; false when there is no number first.
bool SplitNumber(std::string_view text, double* number, std::string* unit) {
  std::string s(text);
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return false;
  char* end = nullptr;
  *number = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(*number) || *number < 0) return false;
  *unit = std::string(end);
  while (!unit->empty() && unit->front() == ' ') unit->erase(0, 1);
  return true;
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return Status::InvalidArgument(std::string(what) + ": '" + std::string(text) +
                                   "' is not a size (say 500G, 1.5T, 64Mi or a number of bytes)");
  };
  double n = 0;
  std::string unit;
  if (!SplitNumber(text, &n, &unit)) return bad();
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  double scale = 1;
  if (!unit.empty()) {
    static constexpr std::string_view kPrefixes = "KMGTP";
    size_t at = kPrefixes.find(static_cast<char>(std::toupper(unit[0])));
    if (at == std::string_view::npos) return bad();
    bool binary = unit.size() == 2 && unit[1] == 'i';
    if (unit.size() > 2 || (unit.size() == 2 && !binary)) return bad();
    scale = std::pow(binary ? 1024.0 : 1000.0, static_cast<double>(at + 1));
  }
  double bytes = std::floor(n * scale);
  if (bytes >= 1.8e19) return bad();
  return static_cast<uint64_t>(bytes);
}

Result<int64_t> ParseDuration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return Status::InvalidArgument(std::string(what) + ": '" + std::string(text) +
                                   "' is not a duration (say 90s, 15m, 12h, 1d or 2w)");
  };
  double n = 0;
  std::string unit;
  if (!SplitNumber(text, &n, &unit) || unit.size() != 1) return bad();
  double seconds = 0;
  switch (unit[0]) {
    case 's':
      seconds = n;
      break;
    case 'm':
      seconds = n * 60;
      break;
    case 'h':
      seconds = n * 3600;
      break;
    case 'd':
      seconds = n * 86400;
      break;
    case 'w':
      seconds = n * 7 * 86400;
      break;
    default:
      return bad();
  }
  if (seconds * 1e9 >= 9.2e18) return bad();
  return static_cast<int64_t>(std::llround(seconds * 1e9));
}

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

std::string FormatDuration(int64_t ns) {
  int64_t s = ns / 1'000'000'000;
  if (s < 120) return std::to_string(s) + "s";
  int64_t m = s / 60;
  if (m < 120) return std::to_string(m) + "m";
  int64_t h = m / 60;
  if (h < 24) return std::to_string(h) + "h";
  int64_t d = h / 24;
  return std::to_string(d) + "d" + (h % 24 != 0 ? " " + std::to_string(h % 24) + "h" : "");
}

}  // namespace proxima

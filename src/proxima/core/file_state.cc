#include "proxima/core/file_state.h"

#include <algorithm>

namespace proxima {

int ComparePaths(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    auto ca = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]) + 1;
    auto cb = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]) + 1;
    return ca < cb ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

}  // namespace proxima

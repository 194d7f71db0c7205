#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxima/base/result.h"

namespace proxima {

// "500G", "1.5T", "750MB", "64Mi", "4096": a size in bytes. K, M, G, T and P
// (with or without B) are powers of 1000; Ki, Mi, Gi, Ti, Pi (with or
// without B) powers of 1024. InvalidArgument naming `what` otherwise.
Result<uint64_t> ParseByteSize(std::string_view text, std::string_view what);

// "90s", "15m", "12h", "1d", "2w", "1.5h": a duration in nanoseconds.
Result<int64_t> ParseDuration(std::string_view text, std::string_view what);

// "1.2 GB", "512 B": a size for people, in decimal units (as disk vendors
// and rclone print).
std::string HumanBytes(uint64_t bytes);

// The shortest of "45s", "15m", "12h", "1d", "1d 6h" that says `ns`.
std::string FormatDuration(int64_t ns);

}  // namespace proxima

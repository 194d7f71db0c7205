#pragma once

// Large request bodies read straight from the connection's socket.
//
// cpp-httplib 0.11 (Debian 12's) reads a body 4 KiB at a time, with a poll()
// before each read and a copy out of its buffer after: for a 3 GB upload
// that is 1.5 million system calls and a second copy of every byte, about a
// quarter of the hub's CPU in a sync. The library is compiled, so its buffer
// size cannot be raised. For plain-HTTP uploads, the hub finds the socket
// the request came on and reads the rest of the body itself, in large reads
// into the caller's buffer.

#include <cstddef>
#include <functional>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/status.h"

namespace httplib {
struct Request;
}

namespace proxima::api {

// The descriptor of the TCP connection that carried `req`, found by its
// addresses among the process's descriptors; -1 when none matches (then the
// body is read through the library, as before).
int FindRequestSocket(const httplib::Request& req);

// Reads exactly `n` bytes from `fd` onto the end of `out`, waiting at most
// `timeout_ms` for each read. DeadlineExceeded on a stall, Unavailable when
// the peer closes early or the socket fails.
Status ReadSocketExactly(int fd, size_t n, int timeout_ms, AlignedBuffer& out);

}  // namespace proxima::api

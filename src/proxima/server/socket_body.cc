#include "proxima/server/socket_body.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <httplib.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace proxima::api {

namespace {

// The address and port of a socket end, as text ("127.0.0.1", 8080).
bool Describe(const sockaddr_storage& a, std::string* addr, int* port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    if (inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text)) == nullptr) return false;
    *port = ntohs(in.sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
    if (inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text)) == nullptr) return false;
    *port = ntohs(in6.sin6_port);
  } else {
    return false;
  }
  *addr = text;
  return true;
}

}  // namespace

int FindRequestSocket(const httplib::Request& req) {
  if (req.remote_port <= 0 || req.local_port <= 0) return -1;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage peer{}, local{};
    socklen_t peer_len = sizeof(peer), local_len = sizeof(local);
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
        getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
      continue;
    }
    std::string peer_addr, local_addr;
    int peer_port = 0, local_port = 0;
    if (!Describe(peer, &peer_addr, &peer_port) || !Describe(local, &local_addr, &local_port)) {
      continue;
    }
    // The four of them name one live TCP connection.
    if (peer_port == req.remote_port && local_port == req.local_port &&
        peer_addr == req.remote_addr && local_addr == req.local_addr) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(dir);
  return found;
}

Status ReadSocketExactly(int fd, size_t n, int timeout_ms, AlignedBuffer& out) {
  constexpr size_t kMaxRead = size_t{4} << 20;
  size_t start = out.size();
  out.Resize(start + n);  // capacity reserved by the caller: no copy here
  size_t done = 0;
  while (done < n) {
    ssize_t got = recv(fd, out.data() + start + done, std::min(n - done, kMaxRead), MSG_DONTWAIT);
    if (got > 0) {
      done += static_cast<size_t>(got);
      continue;
    }
    if (got == 0) {
      out.Resize(start + done);
      return Status::Unavailable("the client closed the connection " + std::to_string(n - done) +
                                 " bytes before the end of the body");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      int err = errno;
      out.Resize(start + done);
      return Status::Unavailable(std::string("reading the body failed: ") + std::strerror(err));
    }
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, timeout_ms);
    if (ready == 0) {
      out.Resize(start + done);
      return Status::DeadlineExceeded("the body stalled for " + std::to_string(timeout_ms / 1000) +
                                      " s with " + std::to_string(n - done) + " bytes to come");
    }
    if (ready < 0 && errno != EINTR) {
      int err = errno;
      out.Resize(start + done);
      return Status::Unavailable(std::string("waiting for the body failed: ") + std::strerror(err));
    }
  }
  return Status::Ok();
}

}  // namespace proxima::api

#include "proxima/core/workdir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "proxima/base/coding.h"
#include "proxima/base/file_util.h"

namespace proxima {

namespace {

constexpr std::string_view kStatMagic = "PROXSTAT";
constexpr uint32_t kStatVersion = 1;
constexpr int64_t kRacyWindowNs = 1'000'000'000;

Result<std::string> RealPath(const std::string& dir) {
  char buf[PATH_MAX];
  if (::realpath(dir.c_str(), buf) == nullptr) {
    return ErrnoStatus(errno, "cannot resolve folder '" + dir + "'");
  }
  return std::string(buf);
}

std::string EncodeStatCache(const StatCache& cache, int64_t now_ns) {
  std::string out;
  out.reserve(64 + cache.entries.size() * 96 + cache.trees.size() * 32);
  out.append(kStatMagic);
  PutFixed32(&out, kStatVersion);
  out.append(cache.head.view());
  PutVarint64(&out, cache.entries.size());
  for (const FileState& e : cache.entries) {
    PutLengthPrefixed(&out, e.path);
    out.push_back(static_cast<char>(e.type));
    PutVarint64(&out, e.mode);
    PutVarint64(&out, e.size);
    bool racy = now_ns - e.mtime_ns < kRacyWindowNs;
    PutVarint64(&out, racy ? 0 : static_cast<uint64_t>(e.mtime_ns));
    PutVarint64(&out, static_cast<uint64_t>(e.ctime_ns));
    PutVarint64(&out, e.inode);
    if (e.type == EntryType::kFile) {
      PutVarint64(&out, e.chunks.size());
      for (const ObjectId& c : e.chunks) out.append(c.view());
    } else if (e.type == EntryType::kSymlink) {
      PutLengthPrefixed(&out, e.target);
    }
  }
  PutVarint64(&out, cache.trees.size());
  for (const ObjectId& t : cache.trees) out.append(t.view());
  return out;
}

Result<StatCache> DecodeStatCache(std::string_view in, const std::string& path) {
  auto corrupt = [&]() {
    return Status::Corruption("stat cache '" + path +
                              "' is damaged; delete it and the next sync re-reads every file");
  };
  std::string_view bytes;
  uint32_t version = 0;
  if (!GetBytes(&in, kStatMagic.size(), &bytes) || bytes != kStatMagic ||
      !GetFixed32(&in, &version) || version != kStatVersion || !GetBytes(&in, 32, &bytes)) {
    return corrupt();
  }
  StatCache cache;
  cache.head = ObjectId(reinterpret_cast<const uint8_t*>(bytes.data()));
  uint64_t n = 0;
  if (!GetVarint64(&in, &n) || n > in.size()) return corrupt();
  cache.entries.resize(n);
  for (FileState& e : cache.entries) {
    uint64_t mode, mtime, ctime;
    if (!GetLengthPrefixed(&in, &bytes) || in.empty()) return corrupt();
    e.path.assign(bytes);
    e.type = static_cast<EntryType>(static_cast<uint8_t>(in[0]));
    in.remove_prefix(1);
    if (!GetVarint64(&in, &mode) || !GetVarint64(&in, &e.size) || !GetVarint64(&in, &mtime) ||
        !GetVarint64(&in, &ctime) || !GetVarint64(&in, &e.inode)) {
      return corrupt();
    }
    e.mode = static_cast<uint32_t>(mode);
    e.mtime_ns = static_cast<int64_t>(mtime);
    e.ctime_ns = static_cast<int64_t>(ctime);
    if (e.type == EntryType::kFile) {
      uint64_t k = 0;
      if (!GetVarint64(&in, &k) || k > in.size() / 32) return corrupt();
      e.chunks.reserve(k);
      for (uint64_t i = 0; i < k; ++i) {
        GetBytes(&in, 32, &bytes);
        e.chunks.emplace_back(reinterpret_cast<const uint8_t*>(bytes.data()));
      }
    } else if (e.type == EntryType::kSymlink) {
      if (!GetLengthPrefixed(&in, &bytes)) return corrupt();
      e.target.assign(bytes);
    } else if (e.type != EntryType::kDirectory) {
      return corrupt();
    }
  }
  if (!GetVarint64(&in, &n) || n > in.size() / 32) return corrupt();
  cache.trees.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    GetBytes(&in, 32, &bytes);
    cache.trees.emplace_back(reinterpret_cast<const uint8_t*>(bytes.data()));
  }
  if (!in.empty()) return corrupt();
  return cache;
}

}  // namespace

std::string WorkDir::StatePath(const char* name) const {
  return root_ + "/" + kStateDir + "/" + name;
}

Result<WorkDir> WorkDir::Bind(const std::string& dir, const std::string& dataset,
                              const ObjectId& head) {
  PROXIMA_RETURN_IF_ERROR(MakeDirs(dir));
  PROXIMA_ASSIGN_OR_RETURN(std::string root, RealPath(dir));
  auto existing = Find(root);
  if (existing.ok() && existing->root() == root) {
    if (existing->dataset() != dataset) {
      return Status::FailedPrecondition("folder '" + root + "' is already bound to dataset '" +
                                        existing->dataset() + "'");
    }
    return existing;
  }
  WorkDir wd(root, dataset);
  PROXIMA_RETURN_IF_ERROR(MakeDirs(root + "/" + kStateDir));
  StatCache cache;
  cache.head = head;
  PROXIMA_RETURN_IF_ERROR(wd.WriteStatCache(cache, /*pending=*/false, 0));
  nlohmann::json binding = {{"dataset", dataset}};
  PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(wd.StatePath("binding.json"), binding.dump() + "\n"));
  return wd;
}

Result<WorkDir> WorkDir::Find(const std::string& dir) {
  PROXIMA_ASSIGN_OR_RETURN(std::string path, RealPath(dir));
  for (;;) {
    std::string binding = path + (path == "/" ? "" : "/") + kStateDir + "/binding.json";
    auto bytes = ReadFile(binding);
    if (bytes.ok()) {
      try {
        auto j = nlohmann::json::parse(*bytes);
        return WorkDir(path, j.at("dataset").get<std::string>());
      } catch (const nlohmann::json::exception& e) {
        return Status::Corruption("'" + binding + "' is damaged: " + e.what());
      }
    }
    if (path == "/") break;
    path = DirName(path);
  }
  return Status::FailedPrecondition("'" + dir +
                                    "' is not inside a folder bound to a dataset "
                                    "(run 'proxima data init NAME DIR' or 'proxima data clone')");
}

Status WorkDir::RecoverPending(RefStore& refs) const {
  std::string pending = StatePath("statcache.pending");
  auto bytes = ReadFile(pending);
  if (!bytes.ok()) return Status::Ok();
  auto cache = DecodeStatCache(*bytes, pending);
  PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> head, refs.GetRef(dataset_, kHeadRef));
  if (cache.ok() && head && *head == cache->head) return PublishPending();
  if (::unlink(pending.c_str()) != 0) return ErrnoStatus(errno, "cannot remove " + pending);
  return Status::Ok();
}

Result<StatCache> WorkDir::LoadStatCache() const {
  std::string path = StatePath("statcache");
  auto bytes = ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) return StatCache{};
    return bytes.status();
  }
  return DecodeStatCache(*bytes, path);
}

Status WorkDir::WriteStatCache(const StatCache& cache, bool pending, int64_t now_ns) const {
  return WriteFileAtomic(StatePath(pending ? "statcache.pending" : "statcache"),
                         EncodeStatCache(cache, now_ns));
}

Status WorkDir::PublishPending() const {
  std::string from = StatePath("statcache.pending");
  std::string to = StatePath("statcache");
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot rename '" + from + "'");
  }
  return FsyncDir(DirName(to));
}

Status WorkDir::AppendJournal(const ObjectId& pack) const {
  std::string path = StatePath("journal");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot open " + path);
  Status s = WriteAll(fd, pack.Hex() + "\n", path);
  ::close(fd);
  return s;
}

Result<std::vector<ObjectId>> WorkDir::ReadJournal() const {
  std::vector<ObjectId> out;
  auto bytes = ReadFile(StatePath("journal"));
  if (!bytes.ok()) return out;
  std::string_view rest = *bytes;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;  // a torn last line is ignored
    auto id = Hash256::FromHex(rest.substr(0, nl));
    if (id) out.push_back(*id);
    rest.remove_prefix(nl + 1);
  }
  return out;
}

Status WorkDir::ClearJournal() const {
  std::string path = StatePath("journal");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "cannot remove " + path);
  }
  return Status::Ok();
}

}  // namespace proxima

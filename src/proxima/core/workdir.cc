#include "proxima/core/workdir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
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

// Streams the encoding of a stat cache to `fd` in 1 MiB writes, so that the
// cache of a million files is never held encoded in memory.
Status WriteStatCacheTo(int fd, const std::string& path, const StatCache& cache, int64_t now_ns) {
  std::string out;
  out.reserve(1 << 20);
  auto flush = [&](bool force) -> Status {
    if (out.size() < (1 << 20) - 8192 && !force) return Status::Ok();
    Status s = WriteAll(fd, out, path);
    out.clear();
    return s;
  };
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
    PROXIMA_RETURN_IF_ERROR(flush(false));
  }
  PutVarint64(&out, cache.trees.size());
  for (const ObjectId& t : cache.trees) {
    out.append(t.view());
    PROXIMA_RETURN_IF_ERROR(flush(false));
  }
  return flush(true);
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
  WorkDir wd(root, dataset, false);
  PROXIMA_RETURN_IF_ERROR(MakeDirs(root + "/" + kStateDir));
  StatCache cache;
  cache.head = head;
  PROXIMA_RETURN_IF_ERROR(wd.WriteStatCache(cache, /*pending=*/false, 0));
  PROXIMA_RETURN_IF_ERROR(wd.SetWatch(false));  // writes binding.json
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
        return WorkDir(path, j.at("dataset").get<std::string>(), j.value("watch", false));
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

Status WorkDir::SetWatch(bool on) {
  nlohmann::json binding = {{"dataset", dataset_}};
  if (on) binding["watch"] = true;
  PROXIMA_RETURN_IF_ERROR(WriteFileAtomic(StatePath("binding.json"), binding.dump() + "\n"));
  watch_ = on;
  return Status::Ok();
}

std::optional<WatchToken> WorkDir::ReadWatchToken() const {
  auto bytes = ReadFile(StatePath("watch.token"));
  if (!bytes.ok()) return std::nullopt;
  unsigned long long epoch = 0, seq = 0;
  char end = 0;
  if (std::sscanf(bytes->c_str(), "%llu %llu%c", &epoch, &seq, &end) != 3 || end != '\n' ||
      epoch == 0) {
    return std::nullopt;
  }
  return WatchToken{epoch, seq};
}

Status WorkDir::WriteWatchToken(const WatchToken& token) const {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%llu %llu\n", static_cast<unsigned long long>(token.epoch),
                static_cast<unsigned long long>(token.seq));
  return WriteFileAtomic(StatePath("watch.token"), buf);
}

Status WorkDir::RecoverPending(RefStore& refs) const {
  std::string pending = StatePath("statcache.pending");
  struct stat st;
  if (::stat(pending.c_str(), &st) != 0) return Status::Ok();
  auto reader = StatCacheReader::Open(pending);
  PROXIMA_ASSIGN_OR_RETURN(std::optional<ObjectId> head, refs.GetRef(dataset_, kHeadRef));
  if (reader.ok() && head && *head == reader->head()) return PublishPending();
  if (::unlink(pending.c_str()) != 0) return ErrnoStatus(errno, "cannot remove " + pending);
  return Status::Ok();
}

Result<StatCacheReader> StatCacheReader::Open(const std::string& path) {
  StatCacheReader r;
  r.path_ = path;
  auto bytes = ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) return r;
    return bytes.status();
  }
  r.bytes_ = std::move(*bytes);
  std::string_view rest = r.bytes_;
  std::string_view magic, head;
  uint32_t version = 0;
  if (!GetBytes(&rest, kStatMagic.size(), &magic) || magic != kStatMagic ||
      !GetFixed32(&rest, &version) || version != kStatVersion || !GetBytes(&rest, 32, &head) ||
      !GetVarint64(&rest, &r.remaining_) || r.remaining_ > rest.size()) {
    return r.Damaged();
  }
  r.head_ = ObjectId(reinterpret_cast<const uint8_t*>(head.data()));
  r.pos_ = r.first_ = r.bytes_.size() - rest.size();
  r.count_ = r.remaining_;
  return r;
}

Result<StatCacheReader::Header> StatCacheReader::ReadHeader(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Header{};
    return ErrnoStatus(errno, "cannot open '" + path + "'");
  }
  std::string header;
  Status s = PreadAll(fd, kStatMagic.size() + 4 + 32 + 10, 0, &header, path);
  ::close(fd);
  PROXIMA_RETURN_IF_ERROR(s);
  Header out;
  std::string_view rest = header, magic, head;
  uint32_t version = 0;
  if (!GetBytes(&rest, kStatMagic.size(), &magic) || magic != kStatMagic ||
      !GetFixed32(&rest, &version) || version != kStatVersion || !GetBytes(&rest, 32, &head) ||
      !GetVarint64(&rest, &out.entries)) {
    return Status::Corruption("stat cache '" + path +
                              "' is damaged; delete it and the next sync re-reads every file");
  }
  out.head = ObjectId(reinterpret_cast<const uint8_t*>(head.data()));
  return out;
}

Status StatCacheReader::Damaged() const {
  return Status::Corruption("stat cache '" + path_ +
                            "' is damaged; delete it and the next sync re-reads every file");
}

Result<bool> StatCacheReader::Next(FileState* e) {
  if (remaining_ == 0) return false;
  --remaining_;
  std::string_view rest_ = std::string_view(bytes_).substr(pos_);
  std::string_view bytes;
  uint64_t mode, mtime, ctime;
  if (!GetLengthPrefixed(&rest_, &bytes) || rest_.empty()) return Damaged();
  e->path.assign(bytes);
  e->type = static_cast<EntryType>(static_cast<uint8_t>(rest_[0]));
  rest_.remove_prefix(1);
  if (!GetVarint64(&rest_, &mode) || !GetVarint64(&rest_, &e->size) ||
      !GetVarint64(&rest_, &mtime) || !GetVarint64(&rest_, &ctime) ||
      !GetVarint64(&rest_, &e->inode)) {
    return Damaged();
  }
  e->mode = static_cast<uint32_t>(mode);
  e->mtime_ns = static_cast<int64_t>(mtime);
  e->ctime_ns = static_cast<int64_t>(ctime);
  e->chunks.clear();
  e->target.clear();
  if (e->type == EntryType::kFile) {
    uint64_t k = 0;
    if (!GetVarint64(&rest_, &k) || k > rest_.size() / 32) return Damaged();
    e->chunks.reserve(k);
    for (uint64_t i = 0; i < k; ++i) {
      GetBytes(&rest_, 32, &bytes);
      e->chunks.emplace_back(reinterpret_cast<const uint8_t*>(bytes.data()));
    }
  } else if (e->type == EntryType::kSymlink) {
    if (!GetLengthPrefixed(&rest_, &bytes)) return Damaged();
    e->target.assign(bytes);
  } else if (e->type != EntryType::kDirectory) {
    return Damaged();
  }
  pos_ = bytes_.size() - rest_.size();
  return true;
}

Result<std::vector<ObjectId>> StatCacheReader::Trees() {
  std::vector<ObjectId> trees;
  if (bytes_.empty()) return trees;
  std::string_view rest_ = std::string_view(bytes_).substr(pos_);
  uint64_t n = 0;
  if (remaining_ != 0 || !GetVarint64(&rest_, &n) || n != rest_.size() / 32 ||
      rest_.size() % 32 != 0) {
    return Damaged();
  }
  trees.reserve(n);
  std::string_view bytes;
  for (uint64_t i = 0; i < n; ++i) {
    GetBytes(&rest_, 32, &bytes);
    trees.emplace_back(reinterpret_cast<const uint8_t*>(bytes.data()));
  }
  return trees;
}

Result<StatCache> WorkDir::LoadStatCache() const {
  PROXIMA_ASSIGN_OR_RETURN(StatCacheReader reader, StatCacheReader::Open(StatePath("statcache")));
  StatCache cache;
  cache.head = reader.head();
  for (;;) {
    FileState e;
    PROXIMA_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
    if (!more) break;
    cache.entries.push_back(std::move(e));
  }
  PROXIMA_ASSIGN_OR_RETURN(cache.trees, reader.Trees());
  return cache;
}

Status WorkDir::WriteStatCache(const StatCache& cache, bool pending, int64_t now_ns) const {
  std::string path = StatePath(pending ? "statcache.pending" : "statcache");
  std::string tmp = path + ".tmp-" + UniqueTempSuffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot create '" + tmp + "'");
  Status s = WriteStatCacheTo(fd, tmp, cache, now_ns);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus(errno, "cannot fsync '" + tmp + "'");
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus(errno, "cannot write '" + tmp + "'");
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoStatus(errno, "cannot rename '" + tmp + "'");
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(DirName(path));
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

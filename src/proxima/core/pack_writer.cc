#include "proxima/core/pack_writer.h"

namespace proxima {

PackWriter::PackWriter(Repository* repo, const BlobIndex* known, Options options,
                       std::function<Status(const ObjectId&)> on_pack)
    : repo_(repo),
      known_(known),
      options_(options),
      on_pack_(std::move(on_pack)),
      // Room for a full pack plus a typical last blob and the trailer, so the
      // buffer rarely grows (growing doubles it and faults in fresh pages).
      builder_(AlignedBuffer(options_.target_pack_bytes + (1 << 20))) {
  for (int i = 0; i < std::max(1, options_.uploaders); ++i) {
    uploaders_.emplace_back([this] { UploadLoop(); });
  }
}

PackWriter::~PackWriter() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  for (auto& t : uploaders_) {
    if (t.joinable()) t.join();
  }
}

Result<bool> PackWriter::Add(const ObjectId& id, std::string_view raw) {
  if (known_ != nullptr && known_->CanReuse(id)) return false;
  std::unique_lock lock(mu_);
  if (!error_.ok()) return error_;
  if (!added_.insert(id).second) return false;
  builder_.Add(id, raw, options_.compress);
  bytes_added_ += raw.size();
  if (builder_.size_bytes() >= options_.target_pack_bytes) {
    PROXIMA_RETURN_IF_ERROR(SealLocked(lock, /*only_if_full=*/true));
  }
  return true;
}

Status PackWriter::SealLocked(std::unique_lock<std::mutex>& lock, bool only_if_full) {
  cv_.wait(lock, [&] { return queue_.size() < options_.max_queued || !error_.ok(); });
  if (!error_.ok()) return error_;
  // Another thread may have sealed the pack while this one waited.
  if (builder_.empty() || (only_if_full && builder_.size_bytes() < options_.target_pack_bytes)) {
    return Status::Ok();
  }
  std::vector<PackedBlob> blobs;
  AlignedBuffer next;
  if (!spare_.empty()) {
    next = std::move(spare_.back());
    spare_.pop_back();
  } else {
    next.Reserve(builder_.capacity());
  }
  ObjectId id;
  AlignedBuffer pack = builder_.Finish(&blobs, std::move(next), &id);
  // The blob table is kept with the pack and recorded once it is stored.
  written_.push_back({id, std::move(blobs)});
  queue_.push_back(std::move(pack));
  cv_.notify_all();
  return Status::Ok();
}

void PackWriter::UploadLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty()) return;
    AlignedBuffer pack = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    ObjectId id = written_[next_upload_++].pack;  // packs queue in the order they were sealed
    lock.unlock();
    Status s = repo_->store().Put(ObjectKey(ObjectKind::kPack, id), pack.view());
    if (s.ok() && on_pack_) {
      std::lock_guard guard(on_pack_mu_);
      s = on_pack_(id);
    }
    lock.lock();
    spare_.push_back(std::move(pack));
    --in_flight_;
    if (!s.ok() && error_.ok()) error_ = s;
    cv_.notify_all();
  }
}

Result<std::vector<IndexedPack>> PackWriter::Finish() {
  std::unique_lock lock(mu_);
  if (error_.ok() && !builder_.empty()) {
    Status s = SealLocked(lock, /*only_if_full=*/false);
    if (!s.ok()) return s;
  }
  cv_.wait(lock, [&] { return (queue_.empty() && in_flight_ == 0) || !error_.ok(); });
  closing_ = true;
  cv_.notify_all();
  lock.unlock();
  for (auto& t : uploaders_) t.join();
  if (!error_.ok()) return error_;
  return std::move(written_);
}

uint64_t PackWriter::bytes_added() const {
  std::lock_guard lock(mu_);
  return bytes_added_;
}

}  // namespace proxima

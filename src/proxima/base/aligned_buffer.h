#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

namespace proxima {

// A growable byte buffer whose storage is aligned to 4096 bytes, so that it
// can be written with O_DIRECT. Unlike std::string it never zero-fills, and
// Clear() keeps the capacity, so a reused buffer does not fault in fresh
// pages again. Move-only; not thread-safe.
class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 4096;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t capacity) { Reserve(capacity); }
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer();

  void Reserve(size_t capacity);
  void Append(std::string_view bytes) {
    if (size_ + bytes.size() > capacity_) Reserve(std::max(2 * capacity_, size_ + bytes.size()));
    std::memcpy(data_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  // Grows the size by `n` uninitialized bytes and returns where they start.
  char* Extend(size_t n) {
    if (size_ + n > capacity_) Reserve(std::max(2 * capacity_, size_ + n));
    char* at = data_ + size_;
    size_ += n;
    return at;
  }
  void Resize(size_t n) {
    if (n > capacity_) Reserve(n);
    size_ = n;
  }
  // Drops the first `n` bytes, moving the rest to the front.
  void Consume(size_t n) {
    std::memmove(data_, data_ + n, size_ - n);
    size_ -= n;
  }
  void Clear() { size_ = 0; }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Buffers kept for reuse: a fresh buffer of a pack's size costs thousands of
// page faults on first touch, which a reused one does not. Keeps at most
// `max_kept` buffers of at most `max_bytes` each; a Lease hands one out and
// gives it back when it goes. Thread-safe.
class AlignedBufferPool {
 public:
  AlignedBufferPool(size_t max_kept, size_t max_bytes)
      : max_kept_(max_kept), max_bytes_(max_bytes) {}

  class Lease {
   public:
    explicit Lease(AlignedBufferPool* pool) : pool_(pool), buffer_(pool->Take()) {}
    ~Lease() { pool_->Give(std::move(buffer_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    AlignedBuffer& operator*() { return buffer_; }
    AlignedBuffer* operator->() { return &buffer_; }

   private:
    AlignedBufferPool* pool_;
    AlignedBuffer buffer_;
  };

  // An empty buffer, with the capacity of one given back earlier if any.
  AlignedBuffer Take();
  void Give(AlignedBuffer buffer);

 private:
  size_t max_kept_;
  size_t max_bytes_;
  std::mutex mu_;
  std::vector<AlignedBuffer> free_;
};

}  // namespace proxima

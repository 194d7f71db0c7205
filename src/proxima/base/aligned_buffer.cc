#include "proxima/base/aligned_buffer.h"

#include <cstdlib>
#include <new>
#include <utility>

namespace proxima {

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

void AlignedBuffer::Reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  capacity = (capacity + kAlignment - 1) / kAlignment * kAlignment;
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, capacity) != 0) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(p, data_, size_);
  std::free(data_);
  data_ = static_cast<char*>(p);
  capacity_ = capacity;
}

AlignedBuffer AlignedBufferPool::Take() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return AlignedBuffer();
  AlignedBuffer b = std::move(free_.back());
  free_.pop_back();
  b.Clear();
  return b;
}

void AlignedBufferPool::Give(AlignedBuffer buffer) {
  if (buffer.capacity() == 0 || buffer.capacity() > max_bytes_) return;
  std::lock_guard lock(mu_);
  if (free_.size() < max_kept_) free_.push_back(std::move(buffer));
}

}  // namespace proxima

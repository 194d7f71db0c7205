#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace proxima {

// The small set of error codes every layer speaks. Adapters map library and
// system errors onto these; callers branch on the code, users read the message.
enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kInvalidArgument,
  kFailedPrecondition,
  kCorruption,
  kUnavailable,
  kPermissionDenied,
  kUnauthenticated,
  kCancelled,
  kDeadlineExceeded,
  kResourceExhausted,  // disk full, quota exceeded
  kAborted,            // lost a compare-and-swap race; the caller may retry
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);  // "NotFound", ...
// The inverse of StatusCodeName; kInternal for a name it does not know.
StatusCode StatusCodeFromName(std::string_view name);

// The outcome of an operation: OK, or a code with a message a user can act on.
// Messages name the object or path that failed and, where it helps, what to do.
// The retryable bit marks transient failures (timeouts, throttling) that a
// retry decorator may repeat; it is independent of the code.
//
// Status is cheap to copy when OK (no allocation) and is [[nodiscard]]: an
// ignored error is written out as `IgnoreError(...)` so that it is searchable.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, bool retryable = false)
      : code_(code), retryable_(retryable), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg)};
  }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status Unavailable(std::string msg) {
    return {StatusCode::kUnavailable, std::move(msg), /*retryable=*/true};
  }
  static Status PermissionDenied(std::string msg) {
    return {StatusCode::kPermissionDenied, std::move(msg)};
  }
  static Status Unauthenticated(std::string msg) {
    return {StatusCode::kUnauthenticated, std::move(msg)};
  }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) {
    return {StatusCode::kDeadlineExceeded, std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg) {
    return {StatusCode::kResourceExhausted, std::move(msg)};
  }
  static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  bool retryable() const { return retryable_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsCorruption() const { return code_ == StatusCode::kCorruption; }

  // Returns a copy whose message is "context: message", keeping code and bit.
  Status WithContext(std::string_view context) const;

  // "NotFound: message" (or "OK").
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  bool retryable_ = false;
  std::string message_;
};

// Marks an error that is deliberately dropped (for example a best-effort
// cleanup on a path that is already failing).
inline void IgnoreError(const Status&) {}

// Maps an errno value to a Status whose message is "what: strerror".
Status ErrnoStatus(int err, std::string_view what);

}  // namespace proxima

#define PROXIMA_CONCAT_INNER_(a, b) a##b
#define PROXIMA_CONCAT_(a, b) PROXIMA_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define PROXIMA_RETURN_IF_ERROR(expr)           \
  do {                                          \
    ::proxima::Status proxima_status_ = (expr); \
    if (!proxima_status_.ok()) {                \
      return proxima_status_;                   \
    }                                           \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its error.
#define PROXIMA_ASSIGN_OR_RETURN(lhs, expr) \
  PROXIMA_ASSIGN_OR_RETURN_IMPL_(PROXIMA_CONCAT_(proxima_result_, __LINE__), lhs, expr)
#define PROXIMA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return std::move(tmp).status();                    \
  }                                                    \
  lhs = std::move(tmp).value()

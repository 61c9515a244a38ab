// Status and Result<T>: how errors cross module boundaries in cmdb.
//
// A Status is either OK or carries a code, a human-readable message and optional structured
// details (for example the id of the CI holding a conflicting KEY value). Codes map one-to-one onto
// the HTTP statuses the API answers with, but the core knows nothing of HTTP.
// Thread safety: plain values; copy freely.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cmdb/value.hpp"

namespace cmdb {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // malformed input (400)
  kUnauthenticated,     // no or bad credentials (401)
  kPermissionDenied,    // authenticated, wrong role (403)
  kNotFound,            // unknown id or name (404)
  kConflict,            // KEY/UNIQUE violation, forbidden transition (409)
  kPreconditionFailed,  // optimistic version mismatch (412)
  kPayloadTooLarge,     // request body over a limit (413)
  kSchemaViolation,     // value does not fit the schema (422)
  kResourceExhausted,   // a request past a budget: nesting, rows, bytes (400)
  kUnavailable,         // overloaded or read-only (503)
  kInternal,            // bug or I/O failure (500)
};

// Stable, documented name of a code, used as "code" in JSON error bodies.
const char* StatusCodeName(StatusCode code);

// An OK Status is one null pointer: returning and testing it costs no more than a bool. An
// error holds its code, message, type and details in one heap block, copied on copy.
// A moved-from Status is OK.
class Status {
 public:
  using Details = std::vector<std::pair<std::string, Value>>;

  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : rep_(std::make_unique<Rep>(Rep{code, std::move(message), {}, {}})) {}
  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status Schema(std::string m) { return {StatusCode::kSchemaViolation, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code() == StatusCode::kOk; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const { return rep_ ? rep_->message : kEmpty; }

  // Structured details, rendered as members of the JSON error object.
  const Details& details() const { return rep_ ? rep_->details : kNoDetails; }
  Status& With(std::string key, Value value) {
    Mutable().details.emplace_back(std::move(key), std::move(value));
    return *this;
  }

  // An error type more precise than the code, reported as "code" in JSON errors when set
  // (the query language's "SyntaxError", "SemanticError", "TypeError", ...).
  const std::string& type() const { return rep_ ? rep_->type : kEmpty; }
  Status& WithType(std::string type) {
    Mutable().type = std::move(type);
    return *this;
  }

  // "Conflict: message" for logs and tests.
  std::string ToString() const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    std::string type;
    Details details;
  };
  Rep& Mutable() {
    if (!rep_) rep_ = std::make_unique<Rep>(Rep{StatusCode::kOk, {}, {}, {}});
    return *rep_;
  }
  static inline const std::string kEmpty;
  static inline const Details kNoDetails;

  std::unique_ptr<Rep> rep_;
};
static_assert(sizeof(Status) == sizeof(void*), "an OK Status is a null pointer");

// Either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Status> data_;
};

#define CMDB_RETURN_IF_ERROR(expr)        \
  do {                                    \
    ::cmdb::Status _st = (expr);          \
    if (!_st.ok()) return _st;            \
  } while (0)

}  // namespace cmdb

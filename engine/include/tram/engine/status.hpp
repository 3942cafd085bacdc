// Status and Result: expected failures as values (bad input, bad signature, chain breaks,
// storage errors). Exceptions are reserved for bugs and never cross the engine's API.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tram {

// Machine-readable error codes. The string form (errc_name) is part of the wire protocol:
// never rename one, only add.
enum class Errc {
  ok = 0,
  // Decoding (docs/changeset-format.md, "Errors").
  malformed_json,     // not JSON, or truncated
  wrong_type,         // a member has the wrong JSON type
  missing_field,      // a required member is absent
  unknown_field,      // a member this format version does not define
  duplicate_key,      // an object names the same member twice
  too_deep,           // nesting deeper than the format allows
  too_large,          // bytes, text or counts beyond the format's limits
  out_of_range,       // a number outside its allowed range
  invalid_utf8,       // bytes that are not UTF-8
  not_normalized,     // text that is not in Unicode NFC
  invalid_value,      // a value that breaks its type's rules (date, hash, id, name)
  unsupported_version,
  // Signatures and per-device chains.
  bad_signature,
  device_mismatch,    // signed by one device, naming another
  duplicate,          // exactly the change set already accepted at this sequence
  seq_gap,            // a later sequence than the next one expected
  fork_detected,      // other bytes at an accepted sequence, or a next one linking elsewhere
  // Clocks.
  clock_skew,
  // Schema and apply.
  unknown_table,
  unknown_field_id,
  type_mismatch,      // value type differs from the schema's field type
  schema_mismatch,    // change set written for another schema, or a newer version
  // Authorization (schema write rules, scope, workflow).
  forbidden_scope,     // a unit outside the device's scope
  forbidden_role,      // the role may not do this to this table or field
  author_mismatch,     // written under another name than the user's (change set or record)
  workflow_violation,  // a transition the workflow does not allow, or a locked row
  // Storage and programming errors.
  storage_error,
  invalid_argument,
  not_found,
  // Devices talking to a server (the client SDK).
  unavailable,      // the server could not be reached or answered 5xx: retry later
  unauthenticated,  // no session, or the server refused this device's credentials
  not_enrolled,     // the device has no key or server yet
  already_exists,   // an insert of a row that is there
  cancelled,        // the caller cancelled the operation
  rejected,         // the server refused the request; the message carries its code
};

// Stable snake_case name of a code, e.g. "seq_gap".
std::string_view errc_name(Errc code) noexcept;

// True when the same request may succeed later without change (e.g. a gap that fills in,
// a busy database); false when the input itself is wrong.
bool errc_retryable(Errc code) noexcept;

// A code and a human-readable message. Costs nothing beyond an enum on success.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok_status() { return {}; }

  bool ok() const noexcept { return code_ == Errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "code: message", for logs and test failures.
  std::string to_string() const;

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

// A value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT
  Result(Errc code, std::string message) : v_(Status(code, std::move(message))) {}

  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Errc code() const noexcept { return ok() ? Errc::ok : std::get<Status>(v_).code(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // The value, or `fallback` on failure (for reads where a default is the right answer).
  template <typename U>
  T value_or(U&& fallback) const& { return ok() ? value() : static_cast<T>(std::forward<U>(fallback)); }
  template <typename U>
  T value_or(U&& fallback) && { return ok() ? std::move(*this).value() : static_cast<T>(std::forward<U>(fallback)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tram

// Returns the Status of an expression from the enclosing function when it is not ok.
#define TRAM_RETURN_IF_ERROR(expr)        \
  do {                                    \
    ::tram::Status tram_st_ = (expr);     \
    if (!tram_st_.ok()) return tram_st_;  \
  } while (0)

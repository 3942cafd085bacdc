#include "tram/engine/status.hpp"

namespace tram {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::malformed_json: return "malformed_json";
    case Errc::wrong_type: return "wrong_type";
    case Errc::missing_field: return "missing_field";
    case Errc::unknown_field: return "unknown_field";
    case Errc::duplicate_key: return "duplicate_key";
    case Errc::too_deep: return "too_deep";
    case Errc::too_large: return "too_large";
    case Errc::out_of_range: return "out_of_range";
    case Errc::invalid_utf8: return "invalid_utf8";
    case Errc::not_normalized: return "not_normalized";
    case Errc::invalid_value: return "invalid_value";
    case Errc::unsupported_version: return "unsupported_version";
    case Errc::bad_signature: return "bad_signature";
    case Errc::device_mismatch: return "device_mismatch";
    case Errc::duplicate: return "duplicate";
    case Errc::seq_gap: return "seq_gap";
    case Errc::fork_detected: return "fork_detected";
    case Errc::clock_skew: return "clock_skew";
    case Errc::unknown_table: return "unknown_table";
    case Errc::unknown_field_id: return "unknown_field_id";
    case Errc::type_mismatch: return "type_mismatch";
    case Errc::schema_mismatch: return "schema_mismatch";
    case Errc::forbidden_scope: return "forbidden_scope";
    case Errc::forbidden_role: return "forbidden_role";
    case Errc::author_mismatch: return "author_mismatch";
    case Errc::workflow_violation: return "workflow_violation";
    case Errc::storage_error: return "storage_error";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::unavailable: return "unavailable";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::not_enrolled: return "not_enrolled";
    case Errc::already_exists: return "already_exists";
    case Errc::cancelled: return "cancelled";
    case Errc::rejected: return "rejected";
  }
  return "unknown";
}

bool errc_retryable(Errc code) noexcept {
  switch (code) {
    case Errc::seq_gap:        // the missing change sets may still arrive
    case Errc::storage_error:  // busy or full disk: may clear
      return true;
    default:
      return false;
  }
}

std::string Status::to_string() const {
  std::string out(errc_name(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace tram

// Private to storage/: reading the server's own rows (_srv_*) out of SQLite statements, shared by
// the writer's side (sqlite_storage.cpp) and the readers' (sqlite_reads.cpp).
#pragma once

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "storage.hpp"
#include "tram/engine/sqlite.hpp"

namespace tram::server::sqlite_rows {

template <size_t N>
std::array<uint8_t, N> blob(const sql::Statement& st, int col) {
  std::array<uint8_t, N> out{};
  auto b = st.column_blob(col);
  if (b.size() == N) std::memcpy(out.data(), b.data(), N);
  return out;
}

// Units are kept as one comma-separated text.
std::string join(const std::vector<std::string>& v);
std::vector<std::string> split(std::string_view s);

// A device's chain head is its last entry in the log (accepted or not), found through the
// log's (device, seq) index: a push then writes no device row, which with many devices was one
// page at a random place per change set. (The columns head_seq and head_id of _srv_devices are
// no longer written.) Columns other than _srv_devices' are qualified: callers append "WHERE
// key = ?" or "ORDER BY user".
inline constexpr std::string_view kDeviceColumns =
    "SELECT d.key, d.user, d.state, l.seq, l.id, d.enrolled_ms FROM _srv_devices d"
    " LEFT JOIN _srv_log l ON l.device = d.key AND l.seq = (SELECT MAX(seq) FROM _srv_log WHERE device = d.key)";
// The next device row of a statement selecting kDeviceColumns; nullopt when done.
Result<std::optional<DeviceRecord>> next_device(sql::Statement& st);
// One device, read on `db` (the writer's connection inside its transaction, or a reader's).
Result<std::optional<DeviceRecord>> device_on(sql::Database& db, const PublicKey& key);

Result<std::vector<AttachmentUse>> read_uses(sql::Statement& st);
// The highest row version, and the log's head, as `db` sees them.
Result<uint64_t> row_version_on(sql::Database& db);
Result<LogHead> head_on(sql::Database& db);

}  // namespace tram::server::sqlite_rows

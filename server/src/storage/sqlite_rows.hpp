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

inline constexpr std::string_view kDeviceColumns = "SELECT key, user, state, head_seq, head_id, enrolled_ms FROM _srv_devices";
// The next device row of a statement selecting kDeviceColumns; nullopt when done.
Result<std::optional<DeviceRecord>> next_device(sql::Statement& st);
// One device, read on `db` (the writer's connection inside its transaction, or a reader's).
Result<std::optional<DeviceRecord>> device_on(sql::Database& db, const PublicKey& key);

Result<std::vector<AttachmentUse>> read_uses(sql::Statement& st);
// The highest row version, and the log's head, as `db` sees them.
Result<uint64_t> row_version_on(sql::Database& db);
Result<LogHead> head_on(sql::Database& db);

}  // namespace tram::server::sqlite_rows

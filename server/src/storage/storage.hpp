// The server's storage, behind one interface so that a PostgreSQL backend can follow the
// SQLite one: users, enrolment codes, devices and their chains, the accepted log (itself a hash
// chain), row versions for pulls, attachment uses, and the merged replica. It is the only door
// to the data: nothing outside server/src/storage/ runs SQL, opens a transaction or sees how
// the replica is kept (no engine Store: the rest of the server reads rows through the engine's
// RowReader, tram/engine/row_reader.hpp).
//
// Two kinds of callers:
// - the writer (one at a time: the Service serializes them under its writer lock): begin()…
//   record()…commit(), the administrative writes, and rows() for authorization inside a batch;
// - readers, on any thread at once, never waiting for the writer: user(), device(), devices(),
//   and read_snapshot() for everything a pull, a snapshot page, an attachment check or the
//   province report reads. They see what is committed.
//
// A second backend implements three interfaces, all in its own files under storage/: Storage,
// ReadSnapshot and RowReader (one for the writer's view, one per snapshot), honouring
// row_reader.hpp's contract. What it must provide beyond SQL of its own:
// - the merge. record() merges an accepted change set by the engine's rules (docs/merge.md),
//   and two backends given the same log must hold the same rows, merge metadata and conflict
//   records (what pulls send, byte for byte). The SQLite backend reuses the rules by keeping
//   the replica in an engine Store on its own database (Store::apply inside the batch's
//   transaction). That code runs on SQLite: another backend reimplements the per-field merge
//   over its tables, or first moves it out of store.cpp into a pure function over RowImage
//   (not done yet), and checks itself against the engine (convergence_test's logs; equal rows
//   and conflicts as Store reads them);
// - atomicity: a batch's log entries, merged rows, row versions and chain heads commit
//   together and durably before commit() returns (receipts are sent after it);
// - snapshots that see one committed state without waiting for the writer, and a writer's
//   rows() that sees the batch's own earlier records;
// - the log hash chain exactly as LogEntry says, and row versions that only grow.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/authorize.hpp"
#include "tram/engine/chain.hpp"
#include "tram/engine/changeset.hpp"
#include "tram/engine/hlc.hpp"
#include "tram/engine/row_reader.hpp"

namespace tram::server {

struct UserRecord {
  std::string id;
  Role role = Role::official;
  std::vector<std::string> units;
  bool all_units = false;
  std::string name;  // display name (NFC), what the user's reports carry as author; "" = unchecked
  Principal principal() const { return Principal{role, units, all_units, name}; }
};

enum class DeviceState { active, revoked, quarantined };
std::string_view device_state_name(DeviceState s);

struct DeviceRecord {
  PublicKey key{};
  std::string user;
  DeviceState state = DeviceState::active;
  ChainHead head;
  int64_t enrolled_ms = 0;
  int64_t last_received_ms = 0;  // its last change set's arrival (0: none); filled by devices() only
};

// One change set in the log: accepted (merged) or rejected (kept in its device's chain, not
// merged). The log is a hash chain: log_hash = BLAKE2b(prev log_hash ‖ server_seq ‖ id ‖ status).
struct LogEntry {
  uint64_t server_seq = 0;
  PublicKey device{};
  uint64_t seq = 0;
  Hash id{};
  bool accepted = false;
  std::string code;     // rejection code ("" when accepted)
  std::string message;  // rejection reason
  int64_t received_ms = 0;
  bool clock_ahead = false;
  Hash log_hash{};
};

struct LogHead {
  uint64_t server_seq = 0;
  Hash log_hash{};
};

// What the writer decided for one change set of a push, before it is committed.
struct Decision {
  const SignedChangeSet* signed_cs = nullptr;
  const ChangeSet* cs = nullptr;
  // The log's copy of signed_cs->bytes, gzip-compressed ahead of the writer's lock (about a
  // fifth of the size, so a fifth of the WAL writes); null: stored as received.
  const std::string* stored_bytes = nullptr;
  Hash id{};
  bool accept = false;
  ClockTrust clock = ClockTrust::trusted;
  std::string code, message;
};

// A changed row for a pull, in version order.
struct RowVersion {
  uint64_t version = 0;
  std::string table, row;
};

// A row that names an attachment (an evidence photo) by its hash.
struct AttachmentUse {
  Hash hash{};
  std::string table, row;
};

// One consistent view of what is committed, for the reads of one request (a pull or snapshot
// page, an attachment check, the province report), on a connection of its own: taking and using
// it never waits for the writer, and the writer never waits for it. Use from one thread; release
// it soon (SQLite: a long-lived snapshot holds back checkpoints).
class ReadSnapshot {
 public:
  virtual ~ReadSnapshot() = default;
  // The replica's rows as of this snapshot (row_image, scan_images, get_row, conflicts_of,
  // has_conflicts), for pages, attachment checks and the report. Valid while the snapshot is.
  virtual RowReader& rows() = 0;
  // Rows changed after `after` (row versions), at most `limit`, in version order.
  virtual Result<std::vector<RowVersion>> changed_rows(uint64_t after, size_t limit) = 0;
  // The highest row version (what a snapshot taken now is as of).
  virtual Result<uint64_t> row_version() = 0;
  // The head of the log.
  virtual Result<LogHead> head() = 0;
  // Which rows name an attachment's hash.
  virtual Result<std::vector<AttachmentUse>> attachment_uses(const Hash& hash) = 0;
  // When the server received each of these change sets (its log entry's received_ms), for those
  // the log holds as accepted; ids it does not hold, or holds as rejected, are left out.
  virtual Result<std::map<Hash, int64_t>> received_times(const std::set<Hash>& ids) = 0;
  // Visits every accepted change set of the log in log order (server_seq): its id, bytes as
  // signed, the server's time of receipt and whether its clock was judged ahead. For the
  // province report's submission times; a scan of the whole log, so not for a request path.
  struct LoggedChangeSet {
    Hash id{};
    std::string_view bytes;
    int64_t received_ms = 0;
    bool clock_ahead = false;
  };
  virtual Status scan_accepted(const std::function<Status(const LoggedChangeSet&)>& visit) = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual Status create_user(const UserRecord& user) = 0;
  virtual Result<std::optional<UserRecord>> user(const std::string& id) = 0;
  virtual Result<std::vector<UserRecord>> users() = 0;  // by id
  // Removes a user: their devices are revoked (kept, with their history: what they sent stays
  // in the log and in the rows), their unused enrolment codes deleted. not_found if none.
  virtual Status delete_user(const std::string& id) = 0;
  // Stores a code's hash; the code itself is shown once to the administrator.
  virtual Status add_enrolment_code(const Hash& code_hash, const std::string& user, int64_t expires_ms) = 0;
  // Consumes the code (single use, unexpired) and registers the device, atomically.
  virtual Result<DeviceRecord> enrol(const Hash& code_hash, const PublicKey& key, int64_t now_ms) = 0;
  // Reads (never wait for the writer; committed state).
  virtual Result<std::optional<DeviceRecord>> device(const PublicKey& key) = 0;
  virtual Result<std::vector<DeviceRecord>> devices() = 0;
  virtual Result<std::unique_ptr<ReadSnapshot>> read_snapshot() = 0;
  virtual Status set_device_state(const PublicKey& key, DeviceState state) = 0;

  // The writer's side, inside its transaction: a device's chain head as the batch left it so far.
  virtual Result<std::optional<ChainHead>> chain_head(const PublicKey& device) = 0;
  // The id in this device's chain at `seq` (accepted or rejected).
  virtual Result<std::optional<Hash>> chain_at(const PublicKey& device, uint64_t seq) = 0;
  virtual Result<std::optional<LogEntry>> log_entry(const PublicKey& device, uint64_t seq) = 0;
  virtual Result<LogHead> head() = 0;
  // A change set that forked a device's chain, kept aside as evidence.
  virtual Status keep_fork(const PublicKey& device, const SignedChangeSet& cs) = 0;

  // The replica's rows as the writer sees them inside its batch (earlier records of the batch
  // included), for authorization (which reads the rows a change set touches) and the writer's
  // own reads (which units a push touched). Only under the writer lock; readers use
  // read_snapshot(). Writes go through record() only.
  virtual RowReader& rows() = 0;
  // Starts the writer's transaction for one batch.
  virtual Status begin() = 0;
  // Applies one decision inside the batch (accepted ones are merged), appends it to the log
  // and returns its entry. Later decisions of the batch see its effects.
  virtual Result<LogEntry> record(const Decision& d, int64_t now_ms) = 0;
  // Durably commits the batch (synchronous=FULL). Receipts may be sent only after this.
  virtual Status commit() = 0;
  virtual void rollback() = 0;

  // The highest row version so far (the writer's: for the log watermark).
  virtual Result<uint64_t> row_version() = 0;
  // Attachments (which rows name a hash is recorded as change sets are accepted; read it through
  // a snapshot): which named hashes have not arrived yet, and marking one as received (complete
  // and verified).
  virtual Result<std::vector<AttachmentUse>> missing_attachments() = 0;
  virtual Status mark_attachment_received(const Hash& hash, uint64_t size, int64_t now_ms) = 0;

  // Online copy of the whole database (SQLite backup API).
  virtual Status backup(const std::string& path) = 0;

  // A fast structural check of the stored state (SQLite: PRAGMA quick_check), run before serving.
  virtual Status check_integrity() = 0;
  // Row versions handed out from now on are above `floor` (after the log went backwards: every
  // device's pull cursor is below what the server writes next).
  virtual Status raise_row_version(uint64_t floor) = 0;
  // Copies what is committed into the main database file (rare administrative writes such as
  // enrolments, so that a lost WAL cannot take them).
  virtual void checkpoint() = 0;
};

}  // namespace tram::server

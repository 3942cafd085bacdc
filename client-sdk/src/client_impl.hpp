// Inside the client: the state behind Client, shared by client.cpp (local store, writes,
// reads, bundles) and sync.cpp (the network side). Not installed.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "tram/client.hpp"
#include "tram/engine/authorize.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/store.hpp"
#include "tram/engine/uuid.hpp"
#include "tram/engine/wire.hpp"

namespace tram::client {

// One item of a push answer, or of a receipt bundle (protocol §7.3).
struct PushResult {
  std::string status, code, message;
  uint64_t seq = 0, expected_seq = 0;
  std::string receipt_body, receipt_sig;  // empty without a receipt
};

// The rows a batch of local changes touched, per table, for the change listener.
using Touched = std::map<std::string, std::set<std::string>>;

class Client::Impl {
 public:
  explicit Impl(Options o) : opt(std::move(o)), clock(opt.clock ? opt.clock : &system_clock) {}
  ~Impl();

  Status open();
  Status load_identity();      // meta -> members; decrypts the key
  Status reload_chain();       // a DeviceChain at the persisted head

  // _client_meta
  Result<std::optional<std::string>> meta(const std::string& k);
  Status set_meta(const std::string& k, const std::string& v);

  // Rebuilds the view of rows from the server's image plus the change sets still pending.
  Status rebuild_rows(const Touched& rows);
  // Applies the outcome of pushing outbox entries (a push or an imported receipt bundle).
  Status record_results(const std::vector<PushResult>& results, SyncReport& report, Touched& changed);
  // The answers to kept change sets sent again (`seqs`, in request order); `gap` gets the
  // expected_seq of a seq_gap answer.
  Status record_resent(const std::vector<PushResult>& results, const std::vector<uint64_t>& seqs, SyncReport& report,
                       Touched& changed, uint64_t& gap);
  // A verified head from a push or pull answer (mu held): below the highest one seen, the
  // server's log went back (mark_log_behind).
  Status note_head(uint64_t server_seq, SyncReport& report, bool persist = true);
  Status load_known_head();  // known_head from meta, or from the receipts on a first run (mu held)
  Status mark_log_behind(uint64_t server_seq, SyncReport& report);
  Status prune_sent();
  Result<bool> is_own_changeset(const Hash& id);
  // A receipt signed by the pinned server key or one it replaced (mu held).
  Result<wire::Receipt> verify_signed_receipt(std::string_view body, std::string_view sig_hex) const;
  bool trusts(const PublicKey& server) const;  // the pinned key or one it replaced (mu held)
  Principal principal() const;
  void notify(const Touched& changed);

  // sync.cpp
  Status sync_round(SyncReport& report, const std::function<void(const Progress&)>& progress);
  // One request, opening a session first when needed and once more after a 401. `via`: another
  // connection than the main one (the pull's read-ahead).
  Result<HttpResponse> call(const std::string& method, const std::string& target, const std::string& body,
                            bool authenticated, SyncReport* report = nullptr, Transport* via = nullptr);
  Status login();
  // GET /v1/me: role and scope as the server has them now, and the device's chain head there
  // (me_seq). With a report, a server_key other than the pinned one is followed (follow_server_key).
  Status refresh_identity(SyncReport* report = nullptr);
  // GET /v1/server-key: follows the key statements from the pinned key (protocol §4) to the key
  // the server signs with now, and to the server's latest signed address; refuses a key that no
  // statement chain leads to.
  Status follow_server_key(SyncReport& report);
  // The server's chain head for this device (/v1/me seq) below its receipts: the server lost
  // them; send them again (refill).
  Status heal_from_me(SyncReport& report);
  Status sync_steps(SyncReport& report, const std::function<void(const Progress&)>& progress);
  Status push_outbox(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);
  Status upload_attachments(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);
  Status pull(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);
  // Healing a server whose log went back: sends kept change sets [from, to] again, in order;
  // `gap` gets the server's expected_seq if it still lacks earlier ones.
  Status resend(uint64_t from, uint64_t to, SyncReport& report, uint64_t& gap);
  // The server answered seq_gap at `expected` below this device's receipts: send it all it lacks
  // (server_lost_data when this device no longer keeps it). `otherwise`: the answer for a gap
  // that is not below the receipts.
  Status refill(uint64_t expected, SyncReport& report, Status otherwise);
  // After a head showed the log went back: one kept change set (the newest) asks the server
  // where this device's chain stands there, and refill() sends what it lacks.
  Status heal_if_needed(SyncReport& report);
  Status ensure_transport();

  Options opt;
  SystemClock system_clock;
  ClockSource* clock;
  SystemRandom random;
  std::unique_ptr<Schema> schema;
  std::unique_ptr<Store> store;
  std::optional<HybridClock> hlc;
  std::optional<DeviceChain> chain;

  std::mutex mu;        // the database and the members below
  std::mutex sync_mu;   // one sync at a time
  std::atomic<bool> cancelled{false};

  // Identity, from _client_meta.
  std::string server_url, user, role_name_;
  Role role = Role::official;
  std::vector<std::string> units;
  bool all_units = false;
  std::optional<PublicKey> device, server_key;
  std::vector<PublicKey> old_server_keys;  // replaced by server_key through signed statements

  std::shared_ptr<Transport> transport;
  std::string token;  // session, in memory only
  size_t push_batch = 0, pull_page = 0;
  std::optional<uint64_t> known_head;  // the highest verified log head (meta "head_seq")
  std::optional<uint64_t> me_seq;      // this device's chain head on the server, from /v1/me
  bool behind_seen = false;            // mark_log_behind ran (the pull stops and starts again)

  std::function<void(const std::string&, const std::vector<std::string>&)> listener;
  std::mutex listener_mu;

  std::thread background;
  std::mutex bg_mu;
  std::condition_variable bg_cv;
  bool bg_stop = false;
};

// The error of a device that cannot give a server what its log lost.
Status server_lost_data(uint64_t from, uint64_t to, uint64_t missing);
bool is_server_lost_data(const Status& st);

// Writes a file only this user may read (0600), for the device's private files.
Status write_private_file(const std::string& path, std::string_view bytes);

// Sleeps up to `ms`, waking early when `cancelled` turns true.
void sleep_unless_cancelled(int64_t ms, const std::atomic<bool>& cancelled);

}  // namespace tram::client

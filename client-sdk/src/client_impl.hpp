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
#include "local_store.hpp"
#include "log_heads.hpp"
#include "puller.hpp"
#include "session.hpp"

namespace tram::client {

// One item of a push answer, or of a receipt bundle (protocol §7.3).
struct PushResult {
  std::string status, code, message;
  uint64_t seq = 0, expected_seq = 0;
  std::string receipt_body, receipt_sig;  // empty without a receipt
};

class Client::Impl {
 public:
  explicit Impl(Options o) : opt(std::move(o)), clock(opt.clock ? opt.clock : &system_clock) {}
  ~Impl();

  Status open();
  Status load_identity();      // meta -> members; decrypts the key
  Status reload_chain();       // a DeviceChain at the persisted head

  // _client_meta
  Result<std::optional<std::string>> meta(const std::string& k) { return local->meta(k); }
  Status set_meta(const std::string& k, const std::string& v) { return local->set_meta(k, v); }

  // Applies the outcome of pushing outbox entries (a push or an imported receipt bundle).
  Status record_results(const std::vector<PushResult>& results, SyncReport& report, Touched& changed);
  // The answers to kept change sets sent again (`seqs`, in request order); `gap` gets the
  // expected_seq of a seq_gap answer.
  Status record_resent(const std::vector<PushResult>& results, const std::vector<uint64_t>& seqs, SyncReport& report,
                       Touched& changed, uint64_t& gap);
  Status prune_sent();
  // A receipt signed by the pinned server key or one it replaced (mu held).
  Result<wire::Receipt> verify_signed_receipt(std::string_view body, std::string_view sig_hex) const;
  bool trusts(const PublicKey& server) const;  // the pinned key or one it replaced (mu held)
  Principal principal() const;
  void notify(const Touched& changed);

  // sync.cpp
  Status sync_round(SyncReport& report, const std::function<void(const Progress&)>& progress);
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

  Options opt;
  SystemClock system_clock;
  ClockSource* clock;
  SystemRandom random;
  std::unique_ptr<Schema> schema;
  std::string schema_source;  // the newest v<N>.json, as read (Client::schema_json)
  std::unique_ptr<LocalStore> local;
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

  std::unique_ptr<DeviceSession> session;
  std::unique_ptr<LogHeads> heads;  // (mu held)
  std::unique_ptr<Puller> puller;
  size_t push_batch = 0;
  std::optional<uint64_t> me_seq;  // this device's chain head on the server, from /v1/me

  std::function<void(const std::string&, const std::vector<std::string>&)> listener;
  std::mutex listener_mu;

  std::thread background;
  std::mutex bg_mu;
  std::condition_variable bg_cv;
  bool bg_stop = false;
};

// Plain JSON for a value, as apps see it (no type tags: the schema gives the type). reads.cpp.
void append_plain(std::string& out, const Value& v);

// Stores who this device acts for, from an enrolment answer or GET /v1/me. identity.cpp.
Status store_identity(Client::Impl& m, const std::string& body);

// The error of a device that cannot give a server what its log lost.
Status server_lost_data(uint64_t from, uint64_t to, uint64_t missing);
bool is_server_lost_data(const Status& st);

// Writes a file only this user may read (0600), for the device's private files.
Status write_private_file(const std::string& path, std::string_view bytes);

// Sleeps up to `ms`, waking early when `cancelled` turns true.
void sleep_unless_cancelled(int64_t ms, const std::atomic<bool>& cancelled);

}  // namespace tram::client

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
  Result<bool> is_own_changeset(const Hash& id);
  Principal principal() const;
  void notify(const Touched& changed);

  // sync.cpp
  Status sync_round(SyncReport& report, const std::function<void(const Progress&)>& progress);
  // One request, opening a session first when needed and once more after a 401. `via`: another
  // connection than the main one (the pull's read-ahead).
  Result<HttpResponse> call(const std::string& method, const std::string& target, const std::string& body,
                            bool authenticated, SyncReport* report = nullptr, Transport* via = nullptr);
  Status login();
  Status refresh_identity();   // GET /v1/me: role and scope as the server has them now
  Status push_outbox(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);
  Status upload_attachments(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);
  Status pull(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);
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

  std::shared_ptr<Transport> transport;
  std::string token;  // session, in memory only
  size_t push_batch = 0, pull_page = 0;

  std::function<void(const std::string&, const std::vector<std::string>&)> listener;
  std::mutex listener_mu;

  std::thread background;
  std::mutex bg_mu;
  std::condition_variable bg_cv;
  bool bg_stop = false;
};

// Sleeps up to `ms`, waking early when `cancelled` turns true.
void sleep_unless_cancelled(int64_t ms, const std::atomic<bool>& cancelled);

}  // namespace tram::client

// Inside the client: the state behind Client, shared by client.cpp (local store, writes,
// reads, bundles) and sync.cpp (the network side). Its members are private: the pieces it owns
// (LocalStore, DeviceSession, LogHeads, Puller, Pusher) get only what they need through their
// Parts; Client, whose pimpl this is, and store_identity (identity.cpp) are its friends. Not
// installed.
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
#include "pusher.hpp"
#include "session.hpp"

namespace tram::client {

class Client::Impl {
 public:
  explicit Impl(Options o) : opt(std::move(o)), clock(opt.clock ? opt.clock : &system_clock) {}
  ~Impl();

  Status open();

 private:
  friend class Client;
  friend Status store_identity(Impl& m, const std::string& body);

  Status load_identity();      // meta -> members; decrypts the key
  Status reload_chain();       // a DeviceChain at the persisted head

  // _client_meta
  Result<std::optional<std::string>> meta(const std::string& k) { return local->meta(k); }
  Status set_meta(const std::string& k, const std::string& v) { return local->set_meta(k, v); }

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
  Status sync_steps(SyncReport& report, const std::function<void(const Progress&)>& progress);
  Status upload_attachments(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);

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
  std::string user_name;  // registered display name: the author field of this user's records
  std::optional<PublicKey> device, server_key;
  std::vector<PublicKey> old_server_keys;  // replaced by server_key through signed statements

  std::unique_ptr<DeviceSession> session;
  std::unique_ptr<LogHeads> heads;  // (mu held)
  std::unique_ptr<Puller> puller;
  std::unique_ptr<Pusher> pusher;
  std::optional<uint64_t> me_seq;  // this device's chain head on the server, from /v1/me
  size_t upload_chunk = 0;   // the next attachment chunk's size (0: not measured yet)
  uint64_t confirmed = 0;    // attachment bytes the server confirmed holding, ever

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

// Writes a file only this user may read (0600), for the device's private files.
Status write_private_file(const std::string& path, std::string_view bytes);

// Sleeps up to `ms`, waking early when `cancelled` turns true.
void sleep_unless_cancelled(int64_t ms, const std::atomic<bool>& cancelled);

}  // namespace tram::client

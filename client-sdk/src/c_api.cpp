// The C API (tram.h) over the C++ Client: JSON in and out, codes instead of exceptions.
// Longer than ~400 lines on purpose: one function per tram.h entry point, each beside the JSON
// it reads and writes; split, an entry point would live apart from its conversions.
#include "tram/tram.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "tram/client.hpp"
#include "tram/engine/json.hpp"
#include "tram/version.h"  // generated from project(tram VERSION ...)

struct tram_client {
  std::unique_ptr<tram::client::Client> c;
};

namespace {
using namespace tram;
using namespace tram::client;
namespace dom = simdjson::dom;

thread_local int g_code = TRAM_OK;
thread_local std::string g_message;

tram_status code_of(Errc e) {
  switch (e) {
    case Errc::ok: return TRAM_OK;
    case Errc::not_found: return TRAM_ERR_NOT_FOUND;
    case Errc::already_exists: return TRAM_ERR_ALREADY_EXISTS;
    case Errc::forbidden_scope:
    case Errc::forbidden_role:
    case Errc::author_mismatch:
    case Errc::workflow_violation: return TRAM_ERR_FORBIDDEN;
    case Errc::not_enrolled: return TRAM_ERR_NOT_ENROLLED;
    case Errc::unavailable:
    case Errc::unauthenticated: return TRAM_ERR_UNAVAILABLE;
    case Errc::rejected:
    case Errc::fork_detected:
    case Errc::seq_gap: return TRAM_ERR_REJECTED;
    case Errc::cancelled: return TRAM_ERR_CANCELLED;
    case Errc::bad_signature:
    case Errc::device_mismatch: return TRAM_ERR_CRYPTO;
    case Errc::storage_error: return TRAM_ERR_STORAGE;
    default: return TRAM_ERR_INVALID_ARGUMENT;
  }
}

tram_status set(tram_status code, std::string message) {
  g_code = code;
  g_message = std::move(message);
  return code;
}
tram_status set(const Status& s) { return s.ok() ? set(TRAM_OK, "") : set(code_of(s.code()), s.to_string()); }

tram_status give(std::string s, char** out, size_t* out_len) {
  if (!out) return set(TRAM_ERR_INVALID_ARGUMENT, "out pointer is NULL");
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) return set(TRAM_ERR_INTERNAL, "out of memory");
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *out = p;
  if (out_len) *out_len = s.size();
  return set(TRAM_OK, "");
}

std::string str(const char* p, size_t n) { return p ? std::string(p, n) : std::string(); }

// Every entry point: a null handle and any exception become error codes.
template <typename F>
tram_status guard(tram_client* client, F&& f) {
  if (!client || !client->c) return set(TRAM_ERR_INVALID_ARGUMENT, "null tram_client");
  try {
    return f(*client->c);
  } catch (const std::exception& e) {
    return set(TRAM_ERR_INTERNAL, e.what());
  } catch (...) {
    return set(TRAM_ERR_INTERNAL, "unknown exception");
  }
}

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t k = 0; k < v.size(); ++k) out += (k ? "," : "") + json::quote(v[k]);
  return out + "]";
}

std::string receipts_json(Client& c, const std::vector<ReceiptInfo>& list) {
  std::string out = "[";
  for (size_t k = 0; k < list.size(); ++k) {
    const ReceiptInfo& r = list[k];
    out += (k ? ",{" : "{") + std::string("\"seq\":") + std::to_string(r.seq) + ",\"id\":\"" + to_hex(r.id) +
           "\",\"server_seq\":" + std::to_string(r.server_seq) + ",\"status\":" + json::quote(r.status) +
           ",\"code\":" + json::quote(r.code) + ",\"received_at_ms\":" + std::to_string(r.received_at_ms) +
           ",\"clock_ahead\":" + (r.clock_ahead ? "true" : "false") + ",\"body\":" + json::quote(r.body) +
           ",\"sig\":" + json::quote(r.sig) + ",\"verified\":" + (c.verify_receipt(r).ok() ? "true" : "false") + "}";
  }
  return out + "]";
}

std::string report_json(const SyncReport& r) {
  return "{\"accepted\":" + std::to_string(r.accepted) + ",\"duplicates\":" + std::to_string(r.duplicates) +
         ",\"rejected\":" + std::to_string(r.rejected) + ",\"rows_pulled\":" + std::to_string(r.rows_pulled) +
         ",\"attachments_uploaded\":" + std::to_string(r.attachments_uploaded) + ",\"bytes_sent\":" +
         std::to_string(r.bytes_sent) + ",\"bytes_received\":" + std::to_string(r.bytes_received) +
         ",\"attempts\":" + std::to_string(r.attempts) + ",\"resent\":" + std::to_string(r.resent) +
         ",\"server_log_behind\":" + (r.server_log_behind ? "true" : "false") +
         ",\"server_key_rotated\":" + (r.server_key_rotated ? "true" : "false") +
         ",\"server_moved_to\":" + json::quote(r.server_moved_to) + "}";
}

}  // namespace

extern "C" {

const char* tram_version(void) { return TRAM_VERSION_STRING; }
int tram_last_error_code(void) { return g_code; }
const char* tram_last_error_message(void) { return g_message.c_str(); }
void tram_free(void* p) { std::free(p); }

tram_status tram_open(const char* options_json, size_t options_len, const uint8_t wrapping_key[32], tram_client** out) {
  if (!out || !wrapping_key) return set(TRAM_ERR_INVALID_ARGUMENT, "out and wrapping_key must not be NULL");
  *out = nullptr;
  try {
    dom::parser p;
    dom::object o;
    std::string_view path, schemas, pin, ca;
    if (p.parse(str(options_json, options_len)).get_object().get(o) || o["path"].get_string().get(path) ||
        o["schemas"].get_string().get(schemas)) {
      return set(TRAM_ERR_INVALID_ARGUMENT, "options: expected {\"path\": …, \"schemas\": …}");
    }
    Options opt;
    opt.path = path;
    opt.schemas_dir = schemas;
    if (!o["pin_sha256"].get_string().get(pin)) opt.transport_options.pin_sha256 = pin;
    if (!o["ca_file"].get_string().get(ca)) opt.transport_options.ca_file = ca;
    int64_t keep_days = 0;
    if (!o["keep_sent_days"].get_int64().get(keep_days)) opt.keep_sent_days = static_cast<int>(std::clamp<int64_t>(keep_days, 0, 36'500));
    std::memcpy(opt.wrapping_key.data(), wrapping_key, 32);
    auto c = Client::open(std::move(opt));
    if (!c.ok()) return set(c.status());
    *out = new tram_client{std::move(c).value()};
    return set(TRAM_OK, "");
  } catch (const std::exception& e) {
    return set(TRAM_ERR_INTERNAL, e.what());
  }
}

void tram_close(tram_client* client) { delete client; }

tram_status tram_enroll(tram_client* client, const char* server_url, size_t url_len, const char* code, size_t code_len) {
  return guard(client, [&](Client& c) { return set(c.enroll(str(server_url, url_len), str(code, code_len))); });
}

tram_status tram_info(tram_client* client, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    const DeviceInfo d = c.info();
    std::vector<std::string> old;
    for (const PublicKey& k : d.previous_server_keys) old.push_back(to_hex(k));
    return give("{\"enrolled\":" + std::string(d.enrolled ? "true" : "false") + ",\"server\":" + json::quote(d.server_url) +
                    ",\"user\":" + json::quote(d.user) + ",\"role\":" + json::quote(d.role) + ",\"units\":" + json_strings(d.units) +
                    ",\"all_units\":" + (d.all_units ? "true" : "false") + ",\"name\":" + json::quote(d.name) + ",\"device\":\"" + to_hex(d.device) +
                    "\",\"server_key\":\"" + to_hex(d.server_key) + "\",\"previous_server_keys\":" + json_strings(old) +
                    ",\"seq\":" + std::to_string(d.seq) +
                    ",\"pending\":" + std::to_string(d.pending) + ",\"rejected\":" + std::to_string(d.rejected) +
                    ",\"receipts\":" + std::to_string(d.receipts) + ",\"conflicts\":" + std::to_string(d.conflicts) +
                    ",\"last_sync_ms\":" + (d.last_sync_ms ? std::to_string(*d.last_sync_ms) : "null") +
                    ",\"last_error\":" + json::quote(d.last_error) + ",\"clock_ahead\":" + (d.clock_ahead ? "true" : "false") +
                    ",\"kept\":" + std::to_string(d.kept) + "}",
                out_json, out_len);
  });
}

tram_status tram_schema(tram_client* client, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) { return give(c.schema_json(), out_json, out_len); });
}

tram_status tram_write(tram_client* client, const char* txn_json, size_t txn_len, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    dom::parser p;
    dom::array ops;
    if (p.parse(str(txn_json, txn_len))["ops"].get_array().get(ops)) return set(TRAM_ERR_INVALID_ARGUMENT, "expected {\"ops\": [...]}");
    WriteTxn txn;
    std::vector<std::string> ids;
    for (dom::element e : ops) {
      std::string_view op, table, id;
      if (e["op"].get_string().get(op) || e["table"].get_string().get(table)) {
        return set(TRAM_ERR_INVALID_ARGUMENT, "each op needs \"op\" and \"table\"");
      }
      if (e["id"].get_string().get(id)) {}
      std::map<std::string, Value> fields;
      dom::object f;
      if (!e["fields"].get_object().get(f)) {
        auto parsed = c.fields_from_json(std::string(table), simdjson::minify(f));
        if (!parsed.ok()) return set(parsed.status());
        fields = std::move(parsed).value();
      }
      if (op == "insert") {
        ids.push_back(txn.insert(std::string(table), std::string(id), std::move(fields)));
      } else if (op == "update" && !id.empty()) {
        txn.update(std::string(table), std::string(id), std::move(fields));
        ids.emplace_back(id);
      } else if (op == "delete" && !id.empty()) {
        txn.remove(std::string(table), std::string(id));
        ids.emplace_back(id);
      } else {
        return set(TRAM_ERR_INVALID_ARGUMENT, "op is insert, update (with id) or delete (with id)");
      }
    }
    auto done = c.commit(txn);
    if (!done.ok()) return set(done.status());
    return give("{\"seq\":" + std::to_string(done->seq) + ",\"id\":\"" + to_hex(done->id) + "\",\"ids\":" + json_strings(ids) + "}",
                out_json, out_len);
  });
}

tram_status tram_get(tram_client* client, const char* table, size_t table_len, const char* id, size_t id_len, char** out_json,
                     size_t* out_len) {
  return guard(client, [&](Client& c) {
    auto r = c.get(str(table, table_len), str(id, id_len));
    if (!r.ok()) return set(r.status());
    if (!*r) return set(TRAM_ERR_NOT_FOUND, "no row " + str(table, table_len) + "/" + str(id, id_len));
    return give(c.row_to_json(**r), out_json, out_len);
  });
}

tram_status tram_query(tram_client* client, const char* query_json, size_t query_len, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    dom::parser p;
    dom::object o;
    std::string_view table;
    if (p.parse(str(query_json, query_len)).get_object().get(o) || o["table"].get_string().get(table)) {
      return set(TRAM_ERR_INVALID_ARGUMENT, "expected {\"table\": …}");
    }
    Query q;
    q.table = table;
    std::string_view order;
    if (!o["order_by"].get_string().get(order)) q.order_by = order;
    if (o["desc"].get_bool().get(q.descending)) {}
    uint64_t n = 0;
    if (!o["limit"].get_uint64().get(n)) q.limit = n;
    if (!o["offset"].get_uint64().get(n)) q.offset = n;
    dom::array where;
    if (!o["where"].get_array().get(where)) {
      static const std::map<std::string_view, Filter::Op> kOps = {{"eq", Filter::eq}, {"ne", Filter::ne}, {"lt", Filter::lt},
                                                                  {"le", Filter::le}, {"gt", Filter::gt}, {"ge", Filter::ge},
                                                                  {"contains", Filter::contains}};
      for (dom::element w : where) {
        std::string_view field, op = "eq";
        if (w["op"].get_string().get(op)) {}
        if (w["field"].get_string().get(field) || !kOps.count(op)) return set(TRAM_ERR_INVALID_ARGUMENT, "where: {\"field\", \"op\", \"value\"}");
        Filter f;
        f.field = field;
        f.op = kOps.at(op);
        dom::element v;
        if (!w["value"].get(v)) {
          // Typed by the field, through the same conversion as writes; "contains" takes text.
          auto fields = c.fields_from_json(q.table, "{" + json::quote(f.field) + ":" + simdjson::minify(v) + "}");
          if (fields.ok() && fields->count(f.field)) {
            f.value = fields->at(f.field);
          } else if (v.is_string()) {
            f.value = Text{std::string(std::string_view(v))};
          } else {
            return set(fields.ok() ? TRAM_ERR_INVALID_ARGUMENT : code_of(fields.status().code()),
                       fields.ok() ? "where: bad value" : fields.status().to_string());
          }
        }
        q.where.push_back(std::move(f));
      }
    }
    auto rows = c.query(q);
    if (!rows.ok()) return set(rows.status());
    std::string out = "[";
    for (size_t k = 0; k < rows->size(); ++k) out += (k ? "," : "") + c.row_to_json((*rows)[k]);
    return give(out + "]", out_json, out_len);
  });
}

tram_status tram_sql(tram_client* client, const char* select, size_t select_len, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    auto r = c.sql_json(str(select, select_len));
    if (!r.ok()) return set(r.status());
    return give(std::move(r).value(), out_json, out_len);
  });
}

tram_status tram_sync(tram_client* client, tram_progress_fn progress, void* user_data, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    std::function<void(const Progress&)> fn;
    if (progress) {
      fn = [&](const Progress& p) {
        const std::string j = "{\"phase\":" + json::quote(p.phase) + ",\"bytes_sent\":" + std::to_string(p.bytes_sent) +
                              ",\"bytes_received\":" + std::to_string(p.bytes_received) + ",\"changesets_done\":" +
                              std::to_string(p.changesets_done) + ",\"changesets_total\":" + std::to_string(p.changesets_total) +
                              ",\"rows_pulled\":" + std::to_string(p.rows_pulled) + ",\"files_done\":" + std::to_string(p.files_done) +
                              ",\"files_total\":" + std::to_string(p.files_total) + ",\"upload_bytes_done\":" +
                              std::to_string(p.upload_bytes_done) + ",\"upload_bytes_total\":" + std::to_string(p.upload_bytes_total) +
                              ",\"attempt\":" + std::to_string(p.attempt) + ",\"retry\":" + json::quote(p.retry) +
                              ",\"retry_in_ms\":" + std::to_string(p.retry_in_ms) + "}";
        progress(user_data, j.c_str());
      };
    }
    auto r = c.sync(fn);
    if (!r.ok()) return set(r.status());
    if (out_json) return give(report_json(*r), out_json, out_len);
    return set(TRAM_OK, "");
  });
}

tram_status tram_cancel(tram_client* client) {
  return guard(client, [&](Client& c) {
    c.cancel();
    return set(TRAM_OK, "");
  });
}

tram_status tram_start_background(tram_client* client, uint32_t interval_ms) {
  return guard(client, [&](Client& c) {
    c.start_background(std::chrono::milliseconds(interval_ms));
    return set(TRAM_OK, "");
  });
}

tram_status tram_stop_background(tram_client* client) {
  return guard(client, [&](Client& c) {
    c.stop_background();
    return set(TRAM_OK, "");
  });
}

tram_status tram_outbox(tram_client* client, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    auto list = c.outbox();
    if (!list.ok()) return set(list.status());
    std::string out = "[";
    for (size_t k = 0; k < list->size(); ++k) {
      const OutboxEntry& e = (*list)[k];
      out += (k ? ",{" : "{") + std::string("\"seq\":") + std::to_string(e.seq) + ",\"id\":\"" + to_hex(e.id) +
             "\",\"state\":\"" + (e.state == OutboxEntry::rejected ? "rejected" : "pending") + "\",\"code\":" + json::quote(e.code) +
             ",\"message\":" + json::quote(e.message) + ",\"created_ms\":" + std::to_string(e.created_ms) + ",\"ops\":" + e.ops_json + "}";
    }
    return give(out + "]", out_json, out_len);
  });
}

tram_status tram_dismiss_rejected(tram_client* client, uint64_t seq) {
  return guard(client, [&](Client& c) { return set(c.dismiss_rejected(seq)); });
}

tram_status tram_receipts(tram_client* client, const char* table, size_t table_len, const char* id, size_t id_len, char** out_json,
                          size_t* out_len) {
  return guard(client, [&](Client& c) {
    auto list = c.receipts(str(table, table_len), str(id, id_len));
    if (!list.ok()) return set(list.status());
    return give(receipts_json(c, *list), out_json, out_len);
  });
}

tram_status tram_conflicts(tram_client* client, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    auto list = c.conflicts();
    if (!list.ok()) return set(list.status());
    std::string out = "[";
    for (size_t k = 0; k < list->size(); ++k) {
      const ConflictInfo& x = (*list)[k];
      out += (k ? ",{" : "{") + std::string("\"table\":") + json::quote(x.table) + ",\"row\":" + json::quote(x.row) +
             ",\"field\":" + json::quote(x.field) + ",\"winner\":\"" + to_hex(x.winner) + "\",\"loser\":\"" + to_hex(x.loser) +
             "\",\"mine_lost\":" + (x.mine_lost ? "true" : "false") + ",\"loser_value\":";
      json::append_value(out, x.loser_value);
      out += "}";
    }
    return give(out + "]", out_json, out_len);
  });
}

tram_status tram_add_attachment(tram_client* client, const char* path, size_t path_len, char** out_hash, size_t* out_len) {
  return guard(client, [&](Client& c) {
    auto r = c.add_attachment(str(path, path_len));
    if (!r.ok()) return set(r.status());
    return give(to_hex(r->hash), out_hash, out_len);
  });
}

tram_status tram_download_attachment(tram_client* client, const char* hash_hex, size_t hash_len, const char* dest_path,
                                     size_t dest_len, uint64_t* out_size) {
  return guard(client, [&](Client& c) {
    const auto hash = from_hex<32>(str(hash_hex, hash_len));
    if (!hash) return set(TRAM_ERR_INVALID_ARGUMENT, "an attachment is named by 64 hex digits");
    auto r = c.download_attachment(*hash, str(dest_path, dest_len));
    if (!r.ok()) return set(r.status());
    if (out_size) *out_size = *r;
    return set(TRAM_OK, "");
  });
}

tram_status tram_export_bundle(tram_client* client, const char* path, size_t path_len, uint64_t* out_count) {
  return guard(client, [&](Client& c) {
    auto r = c.export_bundle(str(path, path_len));
    if (!r.ok()) return set(r.status());
    if (out_count) *out_count = *r;
    return set(TRAM_OK, "");
  });
}

tram_status tram_import_receipts(tram_client* client, const char* path, size_t path_len, char** out_json, size_t* out_len) {
  return guard(client, [&](Client& c) {
    auto r = c.import_receipts(str(path, path_len));
    if (!r.ok()) return set(r.status());
    if (out_json) return give(report_json(*r), out_json, out_len);
    return set(TRAM_OK, "");
  });
}

tram_status tram_set_change_callback(tram_client* client, tram_change_fn fn, void* user_data) {
  return guard(client, [&](Client& c) {
    if (!fn) {
      c.set_change_listener({});
    } else {
      c.set_change_listener([fn, user_data](const std::string& table, const std::vector<std::string>& ids) {
        fn(user_data, table.c_str(), json_strings(ids).c_str());
      });
    }
    return set(TRAM_OK, "");
  });
}

}  // extern "C"

/* Tram client SDK — the C API, for JNI (Android) and Swift (iOS).
 *
 * Conventions
 * - Handles are opaque. tram_open() makes a tram_client; tram_close() frees it. A handle may be
 *   used from any thread; calls on one handle are serialized inside, except that tram_cancel()
 *   may be called while tram_sync() runs on another thread.
 * - Strings in are UTF-8 with an explicit length in bytes (no terminating NUL needed). Strings
 *   out are UTF-8, NUL-terminated, with their length in *out_len when out_len is not NULL;
 *   they belong to the caller, who frees them with tram_free().
 * - Rows, queries, options and reports are JSON objects (docs/client-sdk.md lists them).
 * - Every function returns TRAM_OK (0) or an error code. On an error, tram_last_error_code()
 *   and tram_last_error_message() describe it, for the calling thread, until its next call.
 *   No C++ exception ever crosses this API.
 * - Callbacks receive the user_data pointer given with them. They run on the thread that
 *   caused them (a sync or a write) and must not call back into the same handle.
 */
#ifndef TRAM_TRAM_H
#define TRAM_TRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tram_client tram_client;

typedef enum tram_status {
  TRAM_OK = 0,
  TRAM_ERR_INVALID_ARGUMENT = 1, /* bad JSON, unknown table or field, wrong type */
  TRAM_ERR_NOT_FOUND = 2,        /* no such row, file or entry */
  TRAM_ERR_ALREADY_EXISTS = 3,   /* insert of a row that exists; enrolment done already */
  TRAM_ERR_FORBIDDEN = 4,        /* outside this user's role, scope or workflow */
  TRAM_ERR_NOT_ENROLLED = 5,
  TRAM_ERR_UNAVAILABLE = 6,      /* server unreachable or failing: retry later */
  TRAM_ERR_REJECTED = 7,         /* the server refused (message carries its code) */
  TRAM_ERR_CANCELLED = 8,
  TRAM_ERR_CRYPTO = 9,           /* a signature or the wrapping key did not verify */
  TRAM_ERR_STORAGE = 10,         /* the local database failed */
  TRAM_ERR_INTERNAL = 11
} tram_status;

/* Called after local writes and pulled pages: the table and the changed row ids as a JSON
 * array. */
typedef void (*tram_change_fn)(void* user_data, const char* table, const char* ids_json);
/* Called during tram_sync with a JSON progress object {"phase","bytes_sent",...,
 * "upload_bytes_done","upload_bytes_total","attempt","retry","retry_in_ms"} (phase "wait": the
 * sync goes on after a cut or failure, `retry` says which). */
typedef void (*tram_progress_fn)(void* user_data, const char* progress_json);

/* The version of the loaded library, e.g. "0.1.0": CMake's project(tram VERSION ...), the same as
 * TRAM_VERSION_STRING in the generated tram/version.h (the headers' version) and the .so's file
 * version. Static storage: do not free. */
const char* tram_version(void);

int tram_last_error_code(void);
/* The calling thread's last error message. Static per thread: do not free. */
const char* tram_last_error_message(void);

/* Opens or creates the local store. options_json:
 *   {"path": "device.db", "schemas": "dir of the schema's versions",
 *    "pin_sha256": "hex" (optional), "ca_file": "pem" (optional),
 *    "keep_sent_days": n (optional, default 30: how long sent change sets are kept to heal a
 *    server restored from an older backup)}
 * wrapping_key: 32 bytes from the platform keystore; it encrypts the device's secret key. */
tram_status tram_open(const char* options_json, size_t options_len, const uint8_t wrapping_key[32], tram_client** out);
void tram_close(tram_client* client);

tram_status tram_enroll(tram_client* client, const char* server_url, size_t url_len, const char* code, size_t code_len);
/* {"enrolled","server","user","role","units","all_units","device","server_key","previous_server_keys",
 *  "seq","pending","rejected","receipts","conflicts","last_sync_ms","last_error","clock_ahead","kept"}
 * "server" is the base URL in use (it changes when the server signs a move); "previous_server_keys"
 * the keys a followed rotation replaced, whose receipts still verify. */
tram_status tram_info(tram_client* client, char** out_json, size_t* out_len);

/* The schema the client was opened with, as its source JSON (the newest v<N>.json of the
 * "schemas" directory; format: docs/schema-format.md), so the app need not load it again. */
tram_status tram_schema(tram_client* client, char** out_json, size_t* out_len);

/* One transaction, signed as one change set:
 *   {"ops":[{"op":"insert"|"update"|"delete","table":"…","id":"…" (optional for insert),
 *            "fields":{"name": value, …}}]}
 * out_json: {"seq": n, "id": "hex", "ids": ["row id of each op", …]} */
tram_status tram_write(tram_client* client, const char* txn_json, size_t txn_len, char** out_json, size_t* out_len);

/* A row {"table","id","pending","fields":{…}}, or TRAM_ERR_NOT_FOUND. */
tram_status tram_get(tram_client* client, const char* table, size_t table_len, const char* id, size_t id_len,
                     char** out_json, size_t* out_len);
/* {"table","where":[{"field","op":"eq|ne|lt|le|gt|ge|contains","value"}],"order_by","desc",
 *  "limit","offset"} -> a JSON array of rows. */
tram_status tram_query(tram_client* client, const char* query_json, size_t query_len, char** out_json, size_t* out_len);
/* One read-only SELECT over the generated tables -> a JSON array of objects. */
tram_status tram_sql(tram_client* client, const char* select, size_t select_len, char** out_json, size_t* out_len);

/* Push, upload, pull, with retries. out_json (may be NULL): the report
 * {"accepted","duplicates","rejected","rows_pulled","bytes_sent","bytes_received","attempts",
 *  "resent","server_log_behind","server_key_rotated","server_moved_to"}: server_log_behind is true
 *  when the server's signed log went back (a restore, a lost WAL) and the device sent its kept
 *  change sets again ("resent"). A device that no longer keeps what the server lost fails with a
 *  message starting "server_lost_data". server_key_rotated: the server's key changed and signed
 *  statements from the pinned key lead to the new one, now pinned. server_moved_to: not empty when
 *  a signed statement moved the server to that base URL, used from then on. A key that no
 *  statement leads to fails the sync with TRAM_ERR_CRYPTO (bad_signature). */
tram_status tram_sync(tram_client* client, tram_progress_fn progress, void* user_data, char** out_json, size_t* out_len);
tram_status tram_cancel(tram_client* client);
tram_status tram_start_background(tram_client* client, uint32_t interval_ms);
tram_status tram_stop_background(tram_client* client);

/* [{"seq","id","state":"pending"|"rejected","code","message","created_ms","ops":[…]}] */
tram_status tram_outbox(tram_client* client, char** out_json, size_t* out_len);
tram_status tram_dismiss_rejected(tram_client* client, uint64_t seq);
/* Receipts, all or of one row (table and id may be empty):
 * [{"seq","id","server_seq","status","code","received_at_ms","clock_ahead","body","sig","verified"}] */
tram_status tram_receipts(tram_client* client, const char* table, size_t table_len, const char* id, size_t id_len,
                          char** out_json, size_t* out_len);
/* [{"table","row","field","winner","loser","mine_lost","loser_value"}] */
tram_status tram_conflicts(tram_client* client, char** out_json, size_t* out_len);

/* Copies an evidence file in; out: its 64-hex hash, to write into an attachment field. */
tram_status tram_add_attachment(tram_client* client, const char* path, size_t path_len, char** out_hash, size_t* out_len);

/* Writes the evidence file named by hash_hex (64 hex) to dest_path, only once its bytes hash to
 * it: this device's own copy, else the server's (a device may download what a row it may read
 * names). Downloads into dest_path + ".part" in parts; a call after a cut goes on from there.
 * out_size (may be NULL): the file's size. Errors: TRAM_ERR_REJECTED "not_found: …" outside this
 * device's scope or unknown; TRAM_ERR_NOT_FOUND not uploaded completely yet; TRAM_ERR_CRYPTO
 * "hash_mismatch: …" (nothing is kept at dest_path); TRAM_ERR_UNAVAILABLE. */
tram_status tram_download_attachment(tram_client* client, const char* hash_hex, size_t hash_len, const char* dest_path,
                                     size_t dest_len, uint64_t* out_size);

/* The outbox as a signed bundle file, with the evidence files its change sets name that the
 * server has not confirmed (docs/protocol.md §16.2). out_count: the change sets in it. */
tram_status tram_export_bundle(tram_client* client, const char* path, size_t path_len, uint64_t* out_count);
tram_status tram_import_receipts(tram_client* client, const char* path, size_t path_len, char** out_json, size_t* out_len);

tram_status tram_set_change_callback(tram_client* client, tram_change_fn fn, void* user_data);

void tram_free(void* p);

#ifdef __cplusplus
}
#endif

#endif /* TRAM_TRAM_H */

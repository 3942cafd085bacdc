/* The C API from plain C (C11), compiled against tram.h alone and linked with
 * libtram_client.so: enrol, write, refuse, sync, read, receipts, errors.
 * Usage: c_api_test SERVER_URL CODE SCHEMAS_DIR DB_PATH; exit 0 when every check holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tram/tram.h"

static int failures = 0;
#define CHECK(cond, what)                                                                   \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      fprintf(stderr, "FAILED: %s (%s:%d) last error %d: %s\n", what, __FILE__, __LINE__, \
              tram_last_error_code(), tram_last_error_message());                           \
      ++failures;                                                                           \
    }                                                                                       \
  } while (0)

static int changes_heard = 0;
static void on_change(void* user_data, const char* table, const char* ids_json) {
  (void)table;
  (void)ids_json;
  ++*(int*)user_data;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s SERVER_URL CODE SCHEMAS_DIR DB_PATH\n", argv[0]);
    return 2;
  }
  char options[1024];
  snprintf(options, sizeof options, "{\"path\":\"%s\",\"schemas\":\"%s\"}", argv[4], argv[3]);
  uint8_t key[32];
  memset(key, 0x5a, sizeof key);
  tram_client* c = NULL;
  CHECK(tram_open(options, strlen(options), key, &c) == TRAM_OK, "open");
  if (!c) return 1;

  /* Errors come back as codes and messages, never as crashes. */
  CHECK(tram_enroll(NULL, "x", 1, "y", 1) == TRAM_ERR_INVALID_ARGUMENT, "NULL handle refused");
  CHECK(tram_write(c, "{}", 2, NULL, NULL) == TRAM_ERR_NOT_ENROLLED || tram_last_error_code() != 0, "write before enrolment");

  CHECK(tram_enroll(c, argv[1], strlen(argv[1]), argv[2], strlen(argv[2])) == TRAM_OK, "enrol");
  CHECK(tram_set_change_callback(c, on_change, &changes_heard) == TRAM_OK, "callback");
  CHECK(tram_sync(c, NULL, NULL, NULL, NULL) == TRAM_OK, "first sync");

  const char* txn =
      "{\"ops\":[{\"op\":\"insert\",\"table\":\"progress_report\",\"id\":\"c-report-1\",\"fields\":{"
      "\"unit_code\":\"03808\",\"indicator\":\"CT-CAPNUOC-XA\",\"period\":\"2026-H1\",\"value\":91.5,"
      "\"progress\":\"on_track\",\"narrative\":\"N\\u01b0\\u1edbc s\\u1ea1ch \\u0111\\u1ebfn b\\u1ea3n\","
      "\"author\":\"L\\u00f2 V\\u0103n Minh\",\"recorded_on\":\"2026-06-03\",\"status\":\"draft\"}}]}";
  char* out = NULL;
  size_t out_len = 0;
  CHECK(tram_write(c, txn, strlen(txn), &out, &out_len) == TRAM_OK, "write");
  CHECK(out && strstr(out, "\"seq\":1") != NULL, "first change set has seq 1");
  tram_free(out);

  const char* outside =
      "{\"ops\":[{\"op\":\"insert\",\"table\":\"progress_report\",\"fields\":{\"unit_code\":\"03646\","
      "\"period\":\"2026-H1\",\"progress\":\"on_track\",\"author\":\"M\",\"recorded_on\":\"2026-06-03\",\"status\":\"draft\"}}]}";
  CHECK(tram_write(c, outside, strlen(outside), &out, NULL) == TRAM_ERR_FORBIDDEN, "another commune refused");
  CHECK(strstr(tram_last_error_message(), "03646") != NULL, "the refusal names the unit");

  char* report = NULL;
  CHECK(tram_sync(c, NULL, NULL, &report, NULL) == TRAM_OK, "sync");
  CHECK(report && strstr(report, "\"accepted\":1") != NULL, "one change set accepted");
  CHECK(strstr(report, "\"server_log_behind\":false") != NULL && strstr(report, "\"resent\":0") != NULL, "no heal needed");
  CHECK(strstr(report, "\"server_key_rotated\":false") != NULL && strstr(report, "\"server_moved_to\":\"\"") != NULL,
        "the server kept its key and address");
  tram_free(report);

  char* row = NULL;
  CHECK(tram_get(c, "progress_report", 15, "c-report-1", 10, &row, NULL) == TRAM_OK, "get");
  CHECK(row && strstr(row, "\"value\":91.5") != NULL, "value read back");
  CHECK(row && strstr(row, "N\xc6\xb0\xe1\xbb\x9b" "c s\xe1\xba\xa1" "ch") != NULL, "Vietnamese text read back in UTF-8");
  tram_free(row);
  CHECK(tram_get(c, "progress_report", 15, "nope", 4, &row, NULL) == TRAM_ERR_NOT_FOUND, "missing row");

  const char* q = "{\"table\":\"unit\",\"where\":[{\"field\":\"name\",\"op\":\"contains\",\"value\":\"to hieu\"}]}";
  char* rows = NULL;
  CHECK(tram_query(c, q, strlen(q), &rows, NULL) == TRAM_OK, "query");
  CHECK(rows && strstr(rows, "\"03646\"") != NULL, "accent-free search finds Tô Hiệu");
  tram_free(rows);

  char* receipts = NULL;
  CHECK(tram_receipts(c, "progress_report", 15, "c-report-1", 10, &receipts, NULL) == TRAM_OK, "receipts");
  CHECK(receipts && strstr(receipts, "\"verified\":true") != NULL, "receipt verified");
  tram_free(receipts);

  char* info = NULL;
  CHECK(tram_info(c, &info, NULL) == TRAM_OK, "info");
  CHECK(info && strstr(info, "\"pending\":0") != NULL && strstr(info, "\"user\":\"minh\"") != NULL, "info content");
  CHECK(strstr(info, "\"kept\":1") != NULL, "the sent change set is kept after its receipt");
  CHECK(strstr(info, "\"previous_server_keys\":[]") != NULL, "no rotation followed");
  tram_free(info);

  char* schema = NULL;
  CHECK(tram_schema(c, &schema, NULL) == TRAM_OK, "schema");
  CHECK(schema && strstr(schema, "\"progress_report\"") != NULL, "the schema as JSON");
  tram_free(schema);
  CHECK(changes_heard > 0, "change callback called");

  tram_close(c);
  if (failures == 0) printf("c_api_test: all checks passed (%s)\n", tram_version());
  return failures == 0 ? 0 : 1;
}

/* A minimal app in C on the Tram SDK: enrol once, record a report offline, sync, read it.
 *
 *   tram-c-client SERVER_URL ENROLMENT_CODE SCHEMAS_DIR HOME_DIR
 *
 * A real app gets the 32-byte wrapping key from the Android Keystore or the iOS Keychain;
 * here it comes from the environment (TRAM_KEY_BYTE, one byte repeated) to keep it short. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tram/tram.h"

static int fail(const char* what) {
  fprintf(stderr, "%s: error %d: %s\n", what, tram_last_error_code(), tram_last_error_message());
  return 1;
}

static void progress(void* user_data, const char* json) {
  (void)user_data;
  printf("  sync %s\n", json);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s SERVER_URL ENROLMENT_CODE SCHEMAS_DIR HOME_DIR\n", argv[0]);
    return 2;
  }
  char options[2048];
  snprintf(options, sizeof options, "{\"path\":\"%s/device.db\",\"schemas\":\"%s\"}", argv[4], argv[3]);
  uint8_t key[32];
  memset(key, getenv("TRAM_KEY_BYTE") ? atoi(getenv("TRAM_KEY_BYTE")) : 42, sizeof key);

  tram_client* c = NULL;
  if (tram_open(options, strlen(options), key, &c) != TRAM_OK) return fail("open");
  char* info = NULL;
  if (tram_info(c, &info, NULL) != TRAM_OK) return fail("info");
  const int enrolled = strstr(info, "\"enrolled\":true") != NULL;
  tram_free(info);
  if (!enrolled && tram_enroll(c, argv[1], strlen(argv[1]), argv[2], strlen(argv[2])) != TRAM_OK) return fail("enrol");

  /* Saved locally, signed, in the outbox: works with no signal at all. */
  const char* txn =
      "{\"ops\":[{\"op\":\"insert\",\"table\":\"progress_report\",\"fields\":{"
      "\"unit_code\":\"03808\",\"indicator\":\"CT-CAPNUOC-XA\",\"period\":\"2026-H1\",\"value\":93,"
      "\"progress\":\"on_track\",\"narrative\":\"93% h\\u1ed9 d\\u00e2n d\\u00f9ng n\\u01b0\\u1edbc s\\u1ea1ch\","
      "\"author\":\"L\\u00f2 V\\u0103n Minh\",\"recorded_on\":\"2026-06-03\",\"status\":\"draft\"}}]}";
  char* written = NULL;
  if (tram_write(c, txn, strlen(txn), &written, NULL) != TRAM_OK) return fail("write");
  printf("saved: %s\n", written);
  tram_free(written);

  char* report = NULL;
  if (tram_sync(c, progress, NULL, &report, NULL) != TRAM_OK) return fail("sync");
  printf("synced: %s\n", report);
  tram_free(report);

  char* receipts = NULL;
  if (tram_receipts(c, "", 0, "", 0, &receipts, NULL) != TRAM_OK) return fail("receipts");
  printf("receipts: %.200s...\n", receipts);
  tram_free(receipts);
  tram_close(c);
  return 0;
}

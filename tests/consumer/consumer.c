/* A C program on the installed SDK: tram.h and libtram_client.so only.
 * Usage: consumer_c SCHEMA_DIR HOME_DIR. Prints the version, opens a client in HOME_DIR and
 * closes it; exit 0 when every check holds. */
#include <stdio.h>
#include <string.h>

#include "tram/tram.h"
#include "tram/version.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SCHEMA_DIR HOME_DIR\n", argv[0]);
    return 2;
  }
  printf("consumer_c: tram_version() %s, headers %s, soname version %s\n", tram_version(), TRAM_VERSION_STRING,
         TRAM_SOVERSION);
  if (strcmp(tram_version(), TRAM_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer_c: the library (%s) is not the headers' version (%s)\n", tram_version(),
            TRAM_VERSION_STRING);
    return 1;
  }
  char options[2048];
  snprintf(options, sizeof options, "{\"path\":\"%s/device.db\",\"schemas\":\"%s\"}", argv[2], argv[1]);
  uint8_t key[32];
  memset(key, 7, sizeof key);
  tram_client* c = NULL;
  if (tram_open(options, strlen(options), key, &c) != TRAM_OK) {
    fprintf(stderr, "consumer_c: open: %d %s\n", tram_last_error_code(), tram_last_error_message());
    return 1;
  }
  char* info = NULL;
  if (tram_info(c, &info, NULL) != TRAM_OK || strstr(info, "\"enrolled\":false") == NULL) {
    fprintf(stderr, "consumer_c: info: %s\n", info ? info : tram_last_error_message());
    tram_free(info);
    tram_close(c);
    return 1;
  }
  printf("consumer_c: opened %s/device.db, info %.80s...\n", argv[2], info);
  tram_free(info);
  tram_close(c);
  printf("consumer_c: ok\n");
  return 0;
}

package vn.sonla.tram;

import java.util.LinkedHashMap;
import java.util.Map;

/** What {@link TramClient#open} needs: where the store lives and the schema's directory; optional TLS pin or CA file. */
public final class Options {
  private final Map<String, Object> m = new LinkedHashMap<>();

  /**
   * @param path the store's SQLite file (created 0600), e.g. {@code context.getFilesDir() + "/tram.db"}
   * @param schemas the directory of the schema's versions (v1.json, v2.json, ...), shipped with the app
   */
  public Options(String path, String schemas) {
    m.put("path", path);
    m.put("schemas", schemas);
  }

  /** Hex SHA-256 of the server certificate's DER: that certificate and no other. */
  public Options pinSha256(String hex) {
    m.put("pin_sha256", hex);
    return this;
  }

  /** A PEM file of CAs to trust instead of the system's. */
  public Options caFile(String path) {
    m.put("ca_file", path);
    return this;
  }

  /** How long sent change sets are kept to heal a server restored from an older backup (default 30). */
  public Options keepSentDays(int days) {
    m.put("keep_sent_days", (long) days);
    return this;
  }

  String toJson() { return Json.write(m); }
}

package vn.sonla.tram;

import java.util.List;
import java.util.Map;

/** The device's state: enrolment, user and scope, outbox counts, last sync. */
public final class DeviceInfo extends JsonView {
  DeviceInfo(Map<String, Object> m) { super(m); }

  public boolean enrolled() { return bool("enrolled"); }
  /** The server's base URL in use. */
  public String server() { return str("server"); }
  public String user() { return str("user"); }
  public String role() { return str("role"); }
  public List<String> units() { return strings("units"); }
  public boolean allUnits() { return bool("all_units"); }
  public String device() { return str("device"); }
  public String serverKey() { return str("server_key"); }
  public List<String> previousServerKeys() { return strings("previous_server_keys"); }
  public long seq() { return num("seq"); }
  public long pending() { return num("pending"); }
  public long rejected() { return num("rejected"); }
  public long receipts() { return num("receipts"); }
  public long conflicts() { return num("conflicts"); }
  public long lastSyncMs() { return num("last_sync_ms"); }
  public String lastError() { return str("last_error"); }
  public boolean clockAhead() { return bool("clock_ahead"); }
  public long kept() { return num("kept"); }
}

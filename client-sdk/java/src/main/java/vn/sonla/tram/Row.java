package vn.sonla.tram;

import java.util.Collections;
import java.util.Map;

/** One row as the app sees it: the server's last image with this device's pending edits on top. */
public final class Row extends JsonView {
  Row(Map<String, Object> m) { super(m); }

  public String table() { return str("table"); }
  public String id() { return str("id"); }
  /** True while one of this device's change sets on the row waits for its receipt. */
  public boolean pending() { return bool("pending"); }
  /** Field name to value: String (text, dates, enums, attachment hashes), Long, Double, Boolean or null. */
  public Map<String, Object> fields() {
    Object f = m.get("fields");
    return f instanceof Map ? asMap(f) : Collections.<String, Object>emptyMap();
  }
  public Object get(String field) { return fields().get(field); }
  public String getString(String field) {
    Object v = fields().get(field);
    return v == null ? null : v.toString();
  }
}

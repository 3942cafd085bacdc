package vn.sonla.tram;

import java.util.List;
import java.util.Map;

/** A change set waiting for its receipt, or rejected by the server (kept until dismissed). */
public final class OutboxEntry extends JsonView {
  OutboxEntry(Map<String, Object> m) { super(m); }

  public long seq() { return num("seq"); }
  public String id() { return str("id"); }
  public boolean isRejected() { return "rejected".equals(str("state")); }
  /** "pending" or "rejected". */
  public String state() { return str("state"); }
  /** The server's code for a rejection (e.g. "forbidden_scope"); empty while pending. */
  public String code() { return str("code"); }
  public String message() { return str("message"); }
  public long createdMs() { return num("created_ms"); }
  /** What the change set did, as the transaction's ops (to pre-fill a fix). */
  public List<Object> ops() {
    Object o = m.get("ops");
    return o instanceof List ? java.util.Collections.unmodifiableList(new java.util.ArrayList<Object>((List<?>) o))
                             : java.util.Collections.emptyList();
  }
  public String opsJson() { return Json.write(m.get("ops")); }
}

package vn.sonla.tram;

import java.util.List;
import java.util.Map;

/** What {@link TramClient#write} signed: the change set's sequence number and id, and each op's row id. */
public final class Committed extends JsonView {
  Committed(Map<String, Object> m) { super(m); }

  public long seq() { return num("seq"); }
  /** The change set's id (hex). */
  public String id() { return str("id"); }
  /** The row id of each op, in order (new UUIDv7s for inserts without an id). */
  public List<String> ids() { return strings("ids"); }
}

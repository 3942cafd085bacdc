package vn.sonla.tram;

import java.util.Map;

/** A field two change sets wrote concurrently, one of them this device's; the merge kept the winner's. */
public final class Conflict extends JsonView {
  Conflict(Map<String, Object> m) { super(m); }

  public String table() { return str("table"); }
  public String row() { return str("row"); }
  public String field() { return str("field"); }
  public String winner() { return str("winner"); }
  public String loser() { return str("loser"); }
  /** True when this device's edit is the one that lost. */
  public boolean mineLost() { return bool("mine_lost"); }
  public Object loserValue() { return m.get("loser_value"); }
}

package vn.sonla.tram;

import java.util.Map;

/**
 * A signed receipt from the server: the official's proof of what arrived and when. {@link #verified}
 * is the SDK's check of the signature with the pinned server key (or a key it replaced), made when
 * the list was read.
 */
public final class Receipt extends JsonView {
  Receipt(Map<String, Object> m) { super(m); }

  public long seq() { return num("seq"); }
  public String id() { return str("id"); }
  public long serverSeq() { return num("server_seq"); }
  /** "accepted", "duplicate" or "rejected". */
  public String status() { return str("status"); }
  public String code() { return str("code"); }
  /** The server's clock when it received the change set. */
  public long receivedAtMs() { return num("received_at_ms"); }
  public boolean clockAhead() { return bool("clock_ahead"); }
  public String body() { return str("body"); }
  public String sig() { return str("sig"); }
  public boolean verified() { return bool("verified"); }
}

package vn.sonla.tram;

import java.util.Map;

/** The outcome of {@link TramClient#sync} or {@link TramClient#importReceipts}. */
public final class SyncReport extends JsonView {
  SyncReport(Map<String, Object> m) { super(m); }

  public long accepted() { return num("accepted"); }
  public long duplicates() { return num("duplicates"); }
  public long rejected() { return num("rejected"); }
  public long rowsPulled() { return num("rows_pulled"); }
  public long attachmentsUploaded() { return num("attachments_uploaded"); }
  public long bytesSent() { return num("bytes_sent"); }
  public long bytesReceived() { return num("bytes_received"); }
  public long attempts() { return num("attempts"); }
  public long resent() { return num("resent"); }
  /** The server's signed log went back (a restore) and kept change sets were sent again. */
  public boolean serverLogBehind() { return bool("server_log_behind"); }
  public boolean serverKeyRotated() { return bool("server_key_rotated"); }
  /** Not empty when a signed statement moved the server to this base URL. */
  public String serverMovedTo() { return str("server_moved_to"); }
}

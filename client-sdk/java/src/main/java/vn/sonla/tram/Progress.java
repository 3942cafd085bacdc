package vn.sonla.tram;

import java.util.Map;

/** One progress report of a running sync (phase "wait": it goes on after a cut; see {@link #retry}). */
public final class Progress extends JsonView {
  Progress(Map<String, Object> m) { super(m); }

  public String phase() { return str("phase"); }
  public long bytesSent() { return num("bytes_sent"); }
  public long bytesReceived() { return num("bytes_received"); }
  public long changesetsDone() { return num("changesets_done"); }
  public long changesetsTotal() { return num("changesets_total"); }
  public long rowsPulled() { return num("rows_pulled"); }
  public long filesDone() { return num("files_done"); }
  public long filesTotal() { return num("files_total"); }
  public long uploadBytesDone() { return num("upload_bytes_done"); }
  public long uploadBytesTotal() { return num("upload_bytes_total"); }
  public long attempt() { return num("attempt"); }
  public String retry() { return str("retry"); }
  public long retryInMs() { return num("retry_in_ms"); }
}

package vn.sonla.tram;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The Tram client SDK on the JVM and Android: a device's offline store, outbox and sync, over the C
 * API of {@code tram.h} (libtram_client.so) through libtram_jni.so.
 *
 * <p>Every method may be called from any thread; the SDK serializes them inside, except that
 * {@link #cancel} may be called while {@link #sync} runs on another thread. Errors are
 * {@link TramException}s carrying the SDK's code. {@link #close} stops the background sync, waits
 * for calls in flight and frees everything native, including the reference to the change listener;
 * calls after it throw {@link IllegalStateException}. Listeners must not call back into the client
 * (that throws {@link IllegalStateException} too).
 */
public final class TramClient implements AutoCloseable {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Callbacks callbacks;
  private long handle; // guarded by lock; 0 once closed

  private TramClient(long handle, Callbacks callbacks) {
    this.handle = handle;
    this.callbacks = callbacks;
  }

  /** The version of the loaded libtram_client.so, e.g. "0.1.0". */
  public static String version() {
    return utf8(Native.version());
  }

  /**
   * Opens or creates the local store.
   *
   * @param wrappingKey 32 bytes from the platform keystore; they encrypt the device's secret key.
   *     Not kept by the SDK (the array is not modified; clear it yourself when done).
   */
  public static TramClient open(Options options, byte[] wrappingKey) throws TramException {
    if (options == null || wrappingKey == null) throw new NullPointerException("options and wrappingKey are needed");
    Callbacks cb = new Callbacks();
    long h = Native.open(bytes(options.toJson()), wrappingKey, cb);
    return new TramClient(h, cb);
  }

  /** Enrols the device with a code from the administrator ({@code tram-server admin enrol-code}). */
  public void enroll(String serverUrl, String code) throws TramException {
    long h = enter();
    try {
      Native.enroll(h, bytes(serverUrl), bytes(code));
    } finally {
      leave();
    }
  }

  public DeviceInfo info() throws TramException {
    long h = enter();
    try {
      return new DeviceInfo(Json.object(utf8(Native.info(h))));
    } finally {
      leave();
    }
  }

  /** The schema the client was opened with, as its source JSON (docs/schema-format.md). */
  public String schemaJson() throws TramException {
    long h = enter();
    try {
      return utf8(Native.schema(h));
    } finally {
      leave();
    }
  }

  /** Checks (role, scope, values, workflow), signs and durably commits one transaction. */
  public Committed write(Transaction txn) throws TramException {
    String json = txn.toJson();
    long h = enter();
    try {
      return new Committed(Json.object(utf8(Native.write(h, bytes(json)))));
    } finally {
      leave();
    }
  }

  /** A row (server state and pending edits), or empty when there is none. */
  public Optional<Row> get(String table, String id) throws TramException {
    long h = enter();
    try {
      return Optional.of(new Row(Json.object(utf8(Native.get(h, bytes(table), bytes(id))))));
    } catch (TramException e) {
      if (e.code() == TramException.Code.NOT_FOUND) return Optional.empty();
      throw e;
    } finally {
      leave();
    }
  }

  public List<Row> query(Query q) throws TramException {
    String json = q.toJson();
    long h = enter();
    try {
      List<Row> rows = new ArrayList<>();
      for (Object o : Json.array(utf8(Native.query(h, bytes(json))))) rows.add(new Row(JsonView.asMap(o)));
      return Collections.unmodifiableList(rows);
    } finally {
      leave();
    }
  }

  /** One read-only SELECT over the generated tables: each result row as a column-to-value map. */
  public List<Map<String, Object>> sql(String select) throws TramException {
    long h = enter();
    try {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Object o : Json.array(utf8(Native.sql(h, bytes(select))))) rows.add(Collections.unmodifiableMap(JsonView.asMap(o)));
      return Collections.unmodifiableList(rows);
    } finally {
      leave();
    }
  }

  public SyncReport sync() throws TramException {
    return sync(null);
  }

  /**
   * Pushes the outbox, uploads evidence files and pulls, with retries; blocks until done, failed or
   * cancelled ({@link TramException.Code#CANCELLED}). Run it off the UI thread (a WorkManager worker).
   */
  public SyncReport sync(ProgressListener progress) throws TramException {
    ProgressSink sink = progress == null ? null : new ProgressSink(progress, callbacks);
    long h = enter();
    try {
      return new SyncReport(Json.object(utf8(Native.sync(h, sink))));
    } finally {
      leave();
    }
  }

  /** Makes a running sync return CANCELLED within about 50 ms; does nothing on a closed client. */
  public void cancel() throws TramException {
    checkNotInCallback();
    ReentrantReadWriteLock.ReadLock r = lock.readLock();
    if (!r.tryLock()) return; // close() is under way: it cancels by itself
    try {
      if (handle != 0) Native.cancel(handle);
    } finally {
      r.unlock();
    }
  }

  /** Syncs on an SDK thread every intervalMs until {@link #stopBackground} or close. */
  public void startBackground(int intervalMs) throws TramException {
    long h = enter();
    try {
      Native.startBackground(h, intervalMs);
    } finally {
      leave();
    }
  }

  public void stopBackground() throws TramException {
    long h = enter();
    try {
      Native.stopBackground(h);
    } finally {
      leave();
    }
  }

  /** Change sets waiting for a receipt, and rejected ones with the server's code and message. */
  public List<OutboxEntry> outbox() throws TramException {
    long h = enter();
    try {
      List<OutboxEntry> out = new ArrayList<>();
      for (Object o : Json.array(utf8(Native.outbox(h)))) out.add(new OutboxEntry(JsonView.asMap(o)));
      return Collections.unmodifiableList(out);
    } finally {
      leave();
    }
  }

  public void dismissRejected(long seq) throws TramException {
    long h = enter();
    try {
      Native.dismissRejected(h, seq);
    } finally {
      leave();
    }
  }

  /** Every receipt, each with {@link Receipt#verified} checked against the server's key. */
  public List<Receipt> receipts() throws TramException {
    return receipts("", "");
  }

  /** The receipts of the change sets that wrote one row. */
  public List<Receipt> receipts(String table, String id) throws TramException {
    long h = enter();
    try {
      List<Receipt> out = new ArrayList<>();
      for (Object o : Json.array(utf8(Native.receipts(h, bytes(table), bytes(id))))) out.add(new Receipt(JsonView.asMap(o)));
      return Collections.unmodifiableList(out);
    } finally {
      leave();
    }
  }

  public List<Conflict> conflicts() throws TramException {
    long h = enter();
    try {
      List<Conflict> out = new ArrayList<>();
      for (Object o : Json.array(utf8(Native.conflicts(h)))) out.add(new Conflict(JsonView.asMap(o)));
      return Collections.unmodifiableList(out);
    } finally {
      leave();
    }
  }

  /** Copies an evidence file into the store; returns its hash, the value of an attachment field. */
  public String addAttachment(String path) throws TramException {
    long h = enter();
    try {
      return utf8(Native.addAttachment(h, bytes(path)));
    } finally {
      leave();
    }
  }

  /**
   * Writes the evidence file named by {@code hash} (64 hex) to {@code dest}, only once its bytes
   * hash to it: this device's copy, else the server's (in scope only); resumes a cut download.
   * Returns its size.
   */
  public long downloadAttachment(String hash, String dest) throws TramException {
    long h = enter();
    try {
      return Native.downloadAttachment(h, bytes(hash), bytes(dest));
    } finally {
      leave();
    }
  }

  /** Writes the pending outbox as a bundle signed by the device; returns how many change sets it holds. */
  public long exportBundle(String path) throws TramException {
    long h = enter();
    try {
      return Native.exportBundle(h, bytes(path));
    } finally {
      leave();
    }
  }

  /** Settles the outbox from a receipt bundle made by {@code tram-server admin import-bundle}. */
  public SyncReport importReceipts(String path) throws TramException {
    long h = enter();
    try {
      return new SyncReport(Json.object(utf8(Native.importReceipts(h, bytes(path)))));
    } finally {
      leave();
    }
  }

  /** Sets the change listener (null removes it). See {@link ChangeListener} for its thread. */
  public void setChangeListener(ChangeListener listener) {
    checkNotInCallback();
    lock.readLock().lock();
    try {
      if (handle == 0) throw new IllegalStateException("the Tram client is closed");
      callbacks.listener = listener;
    } finally {
      lock.readLock().unlock();
    }
  }

  public boolean isClosed() {
    lock.readLock().lock();
    try {
      return handle == 0;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Cancels a running sync, stops the background sync, waits for calls in flight, closes the
   * store and drops the listener. Idempotent.
   */
  @Override
  public void close() {
    checkNotInCallback();
    try {
      cancel();
    } catch (TramException ignored) {
      // closing anyway
    }
    lock.writeLock().lock();
    try {
      if (handle == 0) return;
      callbacks.listener = null;
      Native.close(handle);
      handle = 0;
    } finally {
      lock.writeLock().unlock();
    }
  }

  private long enter() {
    checkNotInCallback();
    lock.readLock().lock();
    if (handle == 0) {
      lock.readLock().unlock();
      throw new IllegalStateException("the Tram client is closed");
    }
    return handle;
  }

  private void leave() { lock.readLock().unlock(); }

  private void checkNotInCallback() {
    if (Callbacks.RUNNING.get() == callbacks)
      throw new IllegalStateException("a Tram listener must not call back into its own client");
  }

  private static byte[] bytes(String s) {
    return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
  }

  private static String utf8(byte[] b) {
    return b == null ? "" : new String(b, StandardCharsets.UTF_8);
  }
}

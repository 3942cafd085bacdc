package vn.sonla.tram.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import vn.sonla.tram.Committed;
import vn.sonla.tram.Conflict;
import vn.sonla.tram.DeviceInfo;
import vn.sonla.tram.Options;
import vn.sonla.tram.OutboxEntry;
import vn.sonla.tram.Progress;
import vn.sonla.tram.Query;
import vn.sonla.tram.Receipt;
import vn.sonla.tram.Row;
import vn.sonla.tram.SyncReport;
import vn.sonla.tram.TramClient;
import vn.sonla.tram.TramException;
import vn.sonla.tram.Transaction;

/**
 * The Java binding against a real tram-server (tests/java/run.sh starts it): enrolment, offline
 * writes, sync with progress, verified receipts, a conflict, a local refusal and a server rejection,
 * attachments, a bundle, the change listener on the SDK's background thread, a sync cancelled from
 * another thread, close() during a sync, and a GC-stress loop. Run under -Xcheck:jni.
 *   TramClientTest SERVER_URL DATA_DIR SERVER_BIN SCHEMAS_DIR WORK_DIR
 */
public final class TramClientTest {
  private static int checks = 0;
  private static final List<String> failures = new ArrayList<>();
  private static String url, data, serverBin, schemas;
  private static Path work;

  private static void check(boolean ok, String what) {
    ++checks;
    if (!ok) {
      failures.add(what);
      System.out.println("FAILED: " + what);
    }
  }

  private interface Call {
    void run() throws Exception;
  }

  /** Runs c, expecting a TramException with this code. */
  private static TramException expectError(TramException.Code code, String what, Call c) {
    try {
      c.run();
      check(false, what + ": no error");
    } catch (TramException e) {
      check(e.code() == code, what + ": code " + e.code() + " (" + e.sdkMessage() + "), expected " + code);
      return e;
    } catch (Exception e) {
      check(false, what + ": " + e);
    }
    return null;
  }

  private static void expectIllegalState(String what, Call c) {
    try {
      c.run();
      check(false, what + ": no IllegalStateException");
    } catch (IllegalStateException e) {
      check(true, what);
    } catch (Exception e) {
      check(false, what + ": " + e);
    }
  }

  private static String cli(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(serverBin);
    Collections.addAll(cmd, args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
    String s = new String(out, StandardCharsets.UTF_8).trim();
    if (p.exitValue() != 0) throw new IOException("tram-server " + String.join(" ", args) + " failed: " + s);
    return s;
  }

  private static String enrolCode(String user) throws Exception {
    return cli("admin", "enrol-code", "--data", data, "--user", user);
  }

  private static byte[] key(int b) {
    byte[] k = new byte[32];
    java.util.Arrays.fill(k, (byte) b);
    return k;
  }

  private static TramClient device(String name, int keyByte) throws TramException {
    return TramClient.open(new Options(work.resolve(name + ".db").toString(), schemas), key(keyByte));
  }

  private static Map<String, Object> report(String unit, String narrative) {
    return Transaction.fields("unit_code", unit, "indicator", "CT-CAPNUOC-XA", "period", "2026-H1", "value", 42.5,
                              "progress", "on_track", "narrative", narrative, "author", "Lò Văn Minh",
                              "recorded_on", "2026-06-03", "status", "draft");
  }

  private static long t0;

  private static void phase(String name) {
    System.out.printf("[%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, name);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: TramClientTest SERVER_URL DATA_DIR SERVER_BIN SCHEMAS_DIR WORK_DIR");
      System.exit(2);
    }
    url = args[0];
    data = args[1];
    serverBin = args[2];
    schemas = args[3];
    work = Paths.get(args[4]);
    Files.createDirectories(work);
    t0 = System.nanoTime();
    try {
      run();
      heapCheck();  // after run() returned: its locals no longer hold the closed clients
    } catch (Throwable t) {
      t.printStackTrace(System.out);
      failures.add("uncaught: " + t);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("TramClientTest: %d checks, %d failed, %.1f s (libtram_client %s)%n", checks, failures.size(), secs,
                      TramClient.version());
    if (!failures.isEmpty()) {
      for (String f : failures) System.out.println("  failed: " + f);
      System.exit(1);
    }
    System.out.println("TramClientTest: all checks passed");
    System.exit(0);
  }

  private static void run() throws Exception {
    phase("open, errors before enrolment");
    check(!TramClient.version().isEmpty(), "version");
    expectError(TramException.Code.INVALID_ARGUMENT, "a 31-byte wrapping key",
                () -> TramClient.open(new Options(work.resolve("x.db").toString(), schemas), new byte[31]).close());
    TramClient a = device("minh", 7);
    TramClient b = device("lan", 8);
    {
      TramException e = expectError(TramException.Code.NOT_ENROLLED, "write before enrolment",
                                    () -> a.write(new Transaction().insert("progress_report", report("03808", "x"))));
      check(e == null || e.codeValue() == 5, "the numeric code is tram.h's");
    }
    expectError(TramException.Code.INVALID_ARGUMENT, "unknown table", () -> a.query(Query.table("nope")));

    phase("enrol");
    a.enroll(url, enrolCode("minh"));
    b.enroll(url, enrolCode("lan"));
    DeviceInfo ia = a.info();
    check(ia.enrolled() && ia.user().equals("minh") && ia.units().equals(List.of("03808")), "info after enrolment: " + ia);
    check(ia.server().equals(url), "info names the server");
    expectError(TramException.Code.ALREADY_EXISTS, "enrolling twice", () -> a.enroll(url, "AAAA-BBBB-CCCC-DDDD"));
    check(a.schemaJson().contains("\"progress_report\""), "schema as JSON");

    List<Progress> progress = new CopyOnWriteArrayList<>();
    SyncReport first = a.sync(progress::add);
    check(first.rowsPulled() > 0, "the first sync pulls reference data: " + first);
    check(!progress.isEmpty(), "progress heard during the first sync");
    b.sync();

    phase("offline writes, change listener, UTF-8");
    List<String> heard = new CopyOnWriteArrayList<>();
    AtomicReference<String> reentry = new AtomicReference<>("not tried");
    a.setChangeListener((table, ids) -> {
      for (String id : ids) heard.add(table + "/" + id);
      try {
        a.info();
        reentry.set("allowed");
      } catch (IllegalStateException e) {
        reentry.set("refused");
      } catch (TramException e) {
        reentry.set("TramException " + e);
      }
    });
    String vietnamese = "Nước sạch đã về bản Nà Lốc — 𝄞 ✓";  // a character outside the BMP too
    List<String> ids = new ArrayList<>();
    for (int k = 0; k < 3; ++k) {
      Committed c = a.write(new Transaction().insert("progress_report", report("03808", vietnamese + " " + k)));
      check(c.seq() == k + 1, "change sets numbered from 1: " + c);
      check(c.ids().size() == 1 && c.id().length() > 0, "committed ids");
      ids.add(c.ids().get(0));
    }
    check(heard.contains("progress_report/" + ids.get(0)), "the change listener heard the write: " + heard);
    check(reentry.get().equals("refused"), "a listener calling back into its client is refused: " + reentry.get());
    Optional<Row> row = a.get("progress_report", ids.get(0));
    check(row.isPresent() && row.get().getString("narrative").equals(vietnamese + " 0"), "Vietnamese text read back unchanged");
    check(row.isPresent() && row.get().pending(), "the row is pending");
    check(row.isPresent() && Double.valueOf(42.5).equals(row.get().get("value")), "a decimal read back");
    check(!a.get("progress_report", "no-such-row").isPresent(), "a missing row is empty");
    List<OutboxEntry> out = a.outbox();
    check(out.size() == 3 && !out.get(0).isRejected() && out.get(0).opsJson().contains("Nà Lốc"), "three pending in the outbox");
    check(a.info().pending() == 3, "info counts them");

    TramException refused = expectError(TramException.Code.FORBIDDEN, "another commune's report refused before signing",
                                        () -> a.write(new Transaction().insert("progress_report", report("03646", "không"))));
    check(refused != null && refused.sdkMessage().contains("03646"), "the refusal names the unit");
    check(a.info().seq() == 3, "nothing signed for the refusal");

    phase("sync, receipts");
    progress.clear();
    SyncReport sr = a.sync(progress::add);
    check(sr.accepted() == 3 && sr.rejected() == 0, "three accepted: " + sr);
    check(!progress.isEmpty() && progress.get(progress.size() - 1).changesetsDone() >= 0, "progress during the sync");
    check(a.outbox().isEmpty() && a.info().pending() == 0, "the outbox is empty");
    for (String id : ids) {
      List<Receipt> rs = a.receipts("progress_report", id);
      check(rs.size() == 1 && rs.get(0).verified() && rs.get(0).status().equals("accepted") && rs.get(0).receivedAtMs() > 0,
            "a verified receipt for " + id + ": " + rs);
    }
    List<Receipt> all = a.receipts();
    check(all.size() == 3, "three receipts");
    for (Receipt r : all) check(r.verified() && !r.sig().isEmpty(), "receipt " + r.seq() + " verified");
    List<Row> units = a.query(Query.table("unit").where("name", Query.Op.CONTAINS, "to hieu").orderBy("name").limit(5));
    check(units.stream().anyMatch(r -> r.id().equals("03646") || "03646".equals(r.getString("code"))) ||
              units.toString().contains("03646"),
          "accent-free search finds Tô Hiệu: " + units);
    List<Map<String, Object>> n = a.sql("SELECT COUNT(*) AS n FROM progress_report");
    check(n.size() == 1 && Long.valueOf(3).equals(n.get(0).get("n")), "sql counts three reports: " + n);

    phase("conflict");
    b.sync();
    check(b.get("progress_report", ids.get(0)).isPresent(), "the other device pulled the report");
    a.write(new Transaction().update("progress_report", ids.get(0), Transaction.fields("narrative", "Sửa bởi Minh", "value", 50.0)));
    b.write(new Transaction().update("progress_report", ids.get(0), Transaction.fields("narrative", "Sửa bởi Lan")));
    a.sync();
    b.sync();
    a.sync();
    List<Conflict> ca = a.conflicts(), cb = b.conflicts();
    // The Minh-against-Lan conflict on the narrative, as each device lists it.
    Conflict onB = null, onA = null;
    for (Conflict x : cb)
      if (x.field().equals("narrative") && x.row().equals(ids.get(0))) onB = x;
    for (Conflict x : ca)
      if (onB != null && x.field().equals("narrative") && x.winner().equals(onB.winner()) && x.loser().equals(onB.loser())) onA = x;
    check(onA != null && onB != null, "the narrative conflict is seen by both: " + ca + " " + cb);
    if (ca.size() != 1 || cb.size() != 1)
      System.out.println("  note: conflicts listed: " + ca.size() + " on minh's device, " + cb.size() + " on lan's: " + ca + " " + cb);
    if (onA != null && onB != null) {
      check(onA.mineLost() != onB.mineLost(), "each side knows whether its edit lost");
      Conflict lost = onA.mineLost() ? onA : onB;
      String kept = a.get("progress_report", ids.get(0)).get().getString("narrative");
      check(!String.valueOf(lost.loserValue()).contains(kept), "the lost value is not the kept one: " + lost.loserValue() + " / " + kept);
    }
    check(a.get("progress_report", ids.get(0)).get().fields().equals(b.get("progress_report", ids.get(0)).get().fields()),
          "both devices converge");

    phase("attachment");
    Path photo = work.resolve("ảnh.jpg");
    byte[] bytes = new byte[40_000];
    for (int k = 0; k < bytes.length; ++k) bytes[k] = (byte) (k * 31 % 251);
    Files.write(photo, bytes);
    String hash = a.addAttachment(photo.toString());
    check(hash.matches("[0-9a-f]{64}"), "the attachment's hash: " + hash);
    Map<String, Object> withPhoto = report("03808", "Có ảnh");
    withPhoto.put("evidence", hash);
    a.write(new Transaction().insert("progress_report", withPhoto));
    SyncReport up = a.sync();
    check(up.accepted() == 1 && up.attachmentsUploaded() == 1, "the photo uploaded: " + up);
    expectError(TramException.Code.NOT_FOUND, "a missing file", () -> a.addAttachment(work.resolve("none.jpg").toString()));

    phase("bundle");
    a.write(new Transaction().insert("progress_report", report("03808", "Gửi qua USB 1")));
    a.write(new Transaction().insert("progress_report", report("03808", "Gửi qua USB 2")));
    String bundle = work.resolve("minh.bundle").toString(), receipts = work.resolve("minh.receipts").toString();
    check(a.exportBundle(bundle) == 2, "two change sets in the bundle");
    String imported = cli("admin", "import-bundle", "--data", data, "--in", bundle, "--out", receipts);
    check(imported.contains("2 accepted"), "the server imported the bundle: " + imported);
    SyncReport ir = a.importReceipts(receipts);
    check(ir.accepted() == 2 && a.info().pending() == 0, "the receipts settled the outbox: " + ir);
    for (Receipt r : a.receipts()) check(r.verified(), "bundle receipt " + r.seq() + " verified");

    phase("a rejection by the server");
    TramClient c = device("tuan", 9);
    c.enroll(url, enrolCode("tuan"));
    c.sync();
    Committed written = c.write(new Transaction().insert("progress_report", report("03808", "Viết khi còn quyền")));
    cli("admin", "create-user", "--data", data, "--id", "tuan", "--role", "official", "--units", "03646");
    SyncReport rej = c.sync();
    check(rej.rejected() == 1, "the server rejected the change set: " + rej);
    List<OutboxEntry> ob = c.outbox();
    check(ob.size() == 1 && ob.get(0).isRejected() && ob.get(0).code().equals("forbidden_scope") && ob.get(0).message().contains("03808"),
          "kept in the outbox with the server's reason: " + ob);
    check(!c.get("progress_report", written.ids().get(0)).isPresent(), "the rejected edit left the view");
    List<Receipt> rr = c.receipts();
    check(rr.size() == 1 && rr.get(0).status().equals("rejected") && rr.get(0).verified(), "a verified receipt of the refusal: " + rr);
    if (!ob.isEmpty()) c.dismissRejected(ob.get(0).seq());
    check(c.info().rejected() == 0, "dismissed");
    expectError(TramException.Code.NOT_FOUND, "dismissing what is not there", () -> c.dismissRejected(999));
    c.close();

    phase("background sync: the change listener on the SDK's thread");
    Committed fromLan = b.write(new Transaction().insert("progress_report", report("03808", "Từ máy của Lan")));
    b.sync();
    String target = "progress_report/" + fromLan.ids().get(0);
    List<String> bg = new CopyOnWriteArrayList<>();
    AtomicReference<String> bgThread = new AtomicReference<>("");
    a.setChangeListener((table, changed) -> {
      for (String id : changed) {
        if ((table + "/" + id).equals(target)) bgThread.set(Thread.currentThread().getName());
        bg.add(table + "/" + id);
      }
    });
    a.startBackground(200);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!bg.contains(target) && System.nanoTime() < deadline) Thread.sleep(50);
    a.stopBackground();
    check(bg.contains(target), "the background sync pulled Lan's report and the listener heard it");
    check(!bgThread.get().isEmpty() && !bgThread.get().equals(Thread.currentThread().getName()),
          "heard on another thread: " + bgThread.get());

    phase("cancel a sync from another thread");
    try (Relay relay = new Relay(Integer.parseInt(url.substring(url.lastIndexOf(':') + 1)))) {
      TramClient d = device("minh-2", 10);
      d.enroll(relay.url(), enrolCode("minh"));
      d.sync();
      relay.stall(true);  // a link that accepts and never answers: a dying 2G cell
      d.write(new Transaction().insert("progress_report", report("03808", "Chờ sóng")));
      AtomicReference<Object> outcome = new AtomicReference<>();
      Thread syncer = new Thread(() -> {
        try {
          outcome.set(d.sync(p -> {}));
        } catch (Throwable t) {
          outcome.set(t);
        }
      }, "syncer");
      syncer.start();
      Thread.sleep(500);
      long cancelAt = System.nanoTime();
      d.cancel();
      syncer.join(10_000);
      double ms = (System.nanoTime() - cancelAt) / 1e6;
      check(!syncer.isAlive(), "the sync returned after cancel()");
      check(outcome.get() instanceof TramException && ((TramException) outcome.get()).code() == TramException.Code.CANCELLED,
            "the sync failed with CANCELLED: " + outcome.get());
      System.out.printf("  cancelled after %.0f ms%n", ms);
      check(ms < 3000, "cancelled within 3 s: " + ms + " ms");
      relay.stall(false);
      SyncReport after = d.sync();
      check(after.accepted() == 1, "the same change set goes through once the link is back: " + after);

      phase("close() while a sync is stuck");
      relay.stall(true);
      d.write(new Transaction().insert("progress_report", report("03808", "Đóng khi đang đồng bộ")));
      AtomicReference<Object> closedOutcome = new AtomicReference<>();
      Thread stuck = new Thread(() -> {
        try {
          closedOutcome.set(d.sync());
        } catch (Throwable t) {
          closedOutcome.set(t);
        }
      }, "stuck-syncer");
      stuck.start();
      Thread.sleep(300);
      long closeAt = System.nanoTime();
      d.close();
      double closeMs = (System.nanoTime() - closeAt) / 1e6;
      stuck.join(10_000);
      check(!stuck.isAlive() && closedOutcome.get() instanceof TramException, "close() cancelled the stuck sync: " + closedOutcome.get());
      check(closeMs < 3000, "close() returned within 3 s: " + closeMs + " ms");
      check(d.isClosed(), "closed");
      expectIllegalState("a call after close()", d::info);
      d.close();  // twice: nothing
      d.cancel();  // after close: nothing
      relay.stall(false);
    }

    phase("GC stress");
    gcStress(a, ids.get(1));

    a.close();
    b.close();
    expectIllegalState("a call after close()", () -> a.get("progress_report", ids.get(0)));
    expectIllegalState("setting a listener after close()", () -> a.setChangeListener(null));
  }

  private static void heapCheck() throws Exception {
    phase("nothing held after close(): the JVM's heap histogram");
    // Every client is closed: no object native code referenced (each client's Callbacks, each
    // sync's ProgressSink) may survive a full collection. jcmd's histogram collects first.
    Path jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd");
    if (Files.isExecutable(jcmd)) {
      Process p = new ProcessBuilder(jcmd.toString(), Long.toString(ProcessHandle.current().pid()), "GC.class_histogram")
                      .redirectErrorStream(true).start();
      String histogram = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(60, TimeUnit.SECONDS);
      check(histogram.contains("java.lang.String"), "a heap histogram was taken");
      for (String line : histogram.split("\n"))
        if (line.contains("vn.sonla.tram.Callbacks") || line.contains("vn.sonla.tram.ProgressSink"))
          check(false, "still on the heap after close(): " + line.trim());
    } else {
      System.out.println("  note: no jcmd in " + jcmd.getParent() + "; histogram check skipped");
    }
    phase("done");
  }

  /** Thousands of small calls with listeners coming and going and collections forced, from several threads. */
  private static void gcStress(TramClient a, String id) throws Exception {
    AtomicInteger heard = new AtomicInteger();
    int writes = 0;
    for (int k = 0; k < 4000; ++k) {
      if (k % 2 == 0) {
        final int mark = k;
        a.setChangeListener((t, ids) -> heard.addAndGet(ids.size() + 0 * mark));
      } else {
        a.setChangeListener(null);
        a.setChangeListener((t, ids) -> heard.incrementAndGet());
      }
      a.get("progress_report", id);
      if (a.get("progress_report", "missing-" + k).isPresent()) check(false, "a missing row found");
      if (k % 4 == 0) a.query(Query.table("progress_report").where("unit_code", Query.Op.EQ, "03808").limit(3));
      if (k % 8 == 0) a.info();
      if (k % 16 == 0) a.outbox();
      if (k % 16 == 8) a.receipts("progress_report", id);
      if (k % 32 == 0) {
        try {
          a.write(new Transaction().insert("no_such_table", Transaction.fields("x", 1)));
        } catch (TramException e) {
          if (e.code() != TramException.Code.INVALID_ARGUMENT) check(false, "bad write: " + e);
        }
      }
      if (k % 20 == 0) {
        a.write(new Transaction().update("progress_report", id, Transaction.fields("value", (double) (k % 100))));
        ++writes;
      }
      if (k % 1000 == 999) {
        a.sync(p -> heard.incrementAndGet());
        System.gc();
      }
    }
    check(heard.get() >= writes, "listeners heard the " + writes + " writes: " + heard.get());

    // Several threads at once, the background sync running and listeners swapped meanwhile.
    a.startBackground(100);
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> err = new AtomicReference<>();
    for (int t = 0; t < 4; ++t) {
      final int tn = t;
      Thread th = new Thread(() -> {
        try {
          for (int k = 0; k < 500; ++k) {
            a.get("progress_report", id);
            a.query(Query.table("unit").where("name", Query.Op.CONTAINS, "muong").limit(2));
            if (tn == 0) a.setChangeListener(k % 2 == 0 ? (tb, ids) -> heard.incrementAndGet() : null);
            if (tn == 1 && k % 50 == 0) a.write(new Transaction().update("progress_report", id, Transaction.fields("value", (double) (k % 100))));
            if (k % 100 == 0) System.gc();
          }
        } catch (Throwable e) {
          err.compareAndSet(null, e);
        }
      }, "stress-" + t);
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) th.join(60_000);
    a.stopBackground();
    check(err.get() == null, "no error from the concurrent callers: " + err.get());

    // Open and close clients with listeners: nothing is held after close().
    List<WeakReference<Object>> gone = new ArrayList<>();
    for (int k = 0; k < 30; ++k) {
      TramClient e = device("stress-" + (k % 3), 20 + k % 3);
      Object token = new Object();
      gone.add(new WeakReference<>(token));
      e.setChangeListener((t, ids) -> heard.addAndGet(token.hashCode() == 0 ? 1 : 0));
      e.info();
      e.close();
    }
    boolean cleared = false;
    for (int k = 0; k < 20 && !cleared; ++k) {
      System.gc();
      Thread.sleep(50);
      cleared = gone.stream().allMatch(w -> w.get() == null);
    }
    check(cleared, "listeners of closed clients are collected (no global reference left)");
    // A client never closed by its owner but still reachable keeps working; one more round of gc.
    System.gc();
  }

  /** A loopback TCP relay to the server that can stall: accepts and never answers. */
  private static final class Relay implements AutoCloseable {
    private final ServerSocket ss;
    private final int upstream;
    private volatile boolean stalled = false;
    private volatile boolean stop = false;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    Relay(int upstream) throws IOException {
      this.upstream = upstream;
      ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      acceptor = new Thread(this::acceptLoop, "relay");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String url() { return "http://127.0.0.1:" + ss.getLocalPort(); }

    void stall(boolean on) {
      stalled = on;
      for (Socket s : sockets) closeQuietly(s);  // connections open now are dropped either way
      sockets.clear();
    }

    private void acceptLoop() {
      while (!stop) {
        try {
          Socket c = ss.accept();
          sockets.add(c);
          if (stalled) continue;  // held open, never answered
          Socket s = new Socket();
          s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstream), 2000);
          sockets.add(s);
          pump(c, s);
          pump(s, c);
        } catch (IOException e) {
          if (stop) return;
        }
      }
    }

    private void pump(Socket from, Socket to) {
      Thread t = new Thread(() -> {
        byte[] buf = new byte[16384];
        try (InputStream in = from.getInputStream(); OutputStream o = to.getOutputStream()) {
          int n;
          while ((n = in.read(buf)) > 0) o.write(buf, 0, n);
        } catch (IOException e) {
          // the other side went away
        } finally {
          closeQuietly(from);
          closeQuietly(to);
        }
      }, "relay-pump");
      t.setDaemon(true);
      t.start();
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }

    @Override
    public void close() throws IOException {
      stop = true;
      ss.close();
      for (Socket s : sockets) closeQuietly(s);
    }
  }
}

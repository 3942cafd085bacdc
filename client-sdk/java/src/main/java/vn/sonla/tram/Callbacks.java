package vn.sonla.tram;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The one object per client that native code holds (a JNI global reference, deleted by close()).
 * The Java listener is a field here, so registering and removing it never touches native state.
 */
final class Callbacks {
  /** The client whose callback this thread is running, to refuse calls back into it. */
  static final ThreadLocal<Callbacks> RUNNING = new ThreadLocal<>();

  volatile ChangeListener listener;

  /** Called from JNI, on the thread that made the change. Never throws back into native code. */
  void onChange(byte[] table, byte[] idsJson) {
    ChangeListener l = listener;
    if (l == null) return;
    Callbacks outer = RUNNING.get();
    RUNNING.set(this);
    try {
      List<String> ids = new ArrayList<>();
      for (Object o : Json.array(new String(idsJson, StandardCharsets.UTF_8))) ids.add(String.valueOf(o));
      l.onChange(new String(table, StandardCharsets.UTF_8), ids);
    } catch (Throwable t) {
      report(t);
    } finally {
      if (outer == null) RUNNING.remove();
      else RUNNING.set(outer);
    }
  }

  static void report(Throwable t) {
    Thread th = Thread.currentThread();
    Thread.UncaughtExceptionHandler h = th.getUncaughtExceptionHandler();
    try {
      if (h != null) h.uncaughtException(th, t);
      else t.printStackTrace();
    } catch (Throwable ignored) {
      // nothing may go back into native code
    }
  }
}

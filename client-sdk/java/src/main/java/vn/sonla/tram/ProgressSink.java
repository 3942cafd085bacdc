package vn.sonla.tram;

import java.nio.charset.StandardCharsets;

/** The progress listener of one sync, as native code calls it (a global reference for that sync only). */
final class ProgressSink {
  private final ProgressListener listener;
  private final Callbacks owner;

  ProgressSink(ProgressListener listener, Callbacks owner) {
    this.listener = listener;
    this.owner = owner;
  }

  void onProgress(byte[] json) {
    Callbacks outer = Callbacks.RUNNING.get();
    Callbacks.RUNNING.set(owner);
    try {
      listener.onProgress(new Progress(Json.object(new String(json, StandardCharsets.UTF_8))));
    } catch (Throwable t) {
      Callbacks.report(t);
    } finally {
      if (outer == null) Callbacks.RUNNING.remove();
      else Callbacks.RUNNING.set(outer);
    }
  }
}

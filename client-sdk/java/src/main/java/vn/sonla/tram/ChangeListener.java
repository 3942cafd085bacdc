package vn.sonla.tram;

import java.util.List;

/**
 * Told after local writes and pulled pages which rows of a table changed. Runs on the thread that
 * made the change: the writer, the thread running {@link TramClient#sync}, or the SDK's background
 * sync thread (attached to the JVM for it). It must not call back into the same client: such a
 * call throws {@link IllegalStateException}. Hand work to another thread (e.g. the UI's) instead.
 */
@FunctionalInterface
public interface ChangeListener {
  void onChange(String table, List<String> ids);
}

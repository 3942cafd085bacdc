package vn.sonla.tram;

/** Told after each request of a {@link TramClient#sync}, on the syncing thread; must not call back into the client. */
@FunctionalInterface
public interface ProgressListener {
  void onProgress(Progress progress);
}

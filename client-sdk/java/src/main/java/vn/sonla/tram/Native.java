package vn.sonla.tram;

/** The natives of libtram_jni.so (client-sdk/java/jni/tram_jni.c); strings are UTF-8 byte arrays. */
final class Native {
  private Native() {}

  static {
    String path = System.getProperty("tram.jni.library");
    if (path != null && !path.isEmpty()) System.load(path);
    else System.loadLibrary("tram_jni");
  }

  static native byte[] version();
  static native long open(byte[] options, byte[] key, Callbacks callbacks) throws TramException;
  static native void close(long h);
  static native void enroll(long h, byte[] url, byte[] code) throws TramException;
  static native byte[] info(long h) throws TramException;
  static native byte[] schema(long h) throws TramException;
  static native byte[] write(long h, byte[] txn) throws TramException;
  static native byte[] get(long h, byte[] table, byte[] id) throws TramException;
  static native byte[] query(long h, byte[] query) throws TramException;
  static native byte[] sql(long h, byte[] select) throws TramException;
  static native byte[] sync(long h, ProgressSink sink) throws TramException;
  static native void cancel(long h) throws TramException;
  static native void startBackground(long h, int intervalMs) throws TramException;
  static native void stopBackground(long h) throws TramException;
  static native byte[] outbox(long h) throws TramException;
  static native void dismissRejected(long h, long seq) throws TramException;
  static native byte[] receipts(long h, byte[] table, byte[] id) throws TramException;
  static native byte[] conflicts(long h) throws TramException;
  static native byte[] addAttachment(long h, byte[] path) throws TramException;
  static native long downloadAttachment(long h, byte[] hash, byte[] dest) throws TramException;
  static native long exportBundle(long h, byte[] path) throws TramException;
  static native byte[] importReceipts(long h, byte[] path) throws TramException;
}

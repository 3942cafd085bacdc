/* libtram_jni.so: the JNI side of the Java binding (vn.sonla.tram), over the C API of tram.h only.
 *
 * - Strings cross as byte[] holding true UTF-8 (Java encodes and decodes them), never as
 *   modified UTF-8: Vietnamese text and characters outside the BMP arrive unchanged.
 * - Errors become vn.sonla.tram.TramException(code, utf8 message) thrown into the calling thread.
 * - One native context per client (struct jtram) holds the tram_client and a global reference to
 *   the client's vn.sonla.tram.Callbacks object. The change callback is registered once with the
 *   context as user_data, so registering or removing a Java listener never touches native state
 *   (the SDK calls a copied callback outside its locks, so swapping user_data would race).
 *   The global reference is deleted by close(), after tram_close() has stopped every SDK thread.
 * - Callbacks may arrive on SDK threads (the background sync): such a thread is attached as a
 *   daemon on its first callback and detached when it exits (a pthread key's destructor).
 *   Every callback runs inside PushLocalFrame/PopLocalFrame and clears a pending exception.
 * - The Java side (TramClient) keeps a read-write lock around the handle: no call is in flight
 *   when close() frees it.
 */
#include <jni.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tram/tram.h"

static JavaVM* g_vm;
static pthread_key_t g_detach_key;
static jclass g_exception_class;   /* vn/sonla/tram/TramException */
static jmethodID g_exception_ctor; /* (I[B)V */
static jmethodID g_on_change;      /* Callbacks.onChange([B[B)V */
static jmethodID g_on_progress;    /* ProgressSink.onProgress([B)V */

struct jtram {
  tram_client* client;
  jobject callbacks; /* global reference, deleted in close() */
};

static struct jtram* ctx_of(jlong handle) { return (struct jtram*)(intptr_t)handle; }

/* ---- threads ---------------------------------------------------------------------------- */

static void detach_at_exit(void* vm) {
  if (vm) (*(JavaVM*)vm)->DetachCurrentThread((JavaVM*)vm);
}

/* The JNIEnv of this thread, attaching an SDK thread on first use (NULL if that fails). */
static JNIEnv* env_for_callback(void) {
  JNIEnv* env = NULL;
  jint rc = (*g_vm)->GetEnv(g_vm, (void**)&env, JNI_VERSION_1_6);
  if (rc == JNI_OK) return env;
  if (rc != JNI_EDETACHED) return NULL;
  JavaVMAttachArgs args = {JNI_VERSION_1_6, (char*)"tram-sdk", NULL};
  if ((*g_vm)->AttachCurrentThreadAsDaemon(g_vm, (void**)&env, &args) != JNI_OK) return NULL;
  pthread_setspecific(g_detach_key, g_vm); /* detached when the SDK thread ends */
  return env;
}

/* ---- byte[] <-> UTF-8 --------------------------------------------------------------------- */

static jbyteArray bytes_of(JNIEnv* env, const char* s, size_t n) {
  if (n > (size_t)INT32_MAX) return NULL;
  jbyteArray a = (*env)->NewByteArray(env, (jsize)n);
  if (a && n) (*env)->SetByteArrayRegion(env, a, 0, (jsize)n, (const jbyte*)s);
  return a;
}

/* A copy of a Java byte[] (NUL-terminated for convenience); NULL array -> empty. On failure an
 * OutOfMemoryError is pending and NULL is returned. */
static char* copy_bytes(JNIEnv* env, jbyteArray a, size_t* len) {
  jsize n = a ? (*env)->GetArrayLength(env, a) : 0;
  char* p = malloc((size_t)n + 1);
  if (!p) {
    jclass oom = (*env)->FindClass(env, "java/lang/OutOfMemoryError");
    if (oom) (*env)->ThrowNew(env, oom, "tram_jni: out of memory");
    return NULL;
  }
  if (n) (*env)->GetByteArrayRegion(env, a, 0, n, (jbyte*)p);
  p[n] = '\0';
  *len = (size_t)n;
  return p;
}

/* ---- errors ------------------------------------------------------------------------------- */

static void throw_code(JNIEnv* env, int code, const char* message) {
  if ((*env)->ExceptionCheck(env)) return;
  jbyteArray msg = bytes_of(env, message ? message : "", message ? strlen(message) : 0);
  if (!msg) return;
  jobject ex = (*env)->NewObject(env, g_exception_class, g_exception_ctor, (jint)code, msg);
  (*env)->DeleteLocalRef(env, msg);
  if (!ex) return;
  (*env)->Throw(env, (jthrowable)ex);
  (*env)->DeleteLocalRef(env, ex);
}

static void throw_last(JNIEnv* env, tram_status st) {
  int code = tram_last_error_code();
  throw_code(env, code ? code : (int)st, tram_last_error_message());
}

/* Returns the client of a live handle, or throws and returns NULL. */
static tram_client* client_of(JNIEnv* env, jlong handle) {
  struct jtram* t = ctx_of(handle);
  if (!t || !t->client) {
    throw_code(env, TRAM_ERR_INVALID_ARGUMENT, "the client is closed");
    return NULL;
  }
  return t->client;
}

/* An SDK string result as byte[] (freed here), or an exception. */
static jbyteArray result(JNIEnv* env, tram_status st, char* out, size_t n) {
  if (st != TRAM_OK) {
    tram_free(out);
    throw_last(env, st);
    return NULL;
  }
  jbyteArray a = out ? bytes_of(env, out, n) : bytes_of(env, "", 0);
  tram_free(out);
  return a;
}

/* ---- callbacks ---------------------------------------------------------------------------- */

static void on_change(void* user_data, const char* table, const char* ids_json) {
  struct jtram* t = user_data;
  JNIEnv* env = env_for_callback();
  if (!env || !t->callbacks) return;
  if ((*env)->PushLocalFrame(env, 4) != 0) {
    (*env)->ExceptionClear(env);
    return;
  }
  jbyteArray jt = bytes_of(env, table, strlen(table));
  jbyteArray ji = jt ? bytes_of(env, ids_json, strlen(ids_json)) : NULL;
  if (jt && ji) (*env)->CallVoidMethod(env, t->callbacks, g_on_change, jt, ji);
  if ((*env)->ExceptionCheck(env)) (*env)->ExceptionClear(env); /* the Java side catches and logs */
  (*env)->PopLocalFrame(env, NULL);
}

struct progress_ctx {
  jobject sink; /* global reference for the duration of one sync */
};

static void on_progress(void* user_data, const char* progress_json) {
  struct progress_ctx* p = user_data;
  JNIEnv* env = env_for_callback();
  if (!env || !p->sink) return;
  /* The sync thread may already have an exception pending from an earlier callback: keep it
   * and deliver nothing more. */
  if ((*env)->ExceptionCheck(env)) return;
  if ((*env)->PushLocalFrame(env, 2) != 0) {
    (*env)->ExceptionClear(env);
    return;
  }
  jbyteArray j = bytes_of(env, progress_json, strlen(progress_json));
  if (j) (*env)->CallVoidMethod(env, p->sink, g_on_progress, j);
  if ((*env)->ExceptionCheck(env)) (*env)->ExceptionClear(env);
  (*env)->PopLocalFrame(env, NULL);
}

/* ---- load --------------------------------------------------------------------------------- */

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void* reserved) {
  (void)reserved;
  JNIEnv* env = NULL;
  if ((*vm)->GetEnv(vm, (void**)&env, JNI_VERSION_1_6) != JNI_OK) return JNI_ERR;
  g_vm = vm;
  if (pthread_key_create(&g_detach_key, detach_at_exit) != 0) return JNI_ERR;
  jclass ex = (*env)->FindClass(env, "vn/sonla/tram/TramException");
  if (!ex) return JNI_ERR;
  g_exception_class = (*env)->NewGlobalRef(env, ex);
  (*env)->DeleteLocalRef(env, ex);
  g_exception_ctor = (*env)->GetMethodID(env, g_exception_class, "<init>", "(I[B)V");
  if (!g_exception_ctor) return JNI_ERR;
  jclass cb = (*env)->FindClass(env, "vn/sonla/tram/Callbacks");
  if (!cb) return JNI_ERR;
  g_on_change = (*env)->GetMethodID(env, cb, "onChange", "([B[B)V");
  (*env)->DeleteLocalRef(env, cb);
  if (!g_on_change) return JNI_ERR;
  jclass ps = (*env)->FindClass(env, "vn/sonla/tram/ProgressSink");
  if (!ps) return JNI_ERR;
  g_on_progress = (*env)->GetMethodID(env, ps, "onProgress", "([B)V");
  (*env)->DeleteLocalRef(env, ps);
  if (!g_on_progress) return JNI_ERR;
  return JNI_VERSION_1_6;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM* vm, void* reserved) {
  (void)reserved;
  JNIEnv* env = NULL;
  if ((*vm)->GetEnv(vm, (void**)&env, JNI_VERSION_1_6) == JNI_OK && g_exception_class) {
    (*env)->DeleteGlobalRef(env, g_exception_class);
    g_exception_class = NULL;
  }
}

/* ---- the natives of vn.sonla.tram.Native -------------------------------------------------- */

#define NATIVE(ret, name) JNIEXPORT ret JNICALL Java_vn_sonla_tram_Native_##name

NATIVE(jbyteArray, version)(JNIEnv* env, jclass cls) {
  (void)cls;
  const char* v = tram_version();
  return bytes_of(env, v, strlen(v));
}

NATIVE(jlong, open)(JNIEnv* env, jclass cls, jbyteArray options, jbyteArray key, jobject callbacks) {
  (void)cls;
  if (!key || (*env)->GetArrayLength(env, key) != 32) {
    throw_code(env, TRAM_ERR_INVALID_ARGUMENT, "the wrapping key must be 32 bytes");
    return 0;
  }
  uint8_t k[32];
  (*env)->GetByteArrayRegion(env, key, 0, 32, (jbyte*)k);
  size_t n = 0;
  char* o = copy_bytes(env, options, &n);
  if (!o) return 0;
  struct jtram* t = calloc(1, sizeof *t);
  if (!t) {
    free(o);
    memset(k, 0, sizeof k);
    throw_code(env, TRAM_ERR_INTERNAL, "tram_jni: out of memory");
    return 0;
  }
  tram_status st = tram_open(o, n, k, &t->client);
  memset(k, 0, sizeof k);
  free(o);
  if (st != TRAM_OK) {
    free(t);
    throw_last(env, st);
    return 0;
  }
  t->callbacks = (*env)->NewGlobalRef(env, callbacks);
  st = tram_set_change_callback(t->client, on_change, t);
  if (st != TRAM_OK || !t->callbacks) {
    throw_last(env, st);
    tram_close(t->client);
    if (t->callbacks) (*env)->DeleteGlobalRef(env, t->callbacks);
    free(t);
    return 0;
  }
  return (jlong)(intptr_t)t;
}

NATIVE(void, close)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  struct jtram* t = ctx_of(handle);
  if (!t) return;
  if (t->client) {
    tram_stop_background(t->client);
    tram_set_change_callback(t->client, NULL, NULL);
    tram_close(t->client); /* joins the SDK's threads: no callback runs after this */
    t->client = NULL;
  }
  if (t->callbacks) (*env)->DeleteGlobalRef(env, t->callbacks);
  t->callbacks = NULL;
  free(t);
}

NATIVE(void, enroll)(JNIEnv* env, jclass cls, jlong handle, jbyteArray url, jbyteArray code) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return;
  size_t nu = 0, nc = 0;
  char* u = copy_bytes(env, url, &nu);
  char* k = u ? copy_bytes(env, code, &nc) : NULL;
  if (u && k) {
    tram_status st = tram_enroll(c, u, nu, k, nc);
    if (st != TRAM_OK) throw_last(env, st);
  }
  free(u);
  free(k);
}

NATIVE(jbyteArray, info)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return NULL;
  char* out = NULL;
  size_t n = 0;
  tram_status st = tram_info(c, &out, &n);
  return result(env, st, out, n);
}

NATIVE(jbyteArray, schema)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return NULL;
  char* out = NULL;
  size_t n = 0;
  tram_status st = tram_schema(c, &out, &n);
  return result(env, st, out, n);
}

typedef tram_status (*json_in_out_fn)(tram_client*, const char*, size_t, char**, size_t*);

static jbyteArray json_in_out(JNIEnv* env, jlong handle, jbyteArray in, json_in_out_fn fn) {
  tram_client* c = client_of(env, handle);
  if (!c) return NULL;
  size_t nin = 0, n = 0;
  char* s = copy_bytes(env, in, &nin);
  if (!s) return NULL;
  char* out = NULL;
  tram_status st = fn(c, s, nin, &out, &n);
  free(s);
  return result(env, st, out, n);
}

NATIVE(jbyteArray, write)(JNIEnv* env, jclass cls, jlong handle, jbyteArray txn) {
  (void)cls;
  return json_in_out(env, handle, txn, tram_write);
}

NATIVE(jbyteArray, query)(JNIEnv* env, jclass cls, jlong handle, jbyteArray query) {
  (void)cls;
  return json_in_out(env, handle, query, tram_query);
}

NATIVE(jbyteArray, sql)(JNIEnv* env, jclass cls, jlong handle, jbyteArray select) {
  (void)cls;
  return json_in_out(env, handle, select, tram_sql);
}

NATIVE(jbyteArray, addAttachment)(JNIEnv* env, jclass cls, jlong handle, jbyteArray path) {
  (void)cls;
  return json_in_out(env, handle, path, tram_add_attachment);
}

NATIVE(jbyteArray, importReceipts)(JNIEnv* env, jclass cls, jlong handle, jbyteArray path) {
  (void)cls;
  return json_in_out(env, handle, path, tram_import_receipts);
}

typedef tram_status (*two_in_out_fn)(tram_client*, const char*, size_t, const char*, size_t, char**, size_t*);

static jbyteArray two_in_out(JNIEnv* env, jlong handle, jbyteArray a, jbyteArray b, two_in_out_fn fn) {
  tram_client* c = client_of(env, handle);
  if (!c) return NULL;
  size_t na = 0, nb = 0, n = 0;
  char* sa = copy_bytes(env, a, &na);
  char* sb = sa ? copy_bytes(env, b, &nb) : NULL;
  if (!sa || !sb) {
    free(sa);
    return NULL;
  }
  char* out = NULL;
  tram_status st = fn(c, sa, na, sb, nb, &out, &n);
  free(sa);
  free(sb);
  return result(env, st, out, n);
}

NATIVE(jbyteArray, get)(JNIEnv* env, jclass cls, jlong handle, jbyteArray table, jbyteArray id) {
  (void)cls;
  return two_in_out(env, handle, table, id, tram_get);
}

NATIVE(jbyteArray, receipts)(JNIEnv* env, jclass cls, jlong handle, jbyteArray table, jbyteArray id) {
  (void)cls;
  return two_in_out(env, handle, table, id, tram_receipts);
}

typedef tram_status (*out_fn)(tram_client*, char**, size_t*);

static jbyteArray just_out(JNIEnv* env, jlong handle, out_fn fn) {
  tram_client* c = client_of(env, handle);
  if (!c) return NULL;
  char* out = NULL;
  size_t n = 0;
  tram_status st = fn(c, &out, &n);
  return result(env, st, out, n);
}

NATIVE(jbyteArray, outbox)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  return just_out(env, handle, tram_outbox);
}

NATIVE(jbyteArray, conflicts)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  return just_out(env, handle, tram_conflicts);
}

NATIVE(jbyteArray, sync)(JNIEnv* env, jclass cls, jlong handle, jobject sink) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return NULL;
  struct progress_ctx p = {NULL};
  if (sink) {
    p.sink = (*env)->NewGlobalRef(env, sink); /* global: valid on whichever thread reports */
    if (!p.sink) return NULL;
  }
  char* out = NULL;
  size_t n = 0;
  tram_status st = tram_sync(c, p.sink ? on_progress : NULL, &p, &out, &n);
  if (p.sink) (*env)->DeleteGlobalRef(env, p.sink);
  return result(env, st, out, n);
}

NATIVE(void, cancel)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return;
  tram_status st = tram_cancel(c);
  if (st != TRAM_OK) throw_last(env, st);
}

NATIVE(void, startBackground)(JNIEnv* env, jclass cls, jlong handle, jint interval_ms) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return;
  if (interval_ms <= 0) {
    throw_code(env, TRAM_ERR_INVALID_ARGUMENT, "the background interval must be positive");
    return;
  }
  tram_status st = tram_start_background(c, (uint32_t)interval_ms);
  if (st != TRAM_OK) throw_last(env, st);
}

NATIVE(void, stopBackground)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return;
  tram_status st = tram_stop_background(c);
  if (st != TRAM_OK) throw_last(env, st);
}

NATIVE(void, dismissRejected)(JNIEnv* env, jclass cls, jlong handle, jlong seq) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return;
  tram_status st = tram_dismiss_rejected(c, (uint64_t)seq);
  if (st != TRAM_OK) throw_last(env, st);
}

NATIVE(jlong, downloadAttachment)(JNIEnv* env, jclass cls, jlong handle, jbyteArray hash, jbyteArray dest) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return 0;
  size_t hn = 0, dn = 0;
  char* h = copy_bytes(env, hash, &hn);
  if (!h) return 0;
  char* d = copy_bytes(env, dest, &dn);
  if (!d) {
    free(h);
    return 0;
  }
  uint64_t size = 0;
  tram_status st = tram_download_attachment(c, h, hn, d, dn, &size);
  free(h);
  free(d);
  if (st != TRAM_OK) throw_last(env, st);
  return (jlong)size;
}

NATIVE(jlong, exportBundle)(JNIEnv* env, jclass cls, jlong handle, jbyteArray path) {
  (void)cls;
  tram_client* c = client_of(env, handle);
  if (!c) return 0;
  size_t n = 0;
  char* p = copy_bytes(env, path, &n);
  if (!p) return 0;
  uint64_t count = 0;
  tram_status st = tram_export_bundle(c, p, n, &count);
  free(p);
  if (st != TRAM_OK) throw_last(env, st);
  return (jlong)count;
}

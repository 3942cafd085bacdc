package vn.sonla.tram;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** A read-only view of one JSON object the SDK returned; typed getters in the subclasses. */
public abstract class JsonView {
  final Map<String, Object> m;

  JsonView(Map<String, Object> m) { this.m = Collections.unmodifiableMap(m); }

  /** Every field as parsed (objects are maps, arrays lists, integers Long, decimals Double). */
  public Map<String, Object> toMap() { return m; }

  /** The object as JSON. */
  public String toJson() { return Json.write(m); }

  @Override
  public String toString() { return getClass().getSimpleName() + toJson(); }

  String str(String k) {
    Object v = m.get(k);
    return v == null ? "" : v.toString();
  }

  long num(String k) {
    Object v = m.get(k);
    return v instanceof Number ? ((Number) v).longValue() : 0;
  }

  boolean bool(String k) { return Boolean.TRUE.equals(m.get(k)); }

  List<String> strings(String k) {
    Object v = m.get(k);
    List<String> out = new ArrayList<>();
    if (v instanceof List) for (Object o : (List<?>) v) out.add(String.valueOf(o));
    return Collections.unmodifiableList(out);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(Object o) {
    if (!(o instanceof Map)) throw new IllegalArgumentException("a JSON object was expected");
    return (Map<String, Object>) o;
  }
}

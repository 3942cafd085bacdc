package vn.sonla.tram;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One transaction, signed as one change set by {@link TramClient#write}. Field values are String
 * (text, dates "2026-06-03", enum values, attachment hashes), Long/Integer, Double, Boolean or null.
 */
public final class Transaction {
  private final List<Object> ops = new ArrayList<>();

  /** A map of fields from pairs: {@code Transaction.fields("unit_code", "03808", "value", 91.5)}. */
  public static Map<String, Object> fields(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) throw new IllegalArgumentException("fields: name, value pairs expected");
    Map<String, Object> f = new LinkedHashMap<>();
    for (int k = 0; k < namesAndValues.length; k += 2) f.put((String) namesAndValues[k], namesAndValues[k + 1]);
    return f;
  }

  /** Inserts a row with a new id (the SDK makes a UUIDv7; {@link Committed#ids} gives it). */
  public Transaction insert(String table, Map<String, ?> fields) { return op("insert", table, null, fields); }

  public Transaction insert(String table, String id, Map<String, ?> fields) { return op("insert", table, id, fields); }

  /** Sets the given fields of a row; the others keep their values. */
  public Transaction update(String table, String id, Map<String, ?> fields) { return op("update", table, id, fields); }

  public Transaction delete(String table, String id) { return op("delete", table, id, Collections.<String, Object>emptyMap()); }

  public int size() { return ops.size(); }

  private Transaction op(String op, String table, String id, Map<String, ?> fields) {
    if (table == null || table.isEmpty()) throw new IllegalArgumentException("a table is needed");
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("op", op);
    o.put("table", table);
    if (id != null && !id.isEmpty()) o.put("id", id);
    o.put("fields", new LinkedHashMap<String, Object>(fields));
    ops.add(o);
    return this;
  }

  String toJson() {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("ops", ops);
    return Json.write(t);
  }
}

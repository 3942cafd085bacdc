package vn.sonla.tram;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A query of one table: filters (text matches ignore accents and case), order, limit and offset. */
public final class Query {
  /** A filter's comparison. */
  public enum Op {
    EQ("eq"), NE("ne"), LT("lt"), LE("le"), GT("gt"), GE("ge"), CONTAINS("contains");

    final String wire;

    Op(String wire) { this.wire = wire; }
  }

  private final Map<String, Object> m = new LinkedHashMap<>();
  private final List<Object> where = new ArrayList<>();

  private Query(String table) {
    m.put("table", table);
    m.put("where", where);
  }

  public static Query table(String table) { return new Query(table); }

  public Query where(String field, Op op, Object value) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("field", field);
    f.put("op", op.wire);
    f.put("value", value);
    where.add(f);
    return this;
  }

  public Query orderBy(String field) {
    m.put("order_by", field);
    return this;
  }

  public Query desc() {
    m.put("desc", Boolean.TRUE);
    return this;
  }

  public Query limit(long n) {
    m.put("limit", n);
    return this;
  }

  public Query offset(long n) {
    m.put("offset", n);
    return this;
  }

  String toJson() { return Json.write(m); }
}

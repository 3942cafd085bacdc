package vn.sonla.tram;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small JSON reader and writer the binding needs for the C API's JSON (rows, queries, reports).
 * Objects become {@code LinkedHashMap<String,Object>}, arrays {@code ArrayList<Object>}, integers
 * {@code Long}, other numbers {@code Double}, and {@code true}/{@code false}/{@code null} themselves.
 */
final class Json {
  private Json() {}

  static Object parse(String s) {
    Json.Reader r = new Json.Reader(s);
    r.ws();
    Object v = r.value();
    r.ws();
    if (r.i != s.length()) throw new IllegalArgumentException("trailing characters in JSON at " + r.i);
    return v;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> object(String s) {
    Object v = parse(s);
    if (!(v instanceof Map)) throw new IllegalArgumentException("a JSON object was expected");
    return (Map<String, Object>) v;
  }

  @SuppressWarnings("unchecked")
  static List<Object> array(String s) {
    Object v = parse(s);
    if (!(v instanceof List)) throw new IllegalArgumentException("a JSON array was expected");
    return (List<Object>) v;
  }

  static String write(Object v) {
    StringBuilder b = new StringBuilder();
    write(b, v);
    return b.toString();
  }

  static void write(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String) {
      quote(b, (String) v);
    } else if (v instanceof Boolean) {
      b.append(((Boolean) v).booleanValue() ? "true" : "false");
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("JSON has no NaN or infinity");
      if (d == Math.rint(d) && Math.abs(d) < 1e15) b.append(Long.toString((long) d)).append(".0");
      else b.append(Double.toString(d));
    } else if (v instanceof Number) {
      b.append(((Number) v).longValue());
    } else if (v instanceof Map) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) b.append(',');
        first = false;
        quote(b, String.valueOf(e.getKey()));
        b.append(':');
        write(b, e.getValue());
      }
      b.append('}');
    } else if (v instanceof Iterable) {
      b.append('[');
      Iterator<?> it = ((Iterable<?>) v).iterator();
      boolean first = true;
      while (it.hasNext()) {
        if (!first) b.append(',');
        first = false;
        write(b, it.next());
      }
      b.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
    }
  }

  static void quote(StringBuilder b, String s) {
    b.append('"');
    for (int k = 0; k < s.length(); ++k) {
      char c = s.charAt(k);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        default:
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
      }
    }
    b.append('"');
  }

  private static final class Reader {
    final String s;
    int i;

    Reader(String s) { this.s = s; }

    void ws() {
      while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) ++i;
    }

    IllegalArgumentException bad(String what) {
      return new IllegalArgumentException("bad JSON at " + i + ": " + what);
    }

    Object value() {
      if (i >= s.length()) throw bad("unexpected end");
      char c = s.charAt(i);
      if (c == '{') return obj();
      if (c == '[') return arr();
      if (c == '"') return str();
      if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
      if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
      if (s.startsWith("null", i)) { i += 4; return null; }
      return num();
    }

    Map<String, Object> obj() {
      Map<String, Object> m = new LinkedHashMap<>();
      ++i;
      ws();
      if (i < s.length() && s.charAt(i) == '}') { ++i; return m; }
      while (true) {
        ws();
        if (i >= s.length() || s.charAt(i) != '"') throw bad("a key was expected");
        String k = str();
        ws();
        if (i >= s.length() || s.charAt(i) != ':') throw bad("':' was expected");
        ++i;
        ws();
        m.put(k, value());
        ws();
        if (i >= s.length()) throw bad("unexpected end");
        char c = s.charAt(i++);
        if (c == '}') return m;
        if (c != ',') throw bad("',' or '}' was expected");
      }
    }

    List<Object> arr() {
      List<Object> a = new ArrayList<>();
      ++i;
      ws();
      if (i < s.length() && s.charAt(i) == ']') { ++i; return a; }
      while (true) {
        ws();
        a.add(value());
        ws();
        if (i >= s.length()) throw bad("unexpected end");
        char c = s.charAt(i++);
        if (c == ']') return a;
        if (c != ',') throw bad("',' or ']' was expected");
      }
    }

    String str() {
      StringBuilder b = new StringBuilder();
      ++i;
      while (true) {
        if (i >= s.length()) throw bad("unterminated string");
        char c = s.charAt(i++);
        if (c == '"') return b.toString();
        if (c != '\\') { b.append(c); continue; }
        if (i >= s.length()) throw bad("unterminated escape");
        char e = s.charAt(i++);
        switch (e) {
          case '"': b.append('"'); break;
          case '\\': b.append('\\'); break;
          case '/': b.append('/'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case 'n': b.append('\n'); break;
          case 'r': b.append('\r'); break;
          case 't': b.append('\t'); break;
          case 'u':
            if (i + 4 > s.length()) throw bad("short \\u escape");
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
            break;
          default: throw bad("unknown escape");
        }
      }
    }

    Object num() {
      int start = i;
      boolean frac = false;
      while (i < s.length()) {
        char c = s.charAt(i);
        if ((c >= '0' && c <= '9') || c == '-' || c == '+') { ++i; continue; }
        if (c == '.' || c == 'e' || c == 'E') { frac = true; ++i; continue; }
        break;
      }
      if (start == i) throw bad("a value was expected");
      String t = s.substring(start, i);
      if (!frac) {
        try {
          return Long.parseLong(t);
        } catch (NumberFormatException ex) {
          // too large for a long: falls through to double
        }
      }
      return Double.parseDouble(t);
    }
  }
}

package vn.sonla.tram;

import java.nio.charset.StandardCharsets;

/** An error of the SDK: its code (tram.h's tram_status) and its message, which names table, row, field and rule. */
public class TramException extends Exception {
  private static final long serialVersionUID = 1L;

  /** tram.h's tram_status, with the same numbers. */
  public enum Code {
    OK(0), INVALID_ARGUMENT(1), NOT_FOUND(2), ALREADY_EXISTS(3), FORBIDDEN(4), NOT_ENROLLED(5), UNAVAILABLE(6),
    REJECTED(7), CANCELLED(8), CRYPTO(9), STORAGE(10), INTERNAL(11);

    public final int value;

    Code(int value) { this.value = value; }

    public static Code of(int value) {
      for (Code c : values()) if (c.value == value) return c;
      return INTERNAL;
    }
  }

  private final int codeValue;

  public TramException(int code, String message) {
    super(message);
    this.codeValue = code;
  }

  /** Called from JNI: the message as UTF-8 bytes. */
  TramException(int code, byte[] utf8Message) { this(code, new String(utf8Message, StandardCharsets.UTF_8)); }

  public Code code() { return Code.of(codeValue); }

  /** The numeric code as tram.h has it. */
  public int codeValue() { return codeValue; }

  @Override
  public String getMessage() { return code() + ": " + super.getMessage(); }

  /** The SDK's message alone, without the code. */
  public String sdkMessage() { return super.getMessage(); }
}

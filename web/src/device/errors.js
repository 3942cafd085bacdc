// Errors the device throws to the UI: a stable machine `code` and a `message` in both languages
// ({ vi, en }), so the UI can show the user's language without parsing English text.
// `retryable` tells the sync loop whether waiting and trying again can help (a link or server
// failure), as the SDK's `unavailable` does; a refusal is never retried.

export class DeviceError extends Error {
  constructor(code, message, extra = {}) {
    super(typeof message === 'string' ? message : message.en);
    this.name = 'DeviceError';
    this.code = code;
    // The {vi, en} pair replaces Error's string message (the UI reads message.vi / message.en);
    // toString() below still gives a readable English line for logs.
    Object.defineProperty(this, 'message', { value: typeof message === 'string' ? { vi: message, en: message } : message, enumerable: true });
    this.retryable = false;
    Object.assign(this, extra);
  }
  toString() { return `${this.code}: ${this.message.en}`; }
  toJSON() {
    const { code, message, retryable, status, retryAfterMs, problems, detail } = this;
    return { code, message, retryable, status, retryAfterMs, problems, detail };
  }
}

// core checkOps found problems: nothing was signed, no sequence number was used.
export class WriteRefused extends DeviceError {
  constructor(problems) {
    const first = problems[0] || { code: 'invalid_value', message: { vi: 'Dữ liệu không hợp lệ', en: 'invalid data' } };
    super('write_refused', first.message, { problems });
    this.name = 'WriteRefused';
  }
}

export const err = (code, en, vi, extra) => new DeviceError(code, { vi, en }, extra);

// The link failed (no connection, timeout, cut): always retryable.
export const offline = (en) => err('offline', en || 'no connection to the server',
  'Không kết nối được máy chủ', { retryable: true });

// What the server answered, as a DeviceError. 5xx and 429 are retryable, and carry the
// Retry-After the server asked for (every 429 and 503 has one, protocol §2).
const VI = {
  unauthenticated: 'Phiên làm việc đã hết hạn',
  unknown_device: 'Thiết bị chưa được đăng ký với máy chủ',
  device_revoked: 'Thiết bị đã bị thu hồi. Hãy liên hệ quản trị viên',
  device_quarantined: 'Thiết bị bị tạm khóa (chuỗi dữ liệu bị phân nhánh). Hãy liên hệ quản trị viên',
  unknown_user: 'Tài khoản không còn tồn tại',
  enrolment_refused: 'Mã đăng ký không hợp lệ, đã dùng hoặc đã hết hạn',
  rate_limited: 'Quá nhiều lần thử. Hãy chờ một lát',
  too_many_connections: 'Máy chủ đang bận. Hãy chờ một lát',
  server_busy: 'Máy chủ đang bận. Hãy chờ một lát',
  storage: 'Máy chủ gặp lỗi lưu trữ. Sẽ thử lại',
  too_large: 'Dữ liệu quá lớn',
  not_found: 'Không tìm thấy',
  malformed: 'Yêu cầu không hợp lệ',
  internal: 'Máy chủ gặp lỗi',
};

export function httpError(status, body, headers) {
  let code = `http_${status}`, en = `the server answered ${status}`, extra = {};
  try {
    const j = typeof body === 'string' ? JSON.parse(body) : body;
    if (j && j.error) { code = j.error.code || code; en = j.error.message || en; }
    if (j && j.received !== undefined) extra.received = j.received;
  } catch { /* not JSON: keep the status */ }
  const ra = headers && headers.get && headers.get('Retry-After');
  const retryAfterMs = ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined;
  const retryable = status >= 500 || status === 429;
  return err(code, en, VI[code] || `Máy chủ trả lời lỗi ${status} (${code})`, { status, retryable, retryAfterMs, ...extra });
}

// Anything else that escapes (a WireError from core, an IndexedDB failure, a bug) as a
// DeviceError, so the UI always gets a code and a message in both languages.
export function asDeviceError(e) {
  if (e instanceof DeviceError) return e;
  const name = e && e.name;
  if (name === 'QuotaExceededError') {
    return err('storage_full', 'the browser has no room left for this site', 'Bộ nhớ của trình duyệt đã đầy: hãy xóa bớt dữ liệu', { cause: e });
  }
  if (name === 'WireError') {
    const vi = e.code === 'bad_signature' ? 'Chữ ký của máy chủ không hợp lệ: không tin dữ liệu này'
      : e.code === 'schema_mismatch' ? 'Cấu trúc dữ liệu của máy chủ đã thay đổi: hãy tải lại ứng dụng'
        : 'Máy chủ trả lời không đúng định dạng';
    return err(e.code || 'malformed', e.message, vi, { cause: e });
  }
  if (name === 'KeyError') return err(e.code || 'key_error', e.message, 'Không dùng được khóa của thiết bị', { cause: e });
  const code = name === 'InvalidStateError' || name === 'UnknownError' || name === 'AbortError' ? 'storage' : 'internal';
  return err(code, `${name || 'Error'}: ${e && e.message}`, code === 'storage' ? 'Lỗi bộ nhớ của trình duyệt' : 'Lỗi trong ứng dụng', { cause: e });
}

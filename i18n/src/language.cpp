#include "tram/i18n/language.hpp"

#include <libintl.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace tram::i18n {

namespace {
bool g_vietnamese = false;
std::string g_locale_dir;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Where the catalogue is: next to the binary in the build tree (EXE_DIR/locale), beside an
// installed one (PREFIX/bin → PREFIX/share/locale, wherever PREFIX was moved), else the prefix
// it was configured for.
std::string find_locale_dir(const Catalogue& c) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const std::string mo = std::string("vi/LC_MESSAGES/") + c.domain + ".mo";
  if (!ec) {
    for (const fs::path& dir : {exe.parent_path() / "locale", exe.parent_path().parent_path() / "share" / "locale"}) {
      if (fs::exists(dir / mo, ec)) return dir.string();
    }
  }
  // A copy of the binary elsewhere (tests copy it) still finds the build tree's.
  if (c.build_dir && fs::exists(fs::path(c.build_dir) / mo, ec)) return c.build_dir;
  return c.install_dir ? c.install_dir : "";
}

bool starts_with_vi(const std::string& s) { return s.rfind("vi", 0) == 0 && (s.size() == 2 || s[2] == '_' || s[2] == '.' || s[2] == ':'); }
}  // namespace

std::string fmt(std::string_view message, std::initializer_list<std::string_view> args) {
  std::string out;
  out.reserve(message.size() + 32);
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '{' && i + 2 < message.size() && message[i + 1] >= '1' && message[i + 1] <= '9' && message[i + 2] == '}') {
      const size_t n = static_cast<size_t>(message[i + 1] - '1');
      if (n < args.size()) {
        out.append(*(args.begin() + n));
        i += 2;
        continue;
      }
    }
    out.push_back(message[i]);
  }
  return out;
}

bool vietnamese() { return g_vietnamese; }

bool init_language(const Catalogue& c, const std::string& flag, std::string& error) {
  std::string want = flag;
  if (!want.empty() && want != "vi" && want != "en") {
    // Both languages: the one wanted is not known yet.
    error = "--lang phải là vi (tiếng Việt) hoặc en (English) / --lang must be vi or en, not " + flag;
    want.clear();
  }
  if (want.empty()) {
    // POSIX order for messages; GNU gettext also reads LANGUAGE unless the locale is C.
    std::string locale = !env("LC_ALL").empty() ? env("LC_ALL") : !env("LC_MESSAGES").empty() ? env("LC_MESSAGES") : env("LANG");
    const bool c_locale = locale.empty() || locale == "C" || locale == "POSIX";
    if (!c_locale && !env("LANGUAGE").empty()) locale = env("LANGUAGE");
    want = starts_with_vi(locale) ? "vi" : "en";
  }
  g_locale_dir = find_locale_dir(c);
  ::bindtextdomain(c.domain, g_locale_dir.c_str());
  // Translations come out as UTF-8 whatever the terminal's LC_CTYPE says (no "?" for ư, ộ).
  ::bind_textdomain_codeset(c.domain, "UTF-8");
  // Only LC_MESSAGES changes: numbers keep their C form (parse_number and printf rely on it).
  if (want == "vi") {
    ::setenv("LANGUAGE", "vi", 1);
    // Without vi_VN.UTF-8 generated on the machine, C.UTF-8 with LANGUAGE=vi still selects the
    // catalogue (gettext ignores LANGUAGE only under the plain C locale).
    if (!std::setlocale(LC_MESSAGES, "vi_VN.UTF-8") && !std::setlocale(LC_MESSAGES, "C.UTF-8")) std::setlocale(LC_MESSAGES, "");
    // The empty msgid gives the catalogue's header when one is loaded (kept out of xgettext's sight).
    const char* const header = "";
    g_vietnamese = *::dgettext(c.domain, header) != '\0';
    if (!g_vietnamese) {
      std::fprintf(stderr, "%s: không tìm thấy bản tiếng Việt (%s/vi/LC_MESSAGES/%s.mo); hiển thị tiếng Anh.\n"
                           "%s: the Vietnamese messages were not found; showing English.\n",
                   c.program, g_locale_dir.c_str(), c.domain, c.program);
    }
  } else {
    ::unsetenv("LANGUAGE");
    std::setlocale(LC_MESSAGES, "C");
    g_vietnamese = false;
  }
  return error.empty();
}

}  // namespace tram::i18n

// The user's language for a command-line program: English msgids in the code, translations in
// the program's GNU gettext catalogue (po/DOMAIN/vi.po, compiled to DOMAIN.mo at build time by
// cmake/TramGettext.cmake). The language is --lang vi|en, else the locale (LC_ALL, LC_MESSAGES,
// LANG; LANGUAGE when the locale is not C), English otherwise. Machine-readable output (JSON,
// error codes, logs) is never translated.
#pragma once

#include <libintl.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace tram::i18n {

// A program's catalogue: its text domain and name (for the warning below), and where its .mo
// files are in the build tree and once installed (TRAM_BUILD_LOCALEDIR, TRAM_INSTALL_LOCALEDIR).
struct Catalogue {
  const char* domain;
  const char* program;
  const char* build_dir;
  const char* install_dir;
};

// Chooses the language and binds the catalogue; `flag` is --lang's value or "". Returns false
// (with `error` set, in both languages) for a --lang other than vi or en. Vietnamese works without
// the vi_VN.UTF-8 locale generated (C.UTF-8 with LANGUAGE=vi), and says so on stderr when the
// catalogue itself is missing rather than falling back to English in silence. Only LC_MESSAGES
// changes: numbers keep their C form.
bool init_language(const Catalogue& catalogue, const std::string& flag, std::string& error);
// Whether messages are shown in Vietnamese.
bool vietnamese();

// "{1}", "{2}" … in a (translated) message replaced by the arguments, so that a translation may
// put them in another order.
std::string fmt(std::string_view message, std::initializer_list<std::string_view> args);
template <class... A>
std::string fmt(std::string_view message, const A&... args) {
  return fmt(message, {std::string_view(args)...});
}

}  // namespace tram::i18n

// In a program's own namespace, TRAM_I18N_CATALOGUE("tram-field") defines what its code calls:
//   _("English")        the translation (xgettext --keyword=_ collects these);
//   N_("English")       a message kept in a table, translated where it is shown with _();
//   P_(one, many, n)    one or several (Vietnamese has one form, English two);
//   init_language(flag, error)   i18n::init_language for this catalogue, found through
//                       TRAM_BUILD_LOCALEDIR and TRAM_INSTALL_LOCALEDIR (set by tram_gettext()).
// plus fmt() and vietnamese(). A macro, because each program needs its own text domain baked in.
#define TRAM_I18N_CATALOGUE(DOMAIN)                                                                    \
  inline constexpr const char* kTextDomain = DOMAIN;                                                  \
  inline const char* _(const char* english) { return ::dgettext(kTextDomain, english); }              \
  constexpr const char* N_(const char* english) { return english; }                                   \
  inline const char* P_(const char* one, const char* many, unsigned long n) {                         \
    return ::dngettext(kTextDomain, one, many, n);                                                    \
  }                                                                                                   \
  inline bool init_language(const std::string& flag, std::string& error) {                            \
    return ::tram::i18n::init_language({kTextDomain, DOMAIN, TRAM_BUILD_LOCALEDIR, TRAM_INSTALL_LOCALEDIR}, \
                                        flag, error);                                                 \
  }                                                                                                   \
  using ::tram::i18n::fmt;                                                                            \
  using ::tram::i18n::vietnamese

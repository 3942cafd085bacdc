// Words people read, in their language: English msgids in the code, translations in GNU gettext
// catalogues (po/tram-field/vi.po, compiled to tram-field.mo at build time, cmake/TramGettext.cmake).
// The language is --lang vi|en, else the locale (LC_ALL, LC_MESSAGES, LANG; LANGUAGE when the locale
// is not C), English otherwise. What --json prints (keys, codes) is never translated.
#pragma once

#include <libintl.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace tram::field {

inline constexpr const char* kTextDomain = "tram-field";

// Translates a message (xgettext --keyword=_ collects these).
inline const char* _(const char* english) { return ::dgettext(kTextDomain, english); }
// Marks a message kept in a table, translated where it is shown with _().
constexpr const char* N_(const char* english) { return english; }
// One or several: Vietnamese has one form, English two.
inline const char* P_(const char* one, const char* many, unsigned long n) { return ::dngettext(kTextDomain, one, many, n); }

// "{1}", "{2}" … in a (translated) message replaced by the arguments: a translation may put them
// in another order.
std::string fmt(std::string_view message, std::initializer_list<std::string_view> args);
template <class... A>
std::string fmt(std::string_view message, const A&... args) {
  return fmt(message, {std::string_view(args)...});
}

// Chooses the language and binds the catalogue; `flag` is --lang's value or "". Returns false
// (with `error` set) for a --lang other than vi or en. Vietnamese asked for works without the
// vi_VN.UTF-8 locale installed (C.UTF-8 and LANGUAGE=vi), and says so on stderr when the
// catalogue itself cannot be found rather than falling back to English in silence.
bool init_language(const std::string& flag, std::string& error);
// Whether messages are shown in Vietnamese.
bool vietnamese();

}  // namespace tram::field

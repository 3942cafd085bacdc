// Words people read, in their language: English msgids in the code, translations in GNU gettext
// catalogues (po/tram-field/vi.po, compiled to tram-field.mo at build time, cmake/TramGettext.cmake).
// The language is --lang vi|en, else the locale (LC_ALL, LC_MESSAGES, LANG; LANGUAGE when the locale
// is not C), English otherwise. What --json prints (keys, codes) is never translated.
#pragma once

#include <string>

#include "tram/i18n/language.hpp"

namespace tram::field {

TRAM_I18N_CATALOGUE("tram-field");

}  // namespace tram::field

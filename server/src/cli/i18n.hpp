// What the operator reads on the terminal, in their language: English msgids in the code,
// translations in the GNU gettext catalogue po/tram-server/vi.po (compiled to tram-server.mo at
// build time, cmake/TramGettext.cmake). The language is --lang vi|en, else the locale (LC_ALL,
// LC_MESSAGES, LANG; LANGUAGE when the locale is not C), English otherwise. Never translated:
// error codes (invalid_value), JSON bodies, the server log and the audit trail (read by grep).
#pragma once

#include <string>

#include "tram/engine/status.hpp"
#include "tram/i18n/language.hpp"

namespace tram::server::cli {

TRAM_I18N_CATALOGUE("tram-server");

// A Status from the Service (English: the same text goes to API clients and the log) as the
// operator should read it: its code kept as is, the known messages translated.
std::string explain(const Status& st);

}  // namespace tram::server::cli

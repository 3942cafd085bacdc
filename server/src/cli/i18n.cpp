// The operator's language (i18n.hpp): the service's messages an operator meets, translated.
#include "cli/i18n.hpp"

#include <string>

namespace tram::server::cli {

std::string explain(const Status& st) {
  if (!vietnamese()) return st.to_string();
  const std::string& m = st.message();
  std::string said;
  // Messages of server/src/service.cpp and its storage met through `admin` commands, by their
  // fixed beginning; the code, name or id after it is kept.
  auto after = [&](std::string_view prefix) -> const char* {
    return m.rfind(prefix, 0) == 0 ? m.c_str() + prefix.size() : nullptr;
  };
  if (const char* rest = after("unknown unit code ")) {
    const std::string tail = rest;
    const std::string code = tail.substr(0, tail.find(' '));
    const std::string hint = tail.size() > code.size() ? tail.substr(code.size() + 1) : "";
    said = fmt(_("unknown unit code {1}"), code);
    if (hint.rfind("(did you mean ", 0) == 0 && hint.size() > 16) {
      said += " " + fmt(_("(did you mean {1}?)"), hint.substr(14, hint.size() - 16));
    } else if (hint.find("seed") != std::string::npos) {
      said += " " + std::string(_("(the reference data is not loaded: run tram-server seed first)"));
    } else if (!hint.empty()) {
      said += " " + std::string(_("(tram-server admin units lists the codes)"));
    }
  } else if (after("an official needs the units they report for")) {
    said = _("an official needs the units they report for (--units CODE,CODE; admin units lists them)");
  } else if (after("the user's name must be Unicode NFC")) {
    said = _("the user's name must be Unicode NFC, without leading or trailing spaces, at most 100 letters");
  } else if (after("user id must not be empty")) {
    said = _("user id must not be empty");
  } else if (const char* id = after("no such user ")) {
    said = fmt(_("no user {1}"), id);
  } else if (const char* id2 = after("no user ")) {
    said = fmt(_("no user {1}"), id2);
  } else if (after("no such device")) {
    said = _("no such device");
  } else if (after("an enrolment code lives 1 hour to 30 days")) {
    said = _("an enrolment code lives 1 hour to 30 days (--ttl-hours 1 to 720)");
  } else {
    return st.to_string();
  }
  // The code stays English: it is what a script or a support request quotes.
  return std::string(errc_name(st.code())) + ": " + said;
}

}  // namespace tram::server::cli

#include "wrapping_key.hpp"

#include "i18n.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tram/engine/crypto.hpp"

namespace tram::field {

namespace {

// Reads one line from the terminal with echo off; never from stdin, so scripts cannot hang here.
Result<std::string> ask(const char* prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY);
  if (fd < 0) {
    return Status(Errc::invalid_argument,
                  _("no terminal to ask for the passphrase: set TRAM_FIELD_KEY to 64 hex digits (the wrapping key: the secret that locks this device's signing key)"));
  }
  (void)!::write(fd, prompt, std::char_traits<char>::length(prompt));
  termios old{};
  const bool tty = ::tcgetattr(fd, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSANOW, &quiet);
  }
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (tty) ::tcsetattr(fd, TCSANOW, &old);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

Result<std::array<uint8_t, 32>> wrapping_key(const std::string& home, bool creating) {
  std::array<uint8_t, 32> key{};
  if (const char* env = std::getenv("TRAM_FIELD_KEY"); env && *env) {
    auto parsed = from_hex<32>(env);
    if (!parsed) return Status(Errc::invalid_argument, _("TRAM_FIELD_KEY must be exactly 64 hex digits"));
    return *parsed;
  }
  crypto_init();
  const std::filesystem::path salt_path = std::filesystem::path(home) / "passphrase.salt";
  std::array<uint8_t, crypto_pwhash_SALTBYTES> salt{};
  std::ifstream in(salt_path, std::ios::binary);
  const bool have_salt = in && in.read(reinterpret_cast<char*>(salt.data()), salt.size()) && in.gcount() == salt.size();
  if (!have_salt && !creating) {
    return Status(Errc::not_found, fmt(_("no passphrase salt in {1}: set TRAM_FIELD_KEY, or enrol this home with `tram-field init`"), home));
  }
  auto pass = ask(_("Passphrase for this device: "));
  if (!pass.ok()) return pass.status();
  if (pass->size() < 8) return Status(Errc::invalid_argument, _("the passphrase must have at least 8 characters"));
  if (!have_salt) {
    auto again = ask(_("Repeat the passphrase: "));
    if (!again.ok()) return again.status();
    if (*again != *pass) return Status(Errc::invalid_argument, _("the two passphrases differ"));
    randombytes_buf(salt.data(), salt.size());
    std::ofstream out(salt_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(salt.data()), salt.size());
    if (!out.flush()) return Status(Errc::storage_error, fmt(_("cannot write {1}"), salt_path.string()));
    ::chmod(salt_path.c_str(), 0600);
  }
  // Argon2id at libsodium's interactive cost: about 0.1 s and 64 MiB on a phone-class CPU.
  const int rc = crypto_pwhash(key.data(), key.size(), pass->data(), pass->size(), salt.data(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
  sodium_memzero(pass->data(), pass->size());
  if (rc != 0) return Status(Errc::storage_error, _("not enough memory to derive the key from the passphrase"));
  return key;
}

}  // namespace tram::field

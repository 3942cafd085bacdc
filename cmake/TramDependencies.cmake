# Every third-party library comes from Debian's packages (scripts/setup-deps.sh installs them).
# Imported targets: PkgConfig::SQLITE3, PkgConfig::SODIUM, PkgConfig::ICU, PkgConfig::ZLIB, PkgConfig::DEFLATE, PkgConfig::RE2,
# PkgConfig::XLSXWRITER, simdjson::simdjson.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc icu-i18n)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(DEFLATE REQUIRED IMPORTED_TARGET libdeflate)  # whole-buffer gzip, 2-3x zlib's speed
# Schema patterns: linear-time matching without recursion (std::regex overflows the stack on long input).
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)  # the province report as .xlsx
if(CMAKE_CROSSCOMPILING AND NOT EXISTS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/simdjson)
  # Debian's libsimdjson-dev is for one architecture at a time: a cross build links the target's
  # runtime library (libsimdjson14:<arch>) with the host package's headers (scripts/setup-arm64.sh).
  find_library(SIMDJSON_TARGET_LIB NAMES libsimdjson.so.14 simdjson REQUIRED)
  add_library(simdjson::simdjson SHARED IMPORTED)
  # As Debian's own simdjson target says (simdjsonTargets.cmake): the library is built with
  # threads, and every unit including simdjson.h must agree, or dom::parser's layout differs
  # between units (-pthread, which RE2 brings, turns the threads on in simdjson.h by itself).
  find_package(Threads REQUIRED)
  set_target_properties(simdjson::simdjson PROPERTIES IMPORTED_LOCATION ${SIMDJSON_TARGET_LIB}
                                                      INTERFACE_INCLUDE_DIRECTORIES /usr/include
                                                      INTERFACE_COMPILE_DEFINITIONS SIMDJSON_THREADS_ENABLED=1
                                                      INTERFACE_LINK_LIBRARIES Threads::Threads)
else()
  find_package(simdjson REQUIRED CONFIG)
endif()
if(TRAM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TRAM_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

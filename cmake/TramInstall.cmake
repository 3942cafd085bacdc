# `cmake --install build/dev --prefix PREFIX`: what an app team or a server host needs, laid out
# with GNUInstallDirs (docs/client-sdk.md §10, docs/operations.md §10):
#
#   bin/tram-server, bin/tram-field
#   include/tram/tram.h, tram/version.h            the C API (and the generated version header)
#   include/tram/engine/*.hpp                      the engine's public headers
#   lib/libtram_client.so.X.Y.Z (+ soname links)   the C API; engine, Beast and OpenSSL inside
#   lib/libtram_engine.a                           the engine (static)
#   include/tram/client.hpp, transport.hpp,        the C++ API (static), component cxx
#     lib/libtram_client_cxx.a, libtram_client_beast.a
#   lib/cmake/Tram/                                find_package(Tram CONFIG): Tram::client, Tram::engine
#                                                  (COMPONENTS cxx: Tram::client_cxx)
#   lib/pkgconfig/tram-client.pc                   pkg-config --cflags --libs tram-client
#   share/tram/schemas/                            the schemas and their seed rows
#   share/doc/tram/                                README.md and docs/
#   lib/systemd/system/tram-server.service, lib/sysusers.d/tram.conf, etc/tram/tram.conf
#
# Files that name the final prefix (the unit, the .pc file, tram.conf) are written at install
# time from the prefix actually used (`--prefix` may differ from CMAKE_INSTALL_PREFIX), so an
# install into a temporary prefix is self-consistent (tests/consumer/run.sh checks it).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TRAM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Tram CACHE STRING "Where the CMake package files go (under the prefix)")
set(TRAM_SYSTEMD_UNITDIR lib/systemd/system CACHE STRING "Where the systemd unit goes (under the prefix unless absolute)")
set(TRAM_SYSUSERSDIR lib/sysusers.d CACHE STRING "Where the sysusers.d file goes (under the prefix unless absolute)")

# The exported names: Tram::engine, Tram::client.
set_target_properties(tram_engine PROPERTIES EXPORT_NAME engine)
set_target_properties(tram_client_shared PROPERTIES EXPORT_NAME client)
add_library(Tram::engine ALIAS tram_engine)
add_library(Tram::client ALIAS tram_client_shared)

install(TARGETS tram_engine tram_client_shared EXPORT TramTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk NAMELINK_COMPONENT sdk
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/client-sdk/include/tram/tram.h ${TRAM_GENERATED_INCLUDE_DIR}/tram/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tram COMPONENT sdk)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/include/tram/engine
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tram COMPONENT sdk FILES_MATCHING PATTERN "*.hpp")

install(EXPORT TramTargets NAMESPACE Tram:: DESTINATION ${TRAM_INSTALL_CMAKEDIR} COMPONENT sdk)

# The C++ API (component cxx: find_package(Tram CONFIG COMPONENTS cxx)): Tram::client_cxx, the
# static libtram_client_cxx.a with tram/client.hpp and tram/transport.hpp, and the Beast/Asio
# code it needs (Tram::client_beast). Apart from the C API because it needs Boost's headers
# and OpenSSL at the app's link.
set_target_properties(tram_client PROPERTIES EXPORT_NAME client_cxx)
set_target_properties(tram_client_beast PROPERTIES EXPORT_NAME client_beast)
add_library(Tram::client_cxx ALIAS tram_client)
install(TARGETS tram_client tram_client_beast EXPORT TramCxxTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/client-sdk/include/tram/client.hpp ${PROJECT_SOURCE_DIR}/client-sdk/include/tram/transport.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tram COMPONENT sdk)
install(EXPORT TramCxxTargets NAMESPACE Tram:: DESTINATION ${TRAM_INSTALL_CMAKEDIR} COMPONENT sdk)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/TramConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/TramConfig.cmake INSTALL_DESTINATION ${TRAM_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/TramConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${TRAM_PACKAGE_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/package/TramConfig.cmake ${PROJECT_BINARY_DIR}/package/TramConfigVersion.cmake
  DESTINATION ${TRAM_INSTALL_CMAKEDIR} COMPONENT sdk)

# The programs, the schemas they load, the documentation.
install(TARGETS tram-field RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
if(TARGET tram-server)  # not in a device-only (ARM64) build
  install(TARGETS tram-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tram/schemas COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc)

# Written at install time for the prefix in use: tram-client.pc, the systemd unit, tram.conf
# (the last only when absent: an operator's edited file is kept).
set(_tram_generated_vars "
  set(TRAM_PROJECT_VERSION \"${PROJECT_VERSION}\")
  set(TRAM_SRC_PACKAGING \"${PROJECT_SOURCE_DIR}/packaging\")
  set(TRAM_SRC_CMAKE \"${CMAKE_CURRENT_LIST_DIR}\")
  set(TRAM_STAGING \"${PROJECT_BINARY_DIR}/package/staging\")
  set(TRAM_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(TRAM_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(TRAM_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(TRAM_DATADIR \"${CMAKE_INSTALL_DATADIR}\")
  set(TRAM_SYSTEMD_UNITDIR \"${TRAM_SYSTEMD_UNITDIR}\")
  set(TRAM_SYSUSERSDIR \"${TRAM_SYSUSERSDIR}\")")
install(CODE "${_tram_generated_vars}\n  set(TRAM_GENERATE sdk)" COMPONENT sdk)
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/TramInstallGenerated.cmake COMPONENT sdk)
if(TARGET tram-server)  # the unit and tram.conf: not in a device-only build
  install(CODE "${_tram_generated_vars}\n  set(TRAM_GENERATE server)" COMPONENT server)
  install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/TramInstallGenerated.cmake COMPONENT server)
endif()

# Tests of the installed tree (label `install`; both run in `make test` and CI, which exclude no
# label): an outside project built against it, and the systemd unit through systemd-analyze.
# Not in a cross build: the consumer is built with the project's compilers and run here.
if(TRAM_BUILD_TESTS AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME install.consumer
           COMMAND ${PROJECT_SOURCE_DIR}/tests/consumer/run.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}/tests/consumer
                   ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER} $<IF:$<BOOL:${TRAM_SANITIZE}>,1,0>)
  # Each installs into its own temporary prefix (one at a time: they share the staging directory).
  set_tests_properties(install.consumer PROPERTIES LABELS install TIMEOUT 300 RESOURCE_LOCK tram_install_staging)
  if(TARGET tram-server)
    add_test(NAME install.systemd_unit
             COMMAND ${PROJECT_SOURCE_DIR}/tests/consumer/systemd_verify.sh ${PROJECT_BINARY_DIR})
    set_tests_properties(install.systemd_unit PROPERTIES LABELS install TIMEOUT 120 SKIP_RETURN_CODE 77
                         RESOURCE_LOCK tram_install_staging)
  endif()
endif()

# The SDK's version comes from one place: project(tram VERSION ...) in the top-level CMakeLists.
# It feeds the generated header tram/version.h (TRAM_VERSION_STRING, what tram_version() returns),
# the soname of libtram_client.so, the CMake package's version file and tram-client.pc.
#
# Soname: while the major version is 0 every minor version may break the ABI, so the soname
# carries major.minor (libtram_client.so.0.1); from 1.0 on, the major version alone.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(TRAM_SOVERSION "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}")
  set(TRAM_PACKAGE_COMPATIBILITY SameMinorVersion)
else()
  set(TRAM_SOVERSION "${PROJECT_VERSION_MAJOR}")
  set(TRAM_PACKAGE_COMPATIBILITY SameMajorVersion)
endif()

set(TRAM_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/generated/include)
configure_file(${CMAKE_CURRENT_LIST_DIR}/tram_version.h.in ${TRAM_GENERATED_INCLUDE_DIR}/tram/version.h @ONLY)

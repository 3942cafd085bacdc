# ARM64 (aarch64) Linux, what phones run: Debian's cross compiler (crossbuild-essential-arm64) and
# multiarch -dev:arm64 packages (scripts/setup-arm64.sh installs both), tests run under qemu-user.
# Used by the `arm64` preset: the device side only (engine, client SDK, tram-field and their
# tests); the tests talk to an x86-64 tram-server built by the `dev` preset (a device on ARM
# talking to the province server).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Libraries and pkg-config files of the target only; headers from /usr/include are shared.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# ctest and gtest_discover_tests run the test binaries through qemu. `-L /`: the loader and libc
# of the multiarch libc6:arm64 that the -dev:arm64 packages bring, not the cross toolchain's copy
# in /usr/aarch64-linux-gnu: the two are different builds of glibc 2.36, and a loader of one with
# the libc of the other hangs in the first pthread_create.
# By absolute path (Debian's qemu-user): tests run tram-field with a PATH of their own.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64 -L /)
# GCC 12's -Wrestrict misfires inside std::string at -O2 and above (GCC bug 105329): a warning
# here, not an error, so that TRAM_WERROR stays on for everything else.
set(CMAKE_CXX_FLAGS_INIT "-Wno-error=restrict")

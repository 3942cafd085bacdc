# Warning and sanitizer flags shared by every Tram target, through the interface target
# tram_options (link it, don't copy flags).
add_library(tram_options INTERFACE)
target_compile_options(tram_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual)
if(TRAM_WERROR)
  target_compile_options(tram_options INTERFACE -Werror)
endif()
if(TRAM_SANITIZE)
  target_compile_options(tram_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(tram_options INTERFACE -fsanitize=address,undefined)
  # GCC 12 reports false -Wmaybe-uninitialized inside libstdc++ (std::regex, std::variant)
  # once sanitizers change inlining; keep the sanitizer build's -Werror for everything else.
  target_compile_options(tram_options INTERFACE -Wno-maybe-uninitialized)
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

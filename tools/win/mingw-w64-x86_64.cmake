# Cross-compiling edict for 64-bit Windows with Debian's mingw-w64 (posix threads model, so
# std::thread, std::mutex and Abseil's synchronisation work). Used by tools/win/build-and-test.sh:
#
#   cmake -S . -B build-win -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#     -DEDICT_WIN_DEPS_PREFIX=<prefix with abseil, flatbuffers, mbedtls, googletest> \
#     -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/lib/wine/wine64
#
# Libraries, headers and CMake packages are searched ONLY in the mingw sysroot and the deps
# prefix; programs ONLY on the host (so the host flatc is used, never a Windows one).

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_edict_triple x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_edict_triple}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_edict_triple}-g++-posix)
set(CMAKE_RC_COMPILER ${_edict_triple}-windres)
set(CMAKE_AR ${_edict_triple}-gcc-ar-posix CACHE FILEPATH "archiver")
set(CMAKE_RANLIB ${_edict_triple}-gcc-ranlib-posix CACHE FILEPATH "ranlib")

# The prefix holding the cross-built third-party libraries (a cache variable, or the
# environment when CMake re-reads this file for try_compile projects).
if(NOT EDICT_WIN_DEPS_PREFIX AND DEFINED ENV{EDICT_WIN_DEPS_PREFIX})
  set(EDICT_WIN_DEPS_PREFIX "$ENV{EDICT_WIN_DEPS_PREFIX}")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDICT_WIN_DEPS_PREFIX)

set(CMAKE_FIND_ROOT_PATH /usr/${_edict_triple})
if(EDICT_WIN_DEPS_PREFIX)
  list(APPEND CMAKE_FIND_ROOT_PATH "${EDICT_WIN_DEPS_PREFIX}")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained .exe files: no libstdc++/libgcc/winpthread DLLs to ship next to them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

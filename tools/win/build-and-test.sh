#!/usr/bin/env bash
# Cross-builds edict for 64-bit Windows (mingw-w64, posix threads, static) and runs the test
# suite under wine, headless. Called by `tools/dev test`; runnable on its own.
#
#   tools/win/build-and-test.sh            install what is missing, build deps (cached), build,
#                                          test
#   tools/win/build-and-test.sh build      same without running the tests
#
# Third-party libraries (abseil, flatbuffers, mbedtls, googletest) are built from Debian's own
# source packages (`apt-get source`, with a private apt configuration under the cache, so the
# system's apt configuration is left as it is) into a cache
# keyed by their versions and the compiler version, so the second run reuses them. flatc is the
# host one; its version must equal the cross-built FlatBuffers runtime's.
#
# Environment:
#   WIN_BUILD_DIR        build directory (default: <repo>/build-win)
#   EDICT_WIN_DEPS_CACHE cache root (default: $XDG_CACHE_HOME or ~/.cache, /edict-win-deps)
#   JOBS                 parallel jobs (default 2)
#   EDICT_NO_INSTALL=1   skip apt (packages must be present)
#   CTEST_ARGS           extra ctest arguments (e.g. "-R ports_windows")
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${WIN_BUILD_DIR:-$here/build-win}
cache_root=${EDICT_WIN_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edict-win-deps}
jobs=${JOBS:-2}
triple=x86_64-w64-mingw32
toolchain=$here/tools/win/mingw-w64-x86_64.cmake
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver64
# Bump when the way the dependencies are built changes (invalidates the cache).
recipe=1

sources=(abseil flatbuffers mbedtls googletest)
packages=(g++-mingw-w64-x86-64-posix wine64 dpkg-dev cmake ninja-build flatbuffers-compiler)

t_start=$(date +%s)
log() { printf '\033[1m== [win %4ss] %s\033[0m\n' "$(($(date +%s) - t_start))" "$*"; }
die() { printf 'build-and-test.sh: %s\n' "$*" >&2; exit 1; }

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

install_packages() {
  [ "${EDICT_NO_INSTALL:-0}" = 1 ] && return 0
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# `apt-get source` and `apt-cache showsrc` run with a private apt configuration under the
# cache: a deb-src twin of every `Types: deb` stanza of the system's deb822 sources (same
# URIs, suites, components and key) in its own sources directory, with its own package lists
# and cache, so exactly Debian's packages are fetched and the system's apt configuration
# (/etc/apt, /var/lib/apt/lists) is never changed.
apt_private=$cache_root/apt
apt_opts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$apt_private/sources.list.d"
  -o "Dir::State::Lists=$apt_private/lists" -o "Dir::Cache=$apt_private/cache"
  -o "Dir::State::status=/var/lib/dpkg/status" -o "APT::Sandbox::User=$(id -un)")
apt_src() { "$@" "${apt_opts[@]}"; }

ensure_deb_src() {
  local src=/etc/apt/sources.list.d/debian.sources
  # Earlier versions of this script wrote this file into the system's configuration.
  local legacy=/etc/apt/sources.list.d/edict-deb-src.sources
  if [ -f "$legacy" ]; then
    log "removing $legacy (written by an earlier version of this script)"
    $sudo rm -f "$legacy"
  fi
  mkdir -p "$apt_private/sources.list.d" "$apt_private/lists/partial" "$apt_private/cache/archives/partial"
  [ -f "$src" ] || die "no $src to derive a deb-src entry from"
  local want
  want=$(sed -n 's/^Types:[[:space:]]*deb$/Types: deb-src/; p' "$src")
  if [ "$want" != "$(cat "$apt_private/sources.list.d/deb-src.sources" 2>/dev/null)" ]; then
    printf '%s\n' "$want" >"$apt_private/sources.list.d/deb-src.sources"
    rm -f "$apt_private/lists/"*_Sources* 2>/dev/null || true
  fi
  # Source lists older than a day are refreshed (the private lists only, never the system's).
  if [ -n "$(find "$apt_private/lists" -maxdepth 1 -name '*_Sources*' -mtime -1 2>/dev/null | head -1)" ] &&
    apt_src apt-cache showsrc --only-source "${sources[@]}" 2>/dev/null | grep -q '^Version:'; then
    return 0
  fi
  log "updating the private deb-src lists in $apt_private"
  apt_src apt-get update -qq >"$apt_private/update.log" 2>&1 ||
    { tail -20 "$apt_private/update.log"; die "apt-get update (private deb-src lists) failed"; }
}

# "name=version" of the source package apt would fetch.
source_version() {
  apt_src apt-cache showsrc --only-source "$1" | awk '/^Version:/ {print $2}' | sort -V | tail -1
}

cmake_dep() {  # <name> <source dir> [cmake args...]
  local name=$1 dir=$2
  shift 2
  local t0
  t0=$(date +%s)
  cmake -S "$dir" -B "$work/build-$name" -G Ninja -Wno-dev \
    -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DEDICT_WIN_DEPS_PREFIX="$prefix" \
    -DBUILD_SHARED_LIBS=OFF "$@" >"$work/$name.configure.log" 2>&1 ||
    { tail -30 "$work/$name.configure.log"; die "configuring $name failed"; }
  cmake --build "$work/build-$name" -j "$jobs" >"$work/$name.build.log" 2>&1 ||
    { tail -30 "$work/$name.build.log"; die "building $name failed"; }
  cmake --install "$work/build-$name" >"$work/$name.install.log" 2>&1 ||
    { tail -30 "$work/$name.install.log"; die "installing $name failed"; }
  log "  $name built in $(($(date +%s) - t0)) s"
}

build_deps() {
  ensure_deb_src
  local key_text="recipe=$recipe cc=$($triple-g++-posix --version | head -1)"
  for s in "${sources[@]}"; do
    local v
    v=$(source_version "$s")
    [ -n "$v" ] || die "apt-cache showsrc found no source package $s"
    key_text+=" $s=$v"
  done
  local key
  key=$(printf '%s' "$key_text" | sha256sum | cut -c1-16)
  deps_dir=$cache_root/$key
  prefix=$deps_dir/prefix
  if [ -f "$deps_dir/complete" ]; then
    log "third-party libraries: cached ($deps_dir)"
    return 0
  fi
  log "third-party libraries: building into $deps_dir ($key_text)"
  rm -rf "$deps_dir"
  work=$deps_dir/work
  mkdir -p "$work/src" "$prefix"
  (cd "$work/src" && apt_src apt-get source -qq --only-source "${sources[@]}" >"$work/apt-source.log" 2>&1) ||
    { tail -20 "$work/apt-source.log"; die "apt-get source failed"; }

  d() { find "$work/src" -maxdepth 1 -mindepth 1 -type d -name "$1-*" | head -1; }
  cmake_dep mbedtls "$(d mbedtls)" -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF
  cmake_dep googletest "$(d googletest)" -Dgtest_force_shared_crt=ON
  cmake_dep flatbuffers "$(d flatbuffers)" -DFLATBUFFERS_BUILD_TESTS=OFF \
    -DFLATBUFFERS_BUILD_FLATC=OFF -DFLATBUFFERS_BUILD_FLATHASH=OFF
  cmake_dep abseil "$(d abseil)" -DCMAKE_CXX_STANDARD=17 -DABSL_PROPAGATE_CXX_STD=ON \
    -DBUILD_TESTING=OFF
  # The cross build has no flatc (it would be a Windows program); the consumer's
  # find_package(FlatBuffers) gets flatbuffers::flatc pointing at the host compiler.
  local cfgdir
  cfgdir=$(dirname "$(find "$prefix" -name 'FlatBuffersConfig.cmake' -o -name 'FlatbuffersConfig.cmake' | head -1)")
  [ -d "$cfgdir" ] || die "no FlatBuffers CMake config in $prefix"
  cat >"$cfgdir/FlatcTargets.cmake" <<EOF
# Written by tools/win/build-and-test.sh: the host flatc for a cross build.
if(NOT TARGET flatbuffers::flatc)
  add_executable(flatbuffers::flatc IMPORTED)
  set_target_properties(flatbuffers::flatc PROPERTIES IMPORTED_LOCATION "$(command -v flatc)")
endif()
EOF
  printf '%s\n' "$key_text" >"$deps_dir/versions"
  rm -rf "$work"  # sources and build trees; only the installed prefix is kept
  touch "$deps_dir/complete"
}

check_flatc_version() {
  local host runtime
  host=$(flatc --version | awk '{print $3}')
  runtime=$(awk '/#define FLATBUFFERS_VERSION_(MAJOR|MINOR|REVISION)/ {print $3}' \
    "$prefix/include/flatbuffers/base.h" | paste -sd.)
  [ "$host" = "$runtime" ] ||
    die "host flatc $host does not match the cross-built FlatBuffers runtime $runtime"
  log "flatc $host matches the Windows FlatBuffers runtime $runtime"
}

# A throwaway prefix and a persistent wineserver, started detached from any pipe a build or
# ctest reads (wine's services would otherwise inherit it and keep ctest/ninja waiting).
wine_up() {
  export WINEPREFIX=${WINEPREFIX_OVERRIDE:-$(mktemp -d /tmp/edict-wine.XXXXXX)}
  export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
  setsid "$wineserver" -p </dev/null >/dev/null 2>&1 &
  "$wine" wineboot -i </dev/null >/dev/null 2>&1 || die "wineboot failed in $WINEPREFIX"
  # `wineboot -i` on a fresh prefix leaves two services.exe running (the loader initialises
  # the prefix too); each sees only part of the services, so a service the tests create
  # cannot be started. Restart on the now complete prefix: one service control manager.
  "$wineserver" -k && "$wineserver" -w
  setsid "$wineserver" -p </dev/null >/dev/null 2>&1 &
  "$wine" wineboot </dev/null >/dev/null 2>&1 || die "wineboot failed in $WINEPREFIX"
  log "wine prefix $WINEPREFIX booted ($("$wine" --version 2>/dev/null || echo wine))"
}

wine_down() {
  [ -n "${WINEPREFIX:-}" ] || return 0
  "$wineserver" -k >/dev/null 2>&1 || true
  "$wineserver" -w >/dev/null 2>&1 || true
  case "$WINEPREFIX" in /tmp/edict-wine.*) rm -rf "$WINEPREFIX" ;; esac
}

configure_and_build() {
  log "configuring edict for Windows in $build"
  mkdir -p "$build"
  cmake -S "$here" -B "$build" -G Ninja -Wno-dev \
    -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
    -DEDICT_WIN_DEPS_PREFIX="$prefix" \
    -DCMAKE_CROSSCOMPILING_EMULATOR="$wine" \
    -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST \
    -DEDICT_BUILD_BENCHMARKS=OFF >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; die "configure failed"; }
  log "building (-j$jobs)"
  cmake --build "$build" -j "$jobs"
}

# Sub-stage timings for tools/dev's table (EDICT_TIMINGS: see tools/dev).
record() {  # record NAME SECONDS [STATUS]
  [ -n "${EDICT_TIMINGS:-}" ] || return 0
  printf '%s\t%d\t%s\n' "$1" "$2" "${3:-ok}" >>"$EDICT_TIMINGS"
}

main() {
  local t0
  t0=$(date +%s)
  install_packages
  record win-apt $(($(date +%s) - t0))
  t0=$(date +%s)
  build_deps
  local t_deps=$(($(date +%s) - t0))
  record win-deps "$t_deps"
  check_flatc_version
  mkdir -p "$(dirname "$build")"
  trap wine_down EXIT
  t0=$(date +%s)
  wine_up  # before the build: gen_catalog and test discovery run under wine
  record win-wineboot $(($(date +%s) - t0))
  t0=$(date +%s)
  configure_and_build
  local t_build=$(($(date +%s) - t0)) t_test=0 rc=0
  record win-build "$t_build"
  if [ "${1:-test}" != build ]; then
    log "running the Windows test suite under wine"
    t0=$(date +%s)
    # wine now and then fails to start a test process at all (seen in CI: a pure-function
    # test "failed" in 0.01 s with no output, and passed on its own). A failed test is run
    # once more, and the log says so; a test that fails twice fails the run.
    # shellcheck disable=SC2086
    ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 900 \
      --repeat until-pass:2 ${CTEST_ARGS:-} || rc=$?
    t_test=$(($(date +%s) - t0))
    record win-tests "$t_test" "$([ $rc -eq 0 ] && echo ok || echo FAILED)"
  fi
  log "timings: deps ${t_deps} s, build ${t_build} s, tests ${t_test} s, total $(($(date +%s) - t_start)) s"
  return $rc
}

main "$@"

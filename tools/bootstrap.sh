#!/bin/sh
# Installs pedlab's build dependencies from Debian when run as root; otherwise prints the one
# apt-get line to run. Extra package names may be passed as arguments (e.g. valgrind clang).
#
#   sh tools/bootstrap.sh                 what building needs
#   sh tools/bootstrap.sh --optional ...  and what the optional tests and checkers use (a test
#                                         skips, counted and named, when its package is missing)
set -e
# building: compiler, CMake, Lua 5.4 headers, BLAS/LAPACK, JSON, CSV, readline, zlib (.npz)
PKGS="cmake make gcc pkg-config liblua5.4-dev libopenblas-dev liblapacke-dev libcjson-dev libcsv-dev libreadline-dev zlib1g-dev"
# optional tests (each skips, counted and named, without its package; .ci/run fails then):
# stock Lua + LuaRocks (install), headless Chromium (HTML report), NumPy (files written by
# Python), MPI (distributed sweeps), groff (the man page), PyYAML (CITATION.cff), script(1)
# (progress on a terminal), tmux (the REPL), valgrind, clang + its runtime (make fuzz), luacheck
# (make lint)
OPTIONAL="lua5.4 luarocks chromium python3 python3-numpy python3-yaml libopenmpi-dev openmpi-bin
  groff-base bsdutils tmux valgrind clang libclang-rt-14-dev lua-check"
if [ "${1:-}" = --optional ]; then
  shift
  PKGS="$PKGS $OPTIONAL"
fi
PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "pedlab: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq $missing >&2
else
  echo "pedlab: missing Debian packages. Run:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  exit 1
fi

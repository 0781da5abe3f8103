#!/bin/sh
# Installs pedlab's build dependencies from Debian when run as root; otherwise prints the one
# apt-get line to run. Extra package names may be passed as arguments (e.g. valgrind clang).
set -e
PKGS="cmake make gcc pkg-config liblua5.4-dev libopenblas-dev liblapacke-dev libcjson-dev libcsv-dev libreadline-dev $*"
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

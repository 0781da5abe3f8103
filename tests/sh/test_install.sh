#!/bin/bash
# The install: `cmake --install --prefix` into a temporary folder, pkg-config naming that
# prefix, a C program built against the installed libpedlab, `pedlab --lua-path` and a stock
# lua5.4 scoring a dataset with the installed module (also after the prefix is moved), the
# man page, CITATION.cff; then `luarocks make` into a temporary tree and the same from
# LuaRocks' paths. Writes only below a temporary folder (the build folder's install manifest,
# which `cmake --install` rewrites, is put back as it was, so it still lists a real install).
# Usage: test_install.sh PEDLAB (in its build folder)
set -u
P="$1"
S="${PL_SOURCE_DIR}"
BUILD=$(cd "$(dirname "$P")" && pwd)
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
manifest="$BUILD/install_manifest.txt"
[ -e "$manifest" ] && cp -p "$manifest" "$tmp/manifest.saved"
restore() {
  if [ -e "$tmp/manifest.saved" ]; then cp -p "$tmp/manifest.saved" "$manifest"
  else rm -f "$manifest"; fi
  rm -rf "$tmp"
}
trap restore EXIT
# expected numbers: the test script run by the pedlab host itself
want=$("$P" "$S/tests/lua/stock_lua.lua") || bad "stock_lua.lua in the pedlab host: $want"

# A sanitizer build's module and library cannot be loaded by a stock lua5.4 or linked without
# the sanitizer runtime: there, only the installed files and the executable are checked.
plain=1
grep -q '^PL_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null && plain=0

# ---- cmake --install --prefix ----
pre="$tmp/p r'e"    # a space and a quote: every path below must be quoted right
if cmake --install "$BUILD" --prefix "$pre" >"$tmp/install.log" 2>&1; then
  ok "cmake --install --prefix"
else bad "cmake --install --prefix: $(tail -n 3 "$tmp/install.log")"; fi
for f in bin/pedlab include/pedlab/pl.h share/lua/5.4/pedlab/init.lua lib/lua/5.4/pedlab/core.so \
         share/pedlab/scripts/pedlab/cli.lua share/man/man1/pedlab.1; do
  [ -e "$pre/$f" ] && ok "installed $f" || bad "installed $f"
done
out=$("$pre/bin/pedlab" -v) && ok "installed pedlab runs" || bad "installed pedlab -v: $out"
out=$("$pre/bin/pedlab" --help 2>&1)
echo "$out" | grep -qE '^  score +[a-z]' && ok "installed pedlab --help lists the commands" \
  || bad "installed pedlab --help: $out"

# ---- the man page: renders without warnings, names every command and every flag ----
man="$S/docs/pedlab.1"
if command -v groff >/dev/null; then
  out=$(groff -man -ww -z "$man" 2>&1)
  [ -z "$out" ] && ok "groff -man -ww: no warnings" || bad "groff -man -ww: $out"
else
  skipped "man page rendering (groff not installed: apt-get install groff-base)"
fi
missing=""
for c in "" demo score rank sweep metrics; do
  [ -z "$c" ] || grep -q "^\.SS $c\$" "$man" || missing="$missing $c"
  for f in $("$P" $c --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qF -- "$(echo "$f" | sed 's/-/\\-/g')" "$man" || missing="$missing ${c:-pedlab} $f"
  done
done
[ -z "$missing" ] && ok "the man page names every command and flag" \
  || bad "docs/pedlab.1 lacks:$missing"

# ---- CITATION.cff: CFF 1.2.0's required keys, every reference complete ----
cff_check='
import sys, yaml
d = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
missing = [k for k in ("cff-version", "message", "title", "authors") if not d.get(k)]
assert not missing and d["cff-version"] == "1.2.0", "missing or wrong: %s" % missing
for r in d["references"]:
    assert r.get("type") and r.get("title") and r.get("authors") and r.get("year"), r
print(len(d["references"]))'
if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  out=$(/usr/bin/python3 -c "$cff_check" "$S/CITATION.cff" 2>&1)
  [ "$out" -ge 15 ] 2>/dev/null && ok "CITATION.cff: $out references" || bad "CITATION.cff: $out"
else
  skipped "CITATION.cff check (python3-yaml not installed)"
fi

# ---- pkg-config names the install prefix (and with DESTDIR, the final one) ----
pre2="$tmp/pc"
cmake --install "$BUILD" --prefix "$pre2" >/dev/null 2>&1 || bad "install to $pre2"
pc="$pre2/lib/pkgconfig/pedlab.pc"
if ! command -v pkg-config >/dev/null; then
  skipped "pkg-config (not installed)"
else
  cflags=$(PKG_CONFIG_PATH="$pre2/lib/pkgconfig" pkg-config --cflags pedlab)
  libs=$(PKG_CONFIG_PATH="$pre2/lib/pkgconfig" pkg-config --libs pedlab)
  case "$cflags " in "-I$pre2/include/pedlab "*) ok "pkg-config --cflags";;
    *) bad "pkg-config --cflags: '$cflags'";; esac
  case "$libs" in "-L$pre2/lib -lpedlab "*) ok "pkg-config --libs";;
    *) bad "pkg-config --libs: '$libs'";; esac
  if [ $plain = 1 ]; then
    cat >"$tmp/t.c" <<'EOF'
#include <math.h>
#include <stdio.h>
#include "rank.h"
int main(void) {
    double x[] = {1, 2, 3, 4, 5}, y[] = {1, 2, 3, 5, 4}, bad_y[] = {1, 2, NAN, 4, 5}, tau;
    pl_err err = {0};
    if (pl_rank_weighted_tau(x, y, 5, &tau, &err) != PL_OK) return 1;
    if (pl_rank_weighted_tau(x, bad_y, 5, &tau, &err) == PL_OK) return 2;
    printf("tau=%.12g error=%s\n", tau, err.msg);
    return 0;
}
EOF
    if ${CC:-cc} -o "$tmp/t" "$tmp/t.c" $cflags $libs 2>"$tmp/cc.log"; then
      out=$("$tmp/t")
      case "$out" in "tau=0.671532846715 error=weighted_tau: y[2] is not finite"*)
        ok "a C program built with pkg-config against the installed libpedlab";;
        *) bad "C program output: $out";; esac
    else
      bad "C program against the installed libpedlab: $(head -n 3 "$tmp/cc.log")"
    fi
  else
    not_applicable "a C program against the installed libpedlab (a sanitizer build's library)"
  fi
fi
DESTDIR="$tmp/stage" cmake --install "$BUILD" --prefix /opt/pedlab >/dev/null 2>&1
grep -qx 'prefix=/opt/pedlab' "$tmp/stage/opt/pedlab/lib/pkgconfig/pedlab.pc" 2>/dev/null \
  && ok "DESTDIR: pedlab.pc names the final prefix" || bad "DESTDIR pedlab.pc"

# ---- pedlab --lua-path, from the executable's place ----
lp=$("$pre/bin/pedlab" --lua-path)
echo "$lp" | grep -qF "export LUA_CPATH='$tmp/p r'\\''e/lib/lua/5.4/?.so;'" \
  && ok "--lua-path names the prefix, quoted" || bad "--lua-path: $lp"
mv "$pre" "$tmp/moved"
lp2=$("$tmp/moved/bin/pedlab" --lua-path)
echo "$lp2" | grep -qF "'$tmp/moved/share/lua/5.4/?.lua;" \
  && ok "--lua-path of a moved install" || bad "--lua-path after mv: $lp2"
cp "$BUILD/pedlab" "$tmp/lone-pedlab"
err=$("$tmp/lone-pedlab" --lua-path 2>&1 >/dev/null); rc=$?
if [ $rc -ne 0 ] && echo "$err" | grep -q "no Lua module installed with" &&
   [ "$(echo "$err" | wc -l)" -eq 1 ]; then ok "--lua-path without an install: one line"
else bad "--lua-path without an install (rc=$rc): $err"; fi

if [ $plain = 0 ]; then
  not_applicable "stock lua5.4 and luarocks (a sanitizer build's module needs its runtime)"
elif ! command -v lua5.4 >/dev/null; then
  skipped "stock lua5.4 and luarocks (lua5.4 not installed: apt-get install lua5.4)"
else
  out=$(cd "$tmp" && unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 &&
        eval "$lp2" && lua5.4 "$S/tests/lua/stock_lua.lua" 2>&1)
  [ "$out" = "$want" ] && ok "stock lua5.4: require 'pedlab' after eval \$(pedlab --lua-path)" \
    || bad "stock lua5.4 after --lua-path: '$out' (want '$want')"
  out=$(cd "$tmp" && unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 &&
        eval "$lp2" && lua5.4 -e 'print(require("pedlab.commands")[1].name)' 2>&1)
  [ "$out" = demo ] && ok "stock lua5.4: require 'pedlab.commands' after --lua-path" \
    || bad "stock lua5.4: pedlab.commands: $out"
  out=$(cd "$tmp" && LUA_PATH="$tmp/none/?.lua" && LUA_CPATH= && eval "$lp2" && echo "$LUA_PATH")
  m="$tmp/moved/share/lua/5.4"
  [ "$out" = "$m/?.lua;$m/?/init.lua;$tmp/none/?.lua" ] \
    && ok "--lua-path keeps an existing LUA_PATH" || bad "LUA_PATH kept: $out"

  # ---- luarocks make, in a copy of the source, into a temporary tree ----
  if ! command -v luarocks >/dev/null; then
    skipped "luarocks (not installed: apt-get install luarocks)"
  else
    src="$tmp/src"; mkdir "$src"
    for e in "$S"/* ; do
      case "${e##*/}" in build*|data) ;; *) cp -r "$e" "$src/";; esac
    done
    rm -rf "$src/tests/fixtures"
    lr() { (cd "$src" && HOME="$tmp/home" luarocks --lua-version 5.4 --tree "$tmp/rocks" "$@"); }
    if lr make pedlab-scm-1.rockspec >"$tmp/rocks.log" 2>&1; then ok "luarocks make"
    else bad "luarocks make: $(tail -n 5 "$tmp/rocks.log")"; fi
    rp=$(lr path)
    out=$(cd "$tmp" && unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 &&
          eval "$rp" && lua5.4 "$S/tests/lua/stock_lua.lua" 2>&1)
    [ "$out" = "$want" ] && ok "stock lua5.4 after eval \$(luarocks path)" \
      || bad "stock lua5.4 from the rock: '$out' (want '$want')"
    out=$(unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 && eval "$rp" &&
          lr test pedlab-scm-1.rockspec 2>&1)
    [ "$out" = "$want" ] && ok "luarocks test" || bad "luarocks test: $out"
  fi
fi
summary

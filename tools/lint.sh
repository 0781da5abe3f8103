#!/usr/bin/env bash
# lint.sh — the rules a reader can check by tool rather than by memory (docs/contributing.md,
# "Rules the lint checks"), one part each; every part prints its findings as FILE:LINE: what
# and one closing line, "lint: PART ok (...)" or "lint: PART: N findings".
#   text           lines within 100 columns (counted in characters: × and ² are one column
#                  each) and no trailing whitespace: core/ and bindings/ C, the Lua of
#                  scripts/, experiments/, tests/lua/ and bench/*.lua
#   c-functions    no function of core/ or bindings/ over 80 lines, apart from the exceptions
#                  listed below
#   includes       no include cycle among core's modules, nor among the bindings'
#                  (tools/include-graph.sh)
#   luacheck       luacheck with .luacheckrc over scripts/, experiments/, tests/lua/, bench/*.lua
#   lua-functions  no function of scripts/ over 80 lines, apart from the exceptions listed below
#   file-size      no file of scripts/ over 400 lines
#   requires       no require cycle among scripts/pedlab's modules (tools/require-graph.sh)
# Exits 1 when any part has a finding (or luacheck is missing), 2 on a usage error.
#   bash tools/lint.sh             every part (also: make lint)
#   bash tools/lint.sh PART...     only these parts (PL_LINT="PART ..." does the same)
#   bash tools/lint.sh --list      the parts' names
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ALL="text c-functions includes luacheck lua-functions file-size requires"
if [ "${1:-}" = --list ]; then
  echo "$ALL" | tr ' ' '\n'
  exit 0
fi
parts="${*:-${PL_LINT:-$ALL}}"
for p in $parts; do
  case " $ALL " in
    *" $p "*) ;;
    *) echo "lint.sh: unknown part '$p' (expected one of: $ALL)" >&2; exit 2 ;;
  esac
done
shopt -s nullglob globstar
core_c=(core/*.c core/*.h core/metrics/*.c core/metrics/*.h)
bind_c=(bindings/*.c bindings/*.h)
lua_dirs=(scripts experiments tests/lua)
lua_files=(scripts/**/*.lua experiments/**/*.lua tests/lua/**/*.lua bench/*.lua)
script_files=(scripts/**/*.lua)
fail=0

# report PART OUT SUMMARY: prints the findings OUT and the part's closing line
report() {
  local part="$1" out="$2" summary="$3"
  if [ -n "$out" ]; then
    echo "$out"
    echo "lint: $part: $(echo "$out" | wc -l) findings"
    fail=1
  else
    echo "lint: $part ok ($summary)"
  fi
}

# ---- text: line length and trailing whitespace
part_text() {
  local out
  out=$(perl -CSD -ne '
    chomp;
    print "$ARGV:$.: " . length($_) . " columns (at most 100)\n" if length($_) > 100;
    print "$ARGV:$.: trailing whitespace\n" if /[ \t\r]+$/;
    close ARGV if eof;' "${core_c[@]}" "${bind_c[@]}" "${lua_files[@]}")
  report text "$out" "$(( ${#core_c[@]} + ${#bind_c[@]} + ${#lua_files[@]} )) files of core/,\
 bindings/, scripts/, experiments/, tests/lua/, bench/: within 100 columns, no trailing space"
}

# ---- c-functions: functions of core/ and bindings/ within 80 lines
# Functions longer than 80 lines allowed, as FILE:NAME (docs/contributing.md says why).
c_long_ok=" core/balls.c:pl_balls_simulate core/metrics/gbc.c:pl_gbc core/metrics/ncti.c:lda_svd
  core/metrics/nleep.c:km_fit core/metrics/transrate.c:pl_transrate core/zip.c:pl_zip_open
  core/zip.c:pl_zip_inflate core/tsne.c:run "
part_c_functions() {
  local out="" long f ok=" $(echo $c_long_ok) "
  # A function starts at a line in column 0 that opens a parameter list (not a prototype) and
  # ends at the next "}" in column 0.
  long=$(awk '
    FNR == 1 { start = 0 }
    /^[A-Za-z_].*\(/ && !/;[[:space:]]*$/ && !start {
      name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name); start = FNR }
    /^}/ && start { if (FNR - start + 1 > 80) print FILENAME ":" name ":" FNR - start + 1; start = 0 }
  ' "${core_c[@]}" "${bind_c[@]}")
  for f in $long; do
    case "$ok" in
      *" ${f%:*} "*) ;;
      *) out+="${out:+$'\n'}${f%:*}: ${f##*:} lines (at most 80; or list it in tools/lint.sh and \
docs/contributing.md)" ;;
    esac
  done
  report c-functions "$out" "$(( ${#core_c[@]} + ${#bind_c[@]} )) files of core/ and bindings/: \
functions within 80 lines, \
$(echo $c_long_ok | wc -w) listed exceptions"
}

# graph PART TOOL: a graph tool's check (tools/include-graph.sh, tools/require-graph.sh) as a
# part: its summary when there is no cycle, else what it printed and the cycles counted
graph() {
  local part="$1" tool="$2" out
  if out=$(bash "tools/$tool.sh" 2>&1); then
    echo "lint: $part ok (${out#"$tool": })"
  else
    echo "$out"
    echo "lint: $part: $(echo "$out" | grep -ciE 'cycle') findings (cycles)"
    fail=1
  fi
}

# ---- includes: no include cycle in core/ or bindings/
part_includes() { graph includes include-graph; }

# ---- luacheck: the Lua with .luacheckrc
part_luacheck() {
  local out
  if ! command -v luacheck >/dev/null; then
    echo "FAIL lint: luacheck is not installed (apt-get install lua-check, or run" \
      "sh tools/bootstrap.sh --optional as root)"
    fail=1
    return
  fi
  out=$(luacheck --config .luacheckrc --formatter plain --codes --quiet "${lua_dirs[@]}" \
    bench/*.lua 2>&1)
  report luacheck "$out" "${#lua_files[@]} files of scripts/, experiments/, tests/lua/, bench/ \
with .luacheckrc"
}

# ---- lua-functions: functions of scripts/ within 80 lines
# Functions longer than 80 lines allowed, as FILE:NAME (docs/contributing.md says why).
lua_long_ok=" "
part_lua_functions() {
  local out="" long f ok=" $(echo $lua_long_ok) "
  # A function starts at a line whose code (strings and comments left out) holds the word
  # "function" and a "(" ("local function f(", "function M.f(", "M.f = function(",
  # "sort(t, function(a, b)", at any indent), unless the blocks the line opens after it
  # (function, if, do) are all closed by "end"s on the same line; it ends at the first later
  # line that starts with "end" at the start line's indent. A function with no such line is a
  # finding (the check could not measure it). Its name is the one defined or assigned, else
  # "function".
  long=$(perl -ne '
    if ($. == 1) { @open = (); $long = undef }
    # the code of the line: strings, comments and long brackets ([[ ]], --[[ ]]) emptied
    my ($code, $s) = ("", $_);
    while (length $s) {
      if (defined $long) {
        if ($s =~ s/^.*?\]$long\]//s) { $long = undef; $code .= " " } else { $s = "" }
      } elsif ($s =~ s/^(?:--)?\[(=*)\[//) { $long = $1;
      } elsif ($s =~ s/^--.*//s) {
      } elsif ($s =~ s/^("(?:[^"\\]|\\.)*"|\x27(?:[^\x27\\]|\\.)*\x27)//) { $code .= "\"\"";
      } else { $s =~ s/^(.[^"\x27\[-]*)//s; $code .= $1 }
    }
    if ($code =~ /^(\s*)end\b/ && @open && $open[-1][0] eq $1) {
      my $f = pop @open;
      my $n = $. - $f->[2] + 1;
      print "$ARGV:$f->[1]:$f->[2]:$n\n" if $n > 80;
    }
    if ($code =~ /^(\s*)(.*?)\bfunction\b\s*([\w.:]*)\s*\((.*)$/) {
      my ($ind, $before, $name, $after) = ($1, $2, $3, $4);
      # blocks the rest of the line opens minus those it closes: > 0 when the function goes on
      my $depth = 1;
      $depth += /end/ ? -1 : 1 for $after =~ /\b(function|if|do|end)\b/g;
      if ($depth > 0) {
        if ($name eq "" && $before =~ /([\w.:\[\]"]+)\s*=\s*$/) { $name = $1 }
        $name = "function" if $name eq "";
        while (@open && length($open[-1][0]) >= length($ind)) {
          my $f = pop @open;
          print "$ARGV:$f->[1]:$f->[2]:unclosed\n";
        }
        push @open, [$ind, $name, $.];
      }
    }
    if (eof) { print "$ARGV:$_->[1]:$_->[2]:unclosed\n" for @open; close ARGV }
  ' "${script_files[@]}")
  for f in $long; do
    # FILE:NAME:LINE:LENGTH (or :unclosed)
    local file=${f%%:*} rest=${f#*:}
    local name=${rest%%:*} line n=${f##*:}
    rest=${rest#*:}; line=${rest%%:*}
    if [ "$n" = unclosed ]; then
      out+="${out:+$'\n'}$file:$line: function $name: no line starting with 'end' at its \
indent (write its end there, so that its length can be measured)"
      continue
    fi
    case "$ok" in
      *" $file:$name "*) ;;
      *) out+="${out:+$'\n'}$file:$line: function $name: $n lines (at most 80; or list it in \
tools/lint.sh and docs/contributing.md)" ;;
    esac
  done
  report lua-functions "$out" "${#script_files[@]} files of scripts/: functions within 80 \
lines, $(echo $lua_long_ok | wc -w) listed exceptions"
}

# ---- file-size: files of scripts/ within 400 lines
part_file_size() {
  local out
  out=$(awk 'FNR == 1 && NR > 1 && n > 400 { print f ": " n " lines (at most 400)" }
    { f = FILENAME; n = FNR }
    END { if (n > 400) print f ": " n " lines (at most 400)" }' "${script_files[@]}")
  report file-size "$out" "${#script_files[@]} files of scripts/ within 400 lines"
}

# ---- requires: no require cycle in scripts/pedlab
part_requires() { graph requires require-graph; }

for p in $parts; do
  "part_${p//-/_}"
done
exit $fail

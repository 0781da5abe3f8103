#!/usr/bin/env bash
# include-graph.sh — the include graph of core/ and of bindings/ by module (a module is X.c with
# its header X.h): module A depends on B when A.c or A.h includes "B.h" of its own folder (a
# binding's includes of core's headers point down by construction). Prints one "A -> B" line
# per edge and fails (exit 1) naming the modules of any cycle, so every file keeps calling only
# down.
#
#   bash tools/include-graph.sh           # check; the edges with --print
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
edges=$(
  for f in core/*.[ch] core/metrics/*.[ch] bindings/*.[ch]; do
    dir=$(dirname "$f")
    from=${f%.*}
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
      while read -r inc; do
        to=$(realpath -m --relative-to=. "$dir/$inc")
        to=${to%.h}
        [ "$to" != "$from" ] && [ -e "$to.h" ] && echo "$from $to"
      done
  done | sort -u
)
[ "${1:-}" = --print ] && echo "$edges" | sed 's/ / -> /'
# tsort orders a DAG; on a cycle it names its members on stderr.
if loops=$(echo "$edges" | tsort 2>&1 >/dev/null) && [ -z "$loops" ]; then
  echo "include-graph: core/ and bindings/ have no include cycle ($(echo "$edges" | wc -l) edges)"
else
  echo "include-graph: include cycle in core/ or bindings/:" >&2
  echo "$loops" | sed -e 's/^tsort: -: input contains a loop:/cycle:/' -e 's/^tsort: /  /' >&2
  exit 1
fi

#!/bin/bash
# valgrind-lua.sh BUILD — every tests/lua/test_*.lua under valgrind memcheck (no invalid access,
# no definite or indirect leak), each file's own checks passing too; logs in BUILD/valgrind-*.log.
#   valgrind: N passed, N failed, N skipped      (files; a file whose checks skipped exits 77)
set -u
B=$(cd "${1:?usage: valgrind-lua.sh BUILD}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
pass=0; fail=0; skip=0
if ! command -v valgrind >/dev/null; then
  echo "FAIL valgrind is not installed (apt-get install valgrind)"
  echo "valgrind: 0 passed, 1 failed, 0 skipped"; exit 1
fi
cd "$SRC/tests/lua" || exit 1
for f in test_*.lua; do
  t=${f%.lua}
  OPENBLAS_NUM_THREADS=1 PL_FIXTURES=../fixtures PL_SOURCE_DIR="$SRC" valgrind -q --error-exitcode=9 \
    --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect "$B/pedlab" "$f" > "$B/valgrind-$t.log" 2>&1
  rc=$?
  last=$(tail -n 1 "$B/valgrind-$t.log")
  case $rc in
    0) pass=$((pass+1)); echo "ok   valgrind $t: $last" ;;
    77) skip=$((skip+1)); echo "skip valgrind $t: $last"
        grep '^skip ' "$B/valgrind-$t.log" | sed 's/^/       /' ;;
    *) fail=$((fail+1)); echo "FAIL valgrind $t (exit $rc): see $B/valgrind-$t.log"
       grep -E '^==[0-9]+==|^FAIL' "$B/valgrind-$t.log" | head -n 12 | sed 's/^/       /' ;;
  esac
done
echo "valgrind: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || exit 1
[ $skip -eq 0 ] || [ "${PL_NO_SKIP:-0}" != 1 ] || exit 1
exit 0

#!/bin/bash
# tests/fuzz/run.sh [SECONDS] — build the libFuzzer harnesses against the core (and, for json
# and zoo, the Lua bindings) with clang's fuzzer + AddressSanitizer + UndefinedBehaviorSanitizer,
# then run each for SECONDS (default 60) from its seed corpus. Exits non-zero when a harness
# finds a crash, a leak, undefined behaviour, a hang (> 10 s on one input) or breaks one of its
# properties; the input that did it is in $FUZZ_BUILD/artifacts/<name>/.
#
#   FUZZ_BUILD=DIR     build and working corpora (default: build-fuzz in the project root)
#   FUZZ_ONLY="npy csv" run only these harnesses (npy csv json zoo)
#   FUZZ_JOBS=N        parallel fuzzing processes per harness (libFuzzer -fork=N; default 1)
#   FUZZ_LAX=1         accept the known message-quality bugs (docs/robustness.md) and keep
#                      fuzzing for memory errors only
#   CC=clang-14        the compiler (needs libFuzzer: Debian's clang)
#   PL_WERROR=ON       the project's warnings (CMakeLists.txt's PL_WARN) are errors (.ci/run)
set -u
SECONDS_EACH="${1:-60}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${FUZZ_BUILD:-$ROOT/build-fuzz}"
CC="${CC:-clang}"
case "$CC" in *clang*) ;; *) CC=clang ;; esac
NAMES="${FUZZ_ONLY:-npy csv json zoo}"
JOBS="${FUZZ_JOBS:-1}"
mkdir -p "$B/obj" "$B/bin"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -D_GNU_SOURCE $SAN"
INC="-I$ROOT/core -I/usr/include/lua5.4 -I/usr/include/cjson -I/usr/include/x86_64-linux-gnu"
LIBS="-lopenblas -llapacke -lcjson -lcsv -lz -lm -pthread"
# the warnings of CMakeLists.txt's PL_WARN; with PL_WERROR=ON they are errors
WARN="-Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wmissing-prototypes -Wstrict-prototypes
  -Wdouble-promotion -Wno-unused-parameter"
case "${PL_WERROR:-OFF}" in ON|on|1|TRUE|true|YES|yes) WARN="$WARN -Werror" ;; esac
CFLAGS="$CFLAGS $(echo $WARN)"
# objects built with other flags are built again
if [ "$(cat "$B/obj/flags" 2>/dev/null)" != "$CC $CFLAGS" ]; then
  rm -f "$B"/obj/*.o
  echo "$CC $CFLAGS" > "$B/obj/flags"
fi

# ---- build: core and bindings objects once (instrumented for coverage), one binary per harness
build() {
  local objs=() src o
  for src in "$ROOT"/core/*.c "$ROOT"/core/metrics/*.c; do
    o="$B/obj/core_$(basename "$(dirname "$src")")_$(basename "${src%.c}").o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ "$0" -nt "$o" ]; then
      $CC $CFLAGS -fsanitize=fuzzer-no-link $INC -c "$src" -o "$o" || return 1
    fi
    objs+=("$o")
  done
  local lobjs=()
  for src in "$ROOT"/bindings/l*.c; do
    case $(basename "$src") in lhost.c|lcall.c|lpaths.c|lprint.c|lrepl.c|lstdout.c) continue ;; esac
    o="$B/obj/bind_$(basename "${src%.c}").o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ "$0" -nt "$o" ]; then
      $CC $CFLAGS -fsanitize=fuzzer-no-link $INC -c "$src" -o "$o" || return 1
    fi
    lobjs+=("$o")
  done
  local n extra
  for n in $NAMES; do
    extra=()
    case $n in json|zoo) extra=("${lobjs[@]}" -llua5.4) ;; esac
    $CC $CFLAGS -fsanitize=fuzzer $INC -DPL_SOURCE_DIR="\"$ROOT\"" "$ROOT/tests/fuzz/fuzz_$n.c" \
      "${objs[@]}" "${extra[@]}" $LIBS -o "$B/bin/fuzz_$n" || return 1
  done
}
if ! build; then echo "FAIL build of the fuzz harnesses (needs clang with libFuzzer)"; exit 2; fi

# ---- run
export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
for n in $NAMES; do
  work="$B/corpus/$n"; art="$B/artifacts/$n"
  mkdir -p "$work" "$art"
  cp -n "$ROOT/tests/fuzz/corpus/$n/"* "$work/" 2>/dev/null
  dict=()
  [ -f "$ROOT/tests/fuzz/$n.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$n.dict")
  log="$B/fuzz_$n.log"
  par=()
  [ "$JOBS" -gt 1 ] && par=(-fork="$JOBS")
  (cd "$B" && "$B/bin/fuzz_$n" "$work" "${dict[@]}" "${par[@]}" -max_total_time="$SECONDS_EACH" \
    -timeout=10 -rss_limit_mb=2560 -max_len=16384 -print_final_stats=1 -artifact_prefix="$art/") >"$log" 2>&1
  rc=$?
  execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  [ -n "$execs" ] || execs=$(grep -ao '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -eq 0 ] && ! grep -aqE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    echo "ok   fuzz_$n: $execs runs in ${SECONDS_EACH} s, $cov, corpus $(ls "$work" | wc -l)"
  else
    failed=$((failed+1))
    echo "FAIL fuzz_$n (exit $rc): see $log; inputs in $art/"
    grep -aE 'ERROR|runtime error|^[a-z_]*: .*(message|error|differs)|^SUMMARY|abort|Test unit written' "$log" | head -n 8 | sed 's/^/     /'
  fi
done
echo "$(( $(echo $NAMES | wc -w) - failed )) passed, $failed failed"
[ $failed -eq 0 ]

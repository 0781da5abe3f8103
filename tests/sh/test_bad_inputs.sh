#!/bin/bash
# Robustness: malformed and degenerate inputs through the real command line (issue 7).
#   bash tests/sh/test_bad_inputs.sh PATH_TO_PEDLAB        (env PL_SOURCE_DIR)
# Every case runs under `timeout 60` and must end with: the documented exit status (non-zero
# for a refused input), ONE line on stderr naming the file (or option) and the problem, no
# crash (exit status < 124, no "Segmentation fault"/"Aborted"/"AddressSanitizer"/"runtime
# error"), and no output file or stray NAME.tmpXXXXXX left behind. docs/robustness.md has the
# table of cases. The inputs are generated at test time by tests/bad/gen.lua.
#   PL_ROB_VALGRIND=1   also run every case under valgrind memcheck (definite leaks and invalid
#                       accesses fail the case; slow: about 3 minutes)
#   PL_ROB_ONLY=REGEX   run only the cases whose name matches
set -u
P="$1"
SRC="${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
case "$P" in /*) ;; *) P="$(pwd)/$P" ;; esac
. "$SRC/tests/sh/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
IN="$tmp/in"; mkdir -p "$IN"
if ! "$P" "$SRC/tests/bad/gen.lua" "$IN" >/dev/null; then
  bad "cannot generate the inputs (tests/bad/gen.lua)"; summary
fi
cd "$IN" || exit 1

VG=(); TMO=60
if [ "${PL_ROB_VALGRIND:-0}" = 1 ]; then
  TMO=300
  VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
      --show-leak-kinds=definite)
fi
want() { [ -z "${PL_ROB_ONLY:-}" ] || echo "$1" | grep -Eq -- "$PL_ROB_ONLY"; }

# run ARGS...: sets rc, out, err (the command runs in $IN)
run() {
  timeout $TMO "${VG[@]}" "$P" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
}

crashed() { # the last run crashed, hung or broke memcheck: prints why
  if [ "$rc" -eq 124 ]; then echo "hung (killed by timeout $TMO)"; return 0; fi
  if [ "$rc" -eq 99 ] && [ ${#VG[@]} -gt 0 ]; then echo "valgrind: $(head -c 600 "$tmp/err")"; return 0; fi
  if [ "$rc" -ge 124 ]; then echo "killed by a signal (exit $rc)"; return 0; fi
  if grep -Eq "Segmentation fault|Aborted|AddressSanitizer|LeakSanitizer|runtime error:|core dumped" "$tmp/err"; then
    echo "sanitizer/crash report on stderr"; return 0
  fi
  return 1
}

# The message lines (valgrind's own lines, starting with ==PID==, are not pedlab's).
msg_lines() { grep -v '^==[0-9]*==' "$tmp/err" | grep -c ''; }

# fail NAME PATTERN ARGS...: a refused input. Non-zero exit, one stderr line containing
# PATTERN (plain text), no crash.
fail_case() {
  local name="$1" pat="$2"; shift 2
  want "$name" || return 0
  run "$@"
  local why
  if why=$(crashed); then bad "$name: $why"; return; fi
  local n; n=$(msg_lines)
  if [ "$rc" -eq 0 ]; then bad "$name: exit 0, expected a refusal (stdout: $(echo "$out" | head -c 200))"
  elif [ "$n" -ne 1 ]; then bad "$name: $n lines on stderr, expected 1: $(echo "$err" | head -c 400 | tr '\n' '|')"
  elif LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n\t' <"$tmp/err"); then bad "$name: control characters on stderr: $(cat -v "$tmp/err" | head -c 300)"
  elif ! grep -qF -- "$pat" "$tmp/err"; then bad "$name: stderr lacks '$pat': $err"
  else ok "$name"; fi
}

# script_fail NAME PATTERN ARGS...: a script or -e run that raises. As with the stock lua
# interpreter the message is followed by a Lua traceback; its FIRST line must name the file
# and the problem.
script_fail() {
  local name="$1" pat="$2"; shift 2
  want "$name" || return 0
  run "$@"
  local why
  if why=$(crashed); then bad "$name: $why"; return; fi
  local first; first=$(grep -v '^==[0-9]*==' "$tmp/err" | head -n 1)
  if [ "$rc" -eq 0 ]; then bad "$name: exit 0, expected an error"
  elif ! echo "$first" | grep -qF -- "$pat"; then bad "$name: first stderr line lacks '$pat': $first"
  else ok "$name"; fi
}

# works NAME PATTERN ARGS...: a degenerate input with a documented finite result: exit 0,
# stdout contains PATTERN (extended regex), nothing on stderr, no nan/inf in the output.
works() {
  local name="$1" pat="$2"; shift 2
  want "$name" || return 0
  run "$@"
  local why
  if why=$(crashed); then bad "$name: $why"; return; fi
  if [ "$rc" -ne 0 ]; then bad "$name: exit $rc: $err"
  elif [ -n "$(grep -v '^==[0-9]*==' "$tmp/err")" ]; then bad "$name: stderr not empty: $err"
  elif echo "$out" | grep -Eqi '(^|[^a-z])(-?nan|-?inf)([^a-z]|$)'; then bad "$name: non-finite output: $out"
  elif ! echo "$out" | grep -Eq -- "$pat"; then bad "$name: stdout lacks /$pat/: $out"
  else ok "$name"; fi
}

# same NAME ARGS_A... -- ARGS_B...: both succeed with identical stdout.
same() {
  local name="$1"; shift
  want "$name" || return 0
  local a=() b=() seen=0
  for x in "$@"; do
    if [ "$x" = "--" ] && [ $seen -eq 0 ]; then seen=1; continue; fi
    if [ $seen -eq 0 ]; then a+=("$x"); else b+=("$x"); fi
  done
  run "${a[@]}"; local rca=$rc outa=$out erra=$err
  run "${b[@]}"
  if [ "$rca" -ne 0 ] || [ "$rc" -ne 0 ]; then bad "$name: exit $rca/$rc: $erra $err"
  elif [ "$outa" != "$out" ]; then bad "$name: outputs differ: $outa VS $out"
  else ok "$name"; fi
}

# nothing_left NAME FILE...: none of FILE exists, and no FILE.tmp* next to it.
nothing_left() {
  local name="$1"; shift
  want "$name" || return 0
  local f left=""
  for f in "$@"; do
    [ -e "$f" ] && left="$left $f"
    for t in "$f".tmp*; do [ -e "$t" ] && left="$left $t"; done
  done
  if [ -z "$left" ]; then ok "$name"; else bad "$name: left behind:$left"; fi
}

G="--features good_features.npy --labels good_labels.npy"
L="--labels good_labels.npy"
OV="$SRC/tests/fixtures/overlap"   # overlapping classes: PED's force law is called

# ------------------------------------------------------------ .npy framing and headers
fail_case "npy empty file" "empty.npy: not a .npy file" score --features empty.npy $L --metric logme
fail_case "npy bad magic" "bad_magic.npy: not a .npy file" score --features bad_magic.npy $L --metric logme
fail_case "npy truncated data" "truncated_data.npy: truncated: the header promises 1920 bytes" score --features truncated_data.npy $L --metric logme
fail_case "npy truncated header" "truncated_header.npy: truncated .npy header" score --features truncated_header.npy $L --metric logme
fail_case "npy unknown version" "version9.npy: unsupported .npy format version 9" score --features version9.npy $L --metric logme
fail_case "npy header length past EOF" "header_len_lies.npy: truncated .npy header" score --features header_len_lies.npy $L --metric logme
fail_case "npy v2 prefix cut short" "v2_short.npy: truncated .npy header" score --features v2_short.npy $L --metric logme
fail_case "npy shape lies (more rows)" "shape_lies_more.npy: truncated" score --features shape_lies_more.npy $L --metric logme
fail_case "npy dtype lies (f8 header, f4 data)" "dtype_lies_f8.npy: truncated" score --features dtype_lies_f8.npy $L --metric logme
fail_case "npy dtype lies (f4 header, f8 data)" "dtype_lies_f4.npy: row" score --features dtype_lies_f4.npy $L --metric logme
fail_case "npy object array" "object_array.npy: object arrays" score --features object_array.npy $L --metric logme
fail_case "npy structured dtype" "structured.npy: structured dtypes are not supported" score --features structured.npy $L --metric logme
fail_case "npy dtype with a newline and an escape sequence" "descr_escape.npy: unsupported dtype" score --features descr_escape.npy $L --metric logme
fail_case "npy complex dtype" "complex.npy: unsupported dtype '<c16'" score --features complex.npy $L --metric logme
fail_case "npy 3-D features" "three_d.npy: features must be a 2-D array" score --features three_d.npy $L --metric logme
fail_case "npy 1-D features" "one_d_features.npy: features must be a 2-D array" score --features one_d_features.npy $L --metric logme
fail_case "npy zero rows" "zero_rows.npy has 0 rows" score --features zero_rows.npy $L --metric logme
fail_case "npy zero columns" "zero_cols.npy: no columns" score --features zero_cols.npy $L --metric logme
fail_case "npy fortran_order not a bool" "header_garbage.npy: corrupt .npy header" score --features header_garbage.npy $L --metric logme
fail_case "npy header not a dict" "header_not_dict.npy: corrupt .npy header" score --features header_not_dict.npy $L --metric logme
fail_case "npy unknown header key" "header_unknown_key.npy: corrupt .npy header: unknown key 'evil'" score --features header_unknown_key.npy $L --metric logme
fail_case "npy header without shape" "header_missing_shape.npy: corrupt .npy header: missing 'shape'" score --features header_missing_shape.npy $L --metric logme
fail_case "npy negative dimension" "neg_dim.npy: corrupt .npy header: shape holds a negative dimension (-5); expected sizes >= 0" score --features neg_dim.npy $L --metric logme
fail_case "npy NUL byte in descr (refused like NumPy)" "descr_nul.npy: corrupt .npy header: NUL byte at byte" score --features descr_nul.npy $L --metric logme
script_fail "-e: load a .npy with a NUL byte in descr" "descr_nul.npy: corrupt .npy header: NUL byte" -e 'require("pedlab").load("descr_nul.npy")'
fail_case "npy a folder named dir.npy (features)" "dir.npy is a directory; expected a .npy file" score --features dir.npy $L --metric logme
fail_case "npy a folder named dir.npy (labels)" "dir.npy is a directory; expected a .npy file" score --features good_features.npy --labels dir.npy --metric logme
script_fail "-e: load a folder named dir.npy" "dir.npy is a directory; expected a .npy file" -e 'require("pedlab").load("dir.npy")'
works "npy big-endian float64" "^logme	-0\.609240382163095" score --features bigendian.npy $L --metric logme
works "npy fortran order" "^logme	-0\.609240382163095" score --features fortran.npy $L --metric logme
works "npy trailing bytes ignored (as NumPy)" "^logme	-0\.609240382163095" score --features trailing_bytes.npy $L --metric logme

# ------------------------------------------------------------ shapes too large to allocate
fail_case "npy huge declared shape (header only)" "huge_shape.npy: truncated" score --features huge_shape.npy $L --metric logme
fail_case "npy shape overflows size_t" "overflow_shape.npy: corrupt .npy header: shape dimension overflows" score --features overflow_shape.npy $L --metric logme
fail_case "npy shape digits overflow" "shape_digits_overflow.npy: corrupt .npy header" score --features shape_digits_overflow.npy $L --metric logme
# Under a 3 GB address-space limit the refusal must come at once, before any allocation.
ulimit_ok=0
if (ulimit -v 3000000 && "$P" -e '' >/dev/null 2>&1); then ulimit_ok=1; fi
if [ $ulimit_ok = 1 ]; then
  for f in huge_shape overflow_shape; do
    if want "npy $f fails fast under ulimit -v"; then
      start=$(date +%s%N)
      (ulimit -v 3000000; timeout 60 "$P" score --features $f.npy $L --metric logme >/dev/null 2>"$tmp/err")
      rc=$?; ms=$(( ($(date +%s%N) - start) / 1000000 ))
      if [ $rc -eq 1 ] && [ $ms -lt 5000 ] && ! grep -q "out of memory" "$tmp/err"; then ok "npy $f fails fast under ulimit -v (${ms} ms)"
      else bad "npy $f under ulimit -v: exit $rc in ${ms} ms: $(cat "$tmp/err")"; fi
    fi
  done
  # A real (sparse) file whose data is there but too big for memory: the allocation fails
  # cleanly and the message names the file.
  if truncate -s $((128 + 100000 * 20000 * 8)) "$tmp/sparse_big.npy" 2>/dev/null; then
    "$P" -e "local f = io.open('$tmp/sparse_big.npy', 'r+b')
      local d = \"{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 20000), }\"
      d = d .. string.rep(' ', 128 - 10 - #d - 1) .. '\n'
      f:write('\x93NUMPY\1\0' .. string.pack('<I2', #d) .. d) f:close()"
    if want "npy 16 GB file, pl.load under ulimit -v"; then
      (ulimit -v 3000000; timeout 60 "$P" -e "require('pedlab').load('$tmp/sparse_big.npy')" >/dev/null 2>"$tmp/err")
      rc=$?
      if [ $rc -eq 1 ] && head -n 1 "$tmp/err" | grep -q "sparse_big.npy" && head -n 1 "$tmp/err" | grep -q "out of memory"; then
        ok "npy 16 GB file, pl.load under ulimit -v"
      else bad "npy 16 GB file, pl.load under ulimit -v: exit $rc: $(head -n 1 "$tmp/err")"; fi
    fi
    "$P" -e "local y = {} for i = 1, 100000 do y[i] = i % 3 end require('pedlab').save('$tmp/y100k.npy', require('pedlab').matrix(y))"
    if want "npy 20000-wide file, Gram matrix under ulimit -v"; then
      (ulimit -v 3000000; timeout 60 "$P" score --features "$tmp/sparse_big.npy" --labels "$tmp/y100k.npy" --metric hscore >/dev/null 2>"$tmp/err")
      rc=$?
      if [ $rc -eq 1 ] && grep -q "out of memory" "$tmp/err" && grep -qE "hscore|sparse_big.npy" "$tmp/err"; then
        ok "npy 20000-wide file, Gram matrix under ulimit -v"
      else bad "npy 20000-wide file, Gram matrix under ulimit -v: exit $rc: $(cat "$tmp/err")"; fi
    fi
    rm -f "$tmp/sparse_big.npy"
  else
    skipped "sparse 16 GB file (no sparse files here)"
  fi
elif sanitized "$P"; then
  not_applicable "ulimit -v checks (a sanitizer build cannot start under an address-space limit)"
else
  skipped "ulimit -v checks (pedlab cannot start under an address-space limit here)"
fi

# ------------------------------------------------------------ NaN and Inf
fail_case "features NaN" "nan_features.npy: row 8, column 3 is NaN" score --features nan_features.npy $L --metric logme
fail_case "features +Inf" "inf_features.npy: row 60, column 1 is infinite" score --features inf_features.npy $L --metric gbc
fail_case "features float32 Inf" "inf_f32.npy: row 3, column 1 is infinite" score --features inf_f32.npy $L --metric sfda
fail_case "features NaN with PED" "nan_features.npy: row 8, column 3 is NaN" score --features nan_features.npy $L --ref good_features.npy --metric ped+logme
fail_case "source probs NaN (leep)" "nan_features.npy: row 8, column 3 is not finite" score $G --metric leep --source-probs nan_features.npy
fail_case "source probs negative (leep)" "leep: source probabilities row 1, column 1" score $G --metric leep --source-probs good_features.npy

# ------------------------------------------------------------ labels
fail_case "labels too short" "labels_short.npy has 59 labels, good_features.npy has 60 rows" score --features good_features.npy --labels labels_short.npy --metric logme
fail_case "labels too long" "labels_long.npy has 61 labels" score --features good_features.npy --labels labels_long.npy --metric logme
fail_case "labels fractional" "labels_fractional.npy: row 1 holds 0.5; labels must be whole numbers" score --features good_features.npy --labels labels_fractional.npy --metric logme
fail_case "labels NaN" "labels_nan.npy: row 10 holds" score --features good_features.npy --labels labels_nan.npy --metric logme
fail_case "labels 2-D" "labels_2d.npy: labels must be a 1-D array" score --features good_features.npy --labels labels_2d.npy --metric logme
fail_case "labels uint64 beyond int64" "labels_u64_big.npy: row 5 holds 18446744073709551615" score --features good_features.npy --labels labels_u64_big.npy --metric logme
fail_case "labels one class" "labels_one_class.npy: all 60 labels are 4; needs at least 2 classes" score --features good_features.npy --labels labels_one_class.npy --metric logme
fail_case "N = 1" "n1_labels.npy: all 1 labels are 0; needs at least 2 classes" score --features n1_features.npy --labels n1_labels.npy --metric logme
fail_case "source labels wrong length (nce)" "labels_short.npy has 59 labels" score $G --metric nce --source-labels labels_short.npy
ALL=logme,logme_icml,sfda,gbc,gbc:type=spherical,nleep,hscore,hscore_reg,transrate
same "labels negative and sparse ids (-7, 1000, 2^40) = 0, 1, 2" score $G --metric $ALL --json -- score --features good_features.npy --labels labels_sparse.npy --metric $ALL --json
fail_case "labels whole floats from 2^53 on" "labels_float_2p53.npy: row 4 holds 9007199254740992, a float64 label beyond 2^53 where distinct ids may have been rounded together; store labels as int64" score --features good_features.npy --labels labels_float_2p53.npy --metric logme
same "labels stored as whole floats" score $G --metric logme,gbc --json -- score --features good_features.npy --labels labels_float_whole.npy --metric logme,gbc --json
works "labels with permuted ids (50, -3, 7)" '"logme":-0\.609240382163095' score --features good_features.npy --labels labels_permuted_ids.npy --metric logme --json
works "labels bool" '"logme":' score --features good_features.npy --labels labels_bool.npy --metric logme --json
works "labels class with one sample" '"gbc":-1\.98769' score --features good_features.npy --labels labels_singleton.npy --metric $ALL --json
works "N = 2 (one sample per class)" '"hscore":' score --features n2_features.npy --labels n2_labels.npy --metric logme,gbc,hscore,hscore_reg,transrate --json
fail_case "N = 2, sfda" "sfda: the within-class variance is too small" score --features n2_features.npy --labels n2_labels.npy --metric sfda
fail_case "N = 2, nleep" "nleep: the Gaussian mixture has ratio·C = 5·2 = 10 components but there are only N = 2 samples" score --features n2_features.npy --labels n2_labels.npy --metric nleep

# ------------------------------------------------------------ degenerate features
works "constant features" '"gbc":-6' score --features constant_features.npy $L --metric logme,logme_icml,gbc,nleep,hscore,hscore_reg,transrate --json
fail_case "constant features, sfda" "sfda: the within-class variance is too small" score --features constant_features.npy $L --metric sfda
fail_case "constant features, parc" "parc: sample 0 has the same value in all 2 standardised components" score --features constant_features.npy $L --metric parc:dims=2
works "constant column" '"sfda":0\.876' score --features constant_column.npy $L --metric $ALL,parc:dims=2 --json
works "D = 1" '"logme":-0\.636' score --features d1_features.npy $L --metric $ALL --json
fail_case "D = 1, parc" "parc: needs min(N, D) >= 2 for 2 PCA dims; got N=60, D=1" score --features d1_features.npy $L --metric parc:dims=2
works "D > N" '"sfda":1[,}]' score --features wide_features.npy --labels wide_labels.npy --metric logme,logme_icml,sfda,gbc,hscore,hscore_reg,transrate,parc:dims=2 --json
fail_case "D > N, parc default dims" "parc: needs min(N, D) >= 32 for 32 PCA dims; got N=12, D=40; pass parc:dims=12" score --features wide_features.npy --labels wide_labels.npy --metric parc
works "duplicated rows" '"hscore":1\.053' score --features dup_features.npy --labels dup_labels.npy --metric $ALL,parc:dims=2 --json
works "zero within-class variance" '"hscore":1(\.0|[,}])' score --features zero_var_features.npy $L --metric logme,gbc,nleep,hscore,hscore_reg,transrate --json
works "features scaled by 1e150" '"gbc":-0\.0215' score --features huge_values.npy $L --metric logme,gbc,hscore,transrate --json
fail_case "features scaled by 1e150, hscore_reg" "hscore_reg: " score --features huge_values.npy $L --metric hscore_reg
if want "features scaled by 1e150, hscore_reg names the cause"; then
  run score --features huge_values.npy $L --metric hscore_reg
  if [ $rc -ne 0 ] && ! grep -q "argument 5 is invalid" "$tmp/err"; then ok "features scaled by 1e150, hscore_reg names the cause"
  else bad "features scaled by 1e150, hscore_reg names the cause: $err"; fi
fi
# Magnitude 1e300: sums of squares overflow. Each metric must refuse, naming itself; none may
# report a score computed from infinite variances (gbc gave -0, its best possible score).
for m in logme logme_icml sfda gbc gbc:type=spherical hscore hscore_reg transrate nleep; do
  fail_case "features of magnitude 1e300, $m" "${m%%:*}: " score --features overflow_values.npy $L --metric $m
done
works "features scaled by 1e-150" '"hscore":0\.98' score --features tiny_values.npy $L --metric logme_icml,gbc,hscore,hscore_reg --json

# ------------------------------------------------------------ CSV
same "csv features and labels = npy" score $G --metric logme,gbc --json -- score --features good_features.csv --labels good_labels.csv --metric logme,gbc --json
fail_case "csv ragged row" "ragged.csv: row 12 has 3 columns; expected 4" score --features ragged.csv $L --metric logme
fail_case "csv non-numeric field" "nonnumeric.csv: row 20, column 3: 'three' is not a number" score --features nonnumeric.csv $L --metric logme
fail_case "csv empty" "empty.csv: no data" score --features empty.csv $L --metric logme
fail_case "csv header only" "header_only.csv has 0 rows" score --features header_only.csv $L --metric logme
fail_case "csv NaN field" "nan.csv: row" score --features nan.csv $L --metric logme
fail_case "csv number out of range" "overflow.csv: row 6, column 1: '1e400' is not a number" score --features overflow.csv $L --metric logme
fail_case "csv unterminated quote" "unterminated_quote.csv: row 7" score --features unterminated_quote.csv $L --metric logme
fail_case "csv NUL bytes" "binary.csv: row 1, column 1 holds a NUL byte" score --features binary.csv $L --metric logme
fail_case "csv labels fractional" "labels_fractional.csv: row 3 holds 1.5" score --features good_features.npy --labels labels_fractional.csv --metric logme
fail_case "csv labels two columns" "labels_two_cols.csv: labels must be a vector; got 60x2" score --features good_features.npy --labels labels_two_cols.csv --metric logme

# ------------------------------------------------------------ metric names and options
fail_case "unknown metric" "score: unknown metric 'nope' in 'nope'" score $G --metric logme,nope
fail_case "unknown metric after ped+" "score: unknown metric 'nope' in 'ped+nope'" score $G --metric ped+nope
fail_case "metric named like an API function" "score: unknown metric 'list'" score $G --metric list
fail_case "unknown metric option" "gbc: unknown option 'kind'; known: type, pca" score $G --metric gbc:kind=x
fail_case "bad metric option value" "gbc: option type=weird: expected one of diagonal, spherical" score $G --metric gbc:type=weird
fail_case "metric option without value" "metric 'gbc:pca': option 'pca' is not key=value" score $G --metric gbc:pca
fail_case "nleep ratio not an integer" "nleep: option ratio=0.5: expected an integer" score $G --metric nleep:ratio=0.5
fail_case "transrate eps <= 0" "transrate: option eps=0: expected a number > 0" score $G --metric transrate:eps=0
fail_case "leep without source probs" "leep needs source-model probabilities (--source-probs P.npy)" score $G --metric leep
fail_case "missing features file" "cannot open missing.npy" score --features missing.npy $L --metric logme

# ------------------------------------------------------------ JSON and zoo folders
mkzoo() { rm -rf "$IN/z"; cp -r "$IN/zoo" "$IN/z"; }
mkzoo; works "zoo valid (control)" "logme +1\.000 +1\.000" rank --zoo z --metric logme --quiet
mkzoo; cp truncated.json z/gt.json
fail_case "zoo gt.json truncated" "z/gt.json: malformed JSON at line 1, column 27" rank --zoo z --metric logme --quiet --json z/out.json
nothing_left "zoo gt.json truncated: no out.json" z/out.json
mkzoo; cp empty.json z/gt.json
fail_case "zoo gt.json empty" "z/gt.json: malformed JSON at line 1, column 1" rank --zoo z --metric logme --quiet
mkzoo; cp deep.json z/gt.json
fail_case "zoo gt.json nested 100000 deep" "z/gt.json: " rank --zoo z --metric logme --quiet
mkzoo; printf '{"t1": {"alpha": 1, "beta": 2, "gamma": 3, "delta": 4}, "t2": {"alpha": 1, "beta": 2, "gamma": 3, "delta": 4}} trailing' > z/gt.json
fail_case "zoo gt.json trailing garbage" "z/gt.json: " rank --zoo z --metric logme --quiet
mkzoo; echo null > z/gt.json
fail_case "zoo gt.json is null" "z/gt.json: " rank --zoo z --metric logme --quiet
mkzoo; cp array.json z/gt.json
fail_case "zoo gt.json an array" "z/gt.json: expected {task: {model: accuracy}}" rank --zoo z --metric logme --quiet
mkzoo; echo '{"t1": {"alpha": 60, "beta": 70, "gamma": 80}, "t2": {"alpha": 1, "beta": 2, "gamma": 3, "delta": 4}}' > z/gt.json
fail_case "zoo ground truth missing a model" "z/gt.json: task 't1' has no accuracy for model 'delta'" rank --zoo z --metric logme --quiet --json z/out.json --md z/out.md --csv z/out.csv
nothing_left "zoo ground truth missing a model: no outputs" z/out.json z/out.md z/out.csv
mkzoo; echo '{"t1": {"alpha": "60", "beta": 70, "gamma": 80, "delta": 9}, "t2": {"alpha": 1, "beta": 2, "gamma": 3, "delta": 4}}' > z/gt.json
fail_case "zoo accuracy is a string" "z/gt.json: expected {task: {model: accuracy}}; task 't1', model 'alpha' is string, not a finite number" rank --zoo z --metric logme --quiet
mkzoo; echo '{"models": "alpha"}' > z/zoo.json
fail_case "zoo.json models not an array" "z/zoo.json: field 'models' must be an array of names" rank --zoo z --metric logme --quiet
mkzoo; echo '{"models": [{"a": 1}, "beta"]}' > z/zoo.json
fail_case "zoo.json model name not a string" "z/zoo.json" rank --zoo z --metric logme --quiet
mkzoo; echo '{"tasks": [true]}' > z/zoo.json
fail_case "zoo.json task name not a string" "z/zoo.json" rank --zoo z --metric logme --quiet
mkzoo; echo '{"gt": {"a": 1}}' > z/zoo.json
fail_case "zoo.json gt not a string" "z/zoo.json" rank --zoo z --metric logme --quiet
mkzoo; echo '"just a string"' > z/zoo.json
fail_case "zoo.json not an object" "z/zoo.json: expected a JSON object" rank --zoo z --metric logme --quiet
mkzoo; cp truncated.json z/zoo.json
fail_case "zoo.json truncated" "z/zoo.json: malformed JSON" rank --zoo z --metric logme --quiet
mkzoo; rm z/beta_t1_label.npy
fail_case "zoo missing a label file" "missing z/beta_t1_label.npy" rank --zoo z --metric logme --quiet
mkzoo; cp truncated_data.npy z/beta_t1_feature.npy
fail_case "zoo truncated feature file" "z/beta_t1_feature.npy: truncated" rank --zoo z --metric logme --quiet --json z/out.json
nothing_left "zoo truncated feature file: no out.json" z/out.json
mkzoo; cp labels_one_class.npy z/alpha_t2_label.npy
fail_case "zoo labels of the wrong length" "z/alpha_t2_label.npy has 60 labels, z/alpha_t2_feature.npy has 48 rows" rank --zoo z --metric logme --quiet --json z/out.json
nothing_left "zoo labels of the wrong length: no out.json" z/out.json
mkzoo; for m in beta gamma delta; do rm z/${m}_t1_*; done
fail_case "zoo task with one model" "task 't1' has only one model; ranking needs two" rank --zoo z --task t1 --metric logme --quiet
mkzoo
fail_case "zoo unknown task" "task 't9' has no models in z" rank --zoo z --task t9 --metric logme --quiet
fail_case "zoo missing reference sets" "missing reference set z/alpha_nope_feature.npy" rank --zoo z --metric ped+logme --ref-name nope --quiet
fail_case "zoo folder does not exist" "zoo: missing-zoo is not a folder" rank --zoo missing-zoo --metric logme --quiet
mkdir -p emptyzoo
fail_case "zoo folder empty" "zoo: emptyzoo holds no <model>_<task>_feature.npy / _label.npy pairs" rank --zoo emptyzoo --metric logme --quiet
fail_case "zoo unknown metric" "rank: unknown metric 'nope'" rank --zoo z --metric logme,nope --quiet --json z/out.json
nothing_left "zoo unknown metric: no out.json" z/out.json
fail_case "zoo --gt file missing" "cannot open missing-gt.json" rank --zoo z --metric logme --quiet --gt missing-gt.json
: > notadir
fail_case "rank --json into a missing folder" "cannot write notadir/out.json" rank --zoo z --metric logme --quiet --json notadir/out.json

# ------------------------------------------------------------ Lua force laws (PED)
FL="$tmp/laws"; mkdir -p "$FL"
echo 'return function(d, ri, rj) error("the law broke at d=" .. d) end' > "$FL/raise.lua"
echo 'return function(d, ri, rj) return nil end' > "$FL/nil.lua"
echo 'return function(d, ri, rj) return 0/0 end' > "$FL/nan.lua"
echo 'return function(d, ri, rj) return math.huge end' > "$FL/inf.lua"
echo 'return function(d, ri, rj) while true do end end' > "$FL/loop.lua"
echo 'return function(d, ri, rj) local s while true do s = string.rep("x", 1 << 20) end end' > "$FL/cloop.lua"
echo 'local function f(n) return f(n + 1) + 1 end return function() return f(1) end' > "$FL/recurse.lua"
echo 'return function(d, ri, rj) return coroutine.yield(1) end' > "$FL/yield.lua"
echo 'return { system = function(c, r, f) error("system law broke") end }' > "$FL/sysraise.lua"
echo 'return { system = function(c, r, f) while true do end end }' > "$FL/sysloop.lua"
echo 'return { system = function(c, r, f) f:set(1, 1, 0/0) end }' > "$FL/sysnan.lua"
echo 'return function(d, ri, rj) return ( end' > "$FL/syntax.lua"
echo 'return 42' > "$FL/number.lua"
echo 'error("top level failed")' > "$FL/toplevel_error.lua"
echo 'while true do end' > "$FL/toplevel_loop.lua"
echo 'return function(d, ri, rj) return "1.5" end' > "$FL/string.lua"
echo 'os.exit(0)' > "$FL/toplevel_exit.lua"
echo 'return function(d, ri, rj) debug.sethook() while true do end end' > "$FL/unhook.lua"
OVX="--features $OV/features.npy --labels $OV/labels.npy --ref $OV/ref_features.npy"
law() { # name pattern law-file
  local name="$1" pat="$2" f="$3"
  fail_case "force law: $name" "$pat" score $OVX --force "$FL/$f" --metric ped+logme --save-shift shift.npy
  nothing_left "force law: $name: no shift.npy" shift.npy
}
law "raises" "ped: force law: $FL/raise.lua:1: the law broke at d=" raise.lua
law "returns nil" "force law returned nil (d=" nil.lua
law "returns NaN" "expected a finite number" nan.lua
law "returns inf" "force law returned inf" inf.lua
law "never returns (instruction limit)" "force law exceeded its instruction limit" loop.lua
law "never returns, time in C calls" "force law exceeded its" cloop.lua
law "infinite recursion" "stack overflow" recurse.lua
law "yields" "attempt to yield" yield.lua
law "system law raises" "system law broke" sysraise.lua
law "system law never returns" "force law exceeded its instruction limit" sysloop.lua
law "system law writes NaN" "force law returned a non-finite force" sysnan.lua
law "file with a syntax error" "force law $FL/syntax.lua: $FL/syntax.lua:1:" syntax.lua
law "file returns a number" "force law $FL/number.lua: the file must return a function(d, ri, rj, p)" number.lua
law "file raises at load" "force law $FL/toplevel_error.lua: $FL/toplevel_error.lua:1: top level failed" toplevel_error.lua
law "file never finishes loading" "$FL/toplevel_loop.lua" toplevel_loop.lua
law "file calls os.exit at load" "os.exit is not allowed inside a user file" toplevel_exit.lua
law "removes its hook, then loops" "debug.sethook is not allowed inside a user file" unhook.lua
law "file does not exist" "cannot open $FL/missing.lua" missing.lua
works "force law returns a numeric string (coerced)" "^ped\+logme	" score $OVX --force "$FL/string.lua" --metric ped+logme
fail_case "unknown force law name" "unknown force law 'nope'" score $OVX --force nope --metric ped+logme
fail_case "PED with a negative time step" "score: --dt -1: expected a finite number > 0" score $OVX --metric ped+logme --dt -1
fail_case "PED reference of the wrong width" "have 1 columns" score $G --metric ped+logme --ref d1_features.npy
fail_case "--save-shift without an extension" "--save-shift shiftfile: expected a file name ending in .npy or .csv" score $OVX --metric ped+logme --save-shift shiftfile
nothing_left "--save-shift without an extension: no shiftfile" shiftfile
fail_case "--save-shift into a missing folder" "cannot write notadir/shift.npy" score $OVX --metric ped+logme --save-shift notadir/shift.npy

# ------------------------------------------------------------ Lua scripts and -e
script_fail "-e: load a truncated .npy" "truncated_data.npy: truncated" -e 'require("pedlab").load("truncated_data.npy")'
script_fail "-e: dataset with NaN features" "nan_features.npy: row 8, column 3 is NaN" -e 'local pl = require "pedlab"; pl.metrics.logme(pl.dataset("nan_features.npy", "good_labels.npy"))'
script_fail "-e: deeply nested JSON" "json: " -e 'require("pedlab").json_decode(string.rep("[", 100000))'
script_fail "-e: JSON with a cycle" "json: nesting deeper than 200" -e 'local t = {} t[1] = t; require("pedlab").json_encode(t)'
script_fail "-e: save an unencodable value" "json: cannot encode a function" -e 'require("pedlab").save("fn.json", {f = print})'
nothing_left "-e: save an unencodable value: no fn.json" fn.json
script_fail "-e: save into a missing folder" "cannot write notadir/x.npy" -e 'local pl = require "pedlab"; pl.save("notadir/x.npy", pl.matrix{{1}})'
script_fail "-e: save without an extension" "shiftfile: no file extension; expected a name ending in .npy, .csv or .json" -e 'local pl = require "pedlab"; pl.save("shiftfile", pl.matrix{{1}})'
script_fail "-e: save onto a file it loaded" "pl.save: good_features.npy is an input of this run; refusing to overwrite it" -e 'local pl = require "pedlab"; pl.save("good_features.npy", pl.load("good_features.npy"))'
script_fail "-e: closed dataset" "dataset was closed" -e 'local pl = require "pedlab"; local d = pl.dataset("good_features.npy", "good_labels.npy"); d:close(); d:rows()'
script_fail "-e: shift of the wrong shape" "moved: shift is 1x1; expected classes×dim = 3x4" -e 'local pl = require "pedlab"; pl.dataset("good_features.npy", "good_labels.npy"):moved(pl.matrix{{0}})'
script_fail "-e: syntax error" "(command line):1:" -e 'this is not lua'
echo 'local pl = require "pedlab"
local m = pl.load("huge_shape.npy")' > script_huge.lua
script_fail "script: huge declared shape" "script_huge.lua:2: huge_shape.npy: truncated" script_huge.lua
script_fail "script: missing script file" "cannot open missing-script.lua" missing-script.lua
works "-e: missing file gives nil, message" "^nil	cannot open missing.npy" -e 'print(require("pedlab").load("missing.npy"))'

# ------------------------------------------------------------ FIFOs: an input never blocks
# A FIFO with no writer blocked open(2) forever; inputs open non-blocking and only regular
# files are read.
if mkfifo fifo.npy fifo.csv fifo.json 2>/dev/null; then
  SAVED_TMO=$TMO; [ ${#VG[@]} -eq 0 ] && TMO=15
  fail_case "FIFO features with no writer (no hang)" "fifo.npy is a FIFO" score --features fifo.npy $L --metric logme
  fail_case "FIFO labels with no writer (no hang)" "fifo.npy is a FIFO" score --features good_features.npy --labels fifo.npy --metric logme
  fail_case "FIFO csv features with no writer (no hang)" "fifo.csv is a FIFO" score --features fifo.csv $L --metric logme
  script_fail "-e: load a FIFO .npy with no writer (no hang)" "fifo.npy is a FIFO; expected a .npy file" -e 'require("pedlab").load("fifo.npy")'
  script_fail "-e: load a FIFO .json with no writer (no hang)" "fifo.json is a FIFO; expected a regular file" -e 'require("pedlab").load("fifo.json")'
  script_fail "-e: read_file of a FIFO with no writer (no hang)" "fifo.json is a FIFO; expected a regular file" -e 'require("pedlab").read_file("fifo.json")'
  TMO=$SAVED_TMO
else
  skipped "FIFO inputs (mkfifo failed)"
fi

summary

#!/bin/bash
# Outputs (issues 7, 12): every file pedlab writes goes temp + fsync + rename (core/io.c), so a
# reader sees the old file or the complete new one, never a partial write; no output replaces
# an input, a device, a FIFO or a symbolic link; journals are locked and every write checked.
#   bash tests/sh/test_atomic.sh PATH_TO_PEDLAB           (env PL_SOURCE_DIR)
# Writers are killed with SIGKILL at many moments; each time the destination must hold a
# complete version, and the only other files allowed are the writer's temporary files, named
# NAME.tmpXXXXXX (mkstemp's six characters) — a killed run may leave one (documented in
# docs/robustness.md; remove them with `rm NAME.tmp??????`).
#   PL_ATOMIC_KILLS=N   kills per writer (default 12)
set -u
P="$1"
SRC="${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
case "$P" in /*) ;; *) P="$(pwd)/$P" ;; esac
KILLS="${PL_ATOMIC_KILLS:-12}"
. "$SRC/tests/sh/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# strays DIR NAME...: sets others (files in DIR other than each NAME and NAME.tmpXXXXXX) and
# ntmp (how many NAME.tmpXXXXXX there are).
strays() {
  local d="$1" f n hit; shift
  others=""; ntmp=0
  for f in $(ls -A "$d"); do
    hit=0
    for n in "$@"; do
      if [ "$f" = "$n" ]; then hit=1; break; fi
      if [[ "$f" =~ ^${n//./\\.}\.tmp[A-Za-z0-9]{6}$ ]]; then ntmp=$((ntmp+1)); hit=1; break; fi
    done
    [ $hit -eq 0 ] && others="$others $f"
  done
}

# kill_at SECONDS CMD...: start CMD, SIGKILL it after SECONDS (if still running).
kill_at() {
  local t="$1"; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$t"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
}

# delays spread over [lo, hi) seconds
# run the command, wait until it has a NAME.tmpXXXXXX open (a write under way: a loaded machine
# may take seconds to start it), then kill it after $1 seconds
kill_in_write() {
  local t="$1" glob="$2"; shift 2
  "$@" >/dev/null 2>&1 &
  local pid=$! n=0
  while [ $n -lt 3000 ] && ! compgen -G "$glob" >/dev/null && kill -0 $pid 2>/dev/null; do
    sleep 0.01; n=$((n+1))
  done
  sleep "$t"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
}

delay() { awk -v i="$1" -v n="$KILLS" -v lo="$2" -v hi="$3" 'BEGIN { printf "%.3f", lo + (hi - lo) * (i + 0.5) / n }'; }

# ---------------------------------------------------------------- pl.write_file, 48 MB texts
# Version k is "BEGIN k SIZE\n" + filler + "\nEND k\n", exactly SIZE bytes: a partial file
# fails the size or the END line.
mkdir -p w
cat > writer.lua <<'EOF'
local pl = require "pedlab"
local path, first = arg[1], tonumber(arg[2])
local filler = string.rep("0123456789abcdef", 3 * 2^20)       -- 48 MiB
for k = first, first + 1000 do
  local tail = "\nEND " .. k .. "\n"
  local head0 = "BEGIN " .. k .. " "
  local size = #head0 + 12 + #filler + #tail
  local head = head0 .. string.format("%011d\n", size)
  pl.write_file(path, head .. filler .. tail)
end
EOF
cat > check_text.lua <<'EOF'
local f = assert(io.open(arg[1], "rb"))
local s = f:read("a") f:close()
local k, size = s:match("^BEGIN (%d+) (%d+)\n")
if not k then print("no header") os.exit(1) end
if #s ~= tonumber(size) then print("size " .. #s .. " ~= " .. size) os.exit(1) end
if s:sub(-#("\nEND " .. k .. "\n")) ~= "\nEND " .. k .. "\n" then print("bad END line") os.exit(1) end
print(k)
EOF
"$P" writer.lua w/out.txt 0 & wpid=$!
# let the first version land, then stop it: the old file is complete version 0
for _ in $(seq 100); do [ -s w/out.txt ] && break; sleep 0.1; done
kill -KILL $wpid 2>/dev/null; wait $wpid 2>/dev/null
rm -f w/out.txt.tmp??????
v0=$("$P" check_text.lua w/out.txt) && ok "pl.write_file: first version complete ($v0)" || bad "pl.write_file: first version: $v0"
torn=0; caught=0; versions=""
for i in $(seq 0 $((KILLS - 1))); do
  if [ $((i % 2)) -eq 0 ]; then kill_at "$(delay $i 0.05 1.5)" "$P" writer.lua w/out.txt $((i * 1000 + 1000))
  else kill_in_write "$(delay $i 0 0.05)" 'w/out.txt.tmp??????' "$P" writer.lua w/out.txt $((i * 1000 + 1000)); fi
  if v=$("$P" check_text.lua w/out.txt); then versions="$versions $v"; else torn=$((torn+1)); echo "     torn after kill $i: $v"; fi
  strays w out.txt
  [ -n "$others" ] && { torn=$((torn+1)); echo "     unexpected files: $others"; }
  [ $ntmp -gt 1 ] && { torn=$((torn+1)); echo "     $ntmp temp files after one kill"; }
  caught=$((caught + ntmp))
  rm -f w/out.txt.tmp??????
done
[ $torn -eq 0 ] && ok "pl.write_file killed $KILLS times: always a complete file (versions:$versions; $caught kills left a NAME.tmpXXXXXX)" \
               || bad "pl.write_file killed $KILLS times: $torn torn or unexpected"
[ $caught -gt 0 ] && ok "pl.write_file: some kills landed mid-write ($caught of $KILLS)" \
                  || bad "pl.write_file: no kill landed mid-write; the test proved nothing (raise PL_ATOMIC_KILLS?)"

# ---------------------------------------------------------------- pl.save, 32 MB .npy
# Version k is a 2048×2048 matrix filled with k: a partial file fails pl.load (truncated) and a
# mixed one fails the min = max check.
mkdir -p n
cat > npywriter.lua <<'EOF'
local pl = require "pedlab"
local m = pl.zeros(2048, 2048)
for k = tonumber(arg[2]), tonumber(arg[2]) + 1000 do
  m = m * 0 + k
  pl.save(arg[1], m)
end
EOF
cat > check_npy.lua <<'EOF'
local pl = require "pedlab"
local ok, m = pcall(pl.load, arg[1])
if not ok then print(m) os.exit(1) end
local r, c = m:shape()
if r ~= 2048 or c ~= 2048 then print("shape " .. r .. "x" .. c) os.exit(1) end
local k = m:get(1, 1)
if m:get(2048, 2048) ~= k or m:sum() ~= k * 2048 * 2048 then print("mixed contents") os.exit(1) end
print(math.tointeger(k))
EOF
"$P" npywriter.lua n/out.npy 0 & wpid=$!
for _ in $(seq 100); do [ -s n/out.npy ] && break; sleep 0.1; done
kill -KILL $wpid 2>/dev/null; wait $wpid 2>/dev/null
rm -f n/out.npy.tmp??????
torn=0; caught=0; versions=""
for i in $(seq 0 $((KILLS - 1))); do
  kill_at "$(delay $i 0.05 1.2)" "$P" npywriter.lua n/out.npy $((i * 1000 + 1000))
  if v=$("$P" check_npy.lua n/out.npy); then versions="$versions $v"; else torn=$((torn+1)); echo "     torn after kill $i: $v"; fi
  strays n out.npy
  [ -n "$others" ] && { torn=$((torn+1)); echo "     unexpected files: $others"; }
  caught=$((caught + ntmp))
  rm -f n/out.npy.tmp??????
done
[ $torn -eq 0 ] && ok "pl.save .npy killed $KILLS times: always complete (versions:$versions; $caught left a temp file)" \
               || bad "pl.save .npy killed $KILLS times: $torn torn or unexpected"

# ---------------------------------------------------------------- pedlab rank --json/--md/--csv
# The old outputs are sentinels; after each kill every output is the sentinel or a complete
# new file (JSON that parses with "tasks", Markdown/CSV ending in a newline with the last model).
mkdir -p r
ZOO="$SRC/data/demo"
if [ -f "$ZOO/gt.json" ]; then
  RANK=(rank --zoo "$ZOO" --task digits --metric logme,sfda,gbc --quiet --json r/out.json --md r/out.md --csv r/out.csv)
  start=$(date +%s%N); "$P" "${RANK[@]}" >/dev/null 2>&1; rc=$?; total=$(( ($(date +%s%N) - start) / 1000000 ))
  [ $rc -eq 0 ] && ok "rank writes json/md/csv (${total} ms)" || bad "rank run failed (exit $rc)"
  echo 'local t = require("pedlab").load(arg[1]) assert(t.tasks.digits.logme.weighted_tau)' > check_json.lua
  torn=0; newer=0
  for i in $(seq 0 $((KILLS - 1))); do
    echo OLD > r/out.json; echo OLD > r/out.md; echo OLD > r/out.csv
    # most kills near the end, where the files are written
    kill_at "$(awk -v i=$i -v n=$KILLS -v t=$total 'BEGIN { printf "%.3f", t / 1000 * (0.5 + 0.6 * i / n) }')" "$P" "${RANK[@]}"
    for f in out.json out.md out.csv; do
      if [ "$(cat r/$f)" = OLD ]; then continue; fi
      newer=$((newer+1))
      case $f in
        out.json) "$P" check_json.lua r/$f 2>/dev/null \
                    || { torn=$((torn+1)); echo "     torn r/$f after kill $i"; } ;;
        *) [ "$(tail -c 1 r/$f | od -An -c | tr -d ' ')" = '\n' ] && grep -q "simclr" r/$f \
             || { torn=$((torn+1)); echo "     torn r/$f after kill $i"; } ;;
      esac
    done
    strays r out.json out.md out.csv
    [ -n "$others" ] && { torn=$((torn+1)); echo "     unexpected files: $others"; }
    rm -f r/out.*.tmp??????
  done
  [ $torn -eq 0 ] && ok "rank killed $KILLS times: outputs old or complete ($newer new files seen)" \
                 || bad "rank killed $KILLS times: $torn torn or unexpected"
else
  skipped "rank kills (no data/demo)"
fi

# ---------------------------------------------------------------- permissions
# A file written through a temp file must still get the mode a plain open(2) would give
# (0666 & ~umask): mkstemp creates 0600, so pl_atomic_begin must fchmod the temp file.
mkdir -p m
(umask 022; "$P" -e 'require("pedlab").write_file("m/new.txt", "x")')
mode=$(stat -c %a m/new.txt 2>/dev/null)
[ "$mode" = 644 ] && ok "new file mode follows the umask (644)" || bad "new file mode is $mode, expected 644 under umask 022 (core/io.c pl_atomic_begin: mkstemp gives 0600)"
# Replacing an existing file gives it the new file's mode too (the temp file is a new inode);
# printed for information, not a requirement.
echo old > m/shared.txt; chmod 664 m/shared.txt
(umask 022; "$P" -e 'require("pedlab").write_file("m/shared.txt", "new")')
echo "note replacing a 664 file under umask 022 leaves mode $(stat -c %a m/shared.txt)"

# ---------------------------------------------------------------- failures leave nothing
mkdir -p f
"$P" -e 'require("pedlab").save("f/x.json", {ok = 1, bad = print})' >/dev/null 2>&1
left=$(ls -A f)
[ -z "$left" ] && ok "a failed save leaves no file and no temp" || bad "a failed save left: $left"
echo OLD > f/keep.json
"$P" -e 'require("pedlab").save("f/keep.json", {bad = print})' >/dev/null 2>&1
[ "$(cat f/keep.json)" = OLD ] && [ "$(ls -A f)" = keep.json ] && ok "a failed save keeps the old file" || bad "a failed save changed f/: $(ls -A f)"

# ---------------------------------------------------------------- outputs never replace inputs
# Every file pedlab read is noted (device + inode); an output onto one is refused before any
# work and the input is left as it was.
# fresh copies before each case: a failing case must not spoil the next one
fresh_o() { mkdir -p o; for f in features labels ref_features; do cp "$SRC/tests/fixtures/overlap/$f.npy" o/; done; }
OVX=(--features o/features.npy --labels o/labels.npy --ref o/ref_features.npy --metric ped+logme)
# refused NAME PATTERN FILE CMD...: non-zero exit, stderr names the input, FILE unchanged
refused() {
  local name="$1" pat="$2" file="$3"; shift 3
  local before; before=$(cksum < "$file")
  "$P" "$@" >/dev/null 2>err.txt; local rc=$?
  if [ $rc -ne 0 ] && grep -qF -- "$pat" err.txt && [ "$(cksum < "$file")" = "$before" ]; then ok "$name"
  else bad "$name: exit $rc, $(cksum < "$file" | cut -c1-12) vs $(echo "$before" | cut -c1-12): $(head -c 300 err.txt)"; fi
}
fresh_o; refused "--save-shift onto the --features file" "o/features.npy is an input of this run" o/features.npy \
  score "${OVX[@]}" --save-shift o/features.npy
fresh_o; refused "--save-shift onto the --labels file" "o/labels.npy is an input of this run" o/labels.npy \
  score "${OVX[@]}" --save-shift o/labels.npy
fresh_o; refused "pl.save onto a file pl.load read" "o/features.npy is an input of this run" o/features.npy \
  -e 'local pl = require "pedlab"; pl.save("o/features.npy", pl.load("o/features.npy") * 2)'
fresh_o; refused "pl.write_file onto a file pl.read_file read" "o/labels.npy is an input of this run" o/labels.npy \
  -e 'local pl = require "pedlab"; pl.write_file("o/labels.npy", pl.read_file("o/labels.npy") .. "x")'
mkdir -p g
if "$P" "$SRC/tests/bad/gen.lua" g >/dev/null 2>&1; then
  rm -rf z1 z2; cp -r g/zoo z1; cp -r g/zoo z2
  refused "rank --md onto a feature file of the zoo" "z1/alpha_t1_feature.npy is an input of this run" \
    z1/alpha_t1_feature.npy rank --zoo z1 --metric logme --quiet --md z1/alpha_t1_feature.npy
  refused "rank --json onto the zoo's gt.json" "z2/gt.json is an input of this run" z2/gt.json \
    rank --zoo z2 --metric logme --quiet --json z2/gt.json
else
  bad "cannot generate a zoo (tests/bad/gen.lua)"
fi

# ---------------------------------------------------------------- devices, FIFOs, links
# A device or FIFO is written as a stream, never replaced by a regular file (as root, a rename
# over /dev/full replaced the device); a symbolic link is followed: the target is replaced and
# the link kept. The device is a private node (mknod) so that a broken build cannot harm
# /dev/full itself.
mkdir -p d
if mknod d/full.json c 1 7 2>/dev/null; then
  "$P" rank --zoo g/zoo --metric logme --quiet --json d/full.json >/dev/null 2>err.txt; rc=$?
  if [ $rc -ne 0 ] && grep -qF "cannot write d/full.json: No space left on device" err.txt && [ -c d/full.json ]; then
    ok "rank --json onto a full device: error reported, device untouched"
  else bad "rank --json onto a full device: exit $rc, $(ls -l d/full.json): $(head -c 300 err.txt)"; fi
  "$P" -e 'require("pedlab").write_file("d/full.json", "x")' >/dev/null 2>err.txt; rc=$?
  if [ $rc -ne 0 ] && grep -qF "No space left on device" err.txt && [ -c d/full.json ]; then
    ok "pl.write_file onto a full device: error reported, device untouched"
  else bad "pl.write_file onto a full device: exit $rc, $(ls -l d/full.json): $(head -c 300 err.txt)"; fi
  ls d | grep -q tmp && bad "a temporary file was left next to the device: $(ls d)"
else
  skipped "full device node (mknod not permitted)"
fi
if mkfifo d/out.fifo 2>/dev/null; then
  timeout 20 cat d/out.fifo > d/got.txt & cpid=$!
  timeout 20 "$P" -e 'require("pedlab").write_file("d/out.fifo", "through the pipe\n")' >/dev/null 2>err.txt; rc=$?
  wait $cpid
  if [ $rc -eq 0 ] && [ "$(cat d/got.txt)" = "through the pipe" ] && [ -p d/out.fifo ]; then
    ok "output onto a FIFO: written as a stream, the FIFO kept"
  else bad "output onto a FIFO: exit $rc, read '$(cat d/got.txt)', $(ls -l d/out.fifo): $(head -c 300 err.txt)"; fi
  mkfifo d/noreader.fifo
  start=$(date +%s); timeout 30 "$P" -e 'require("pedlab").write_file("d/noreader.fifo", "x")' >/dev/null 2>err.txt; rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF "cannot write d/noreader.fifo: a FIFO with no reader" err.txt && [ -p d/noreader.fifo ]; then
    ok "output onto a FIFO with no reader: an error after ${secs} s, no hang"
  else bad "output onto a FIFO with no reader: exit $rc after ${secs} s: $(head -c 300 err.txt)"; fi
else
  skipped "FIFO output (mkfifo failed)"
fi
# /dev/fd/1 (like /dev/stdout) is the process's standard output (a pipe here, a file below),
# not a path to replace. (Not /dev/stdout itself: a broken build run as root would replace the
# system's /dev/stdout link with a regular file; /dev/fd/N cannot be created, so it is safe.)
got=$("$P" -e 'io.write("printed ") require("pedlab").write_file("/dev/fd/1", "then written\n")' 2>err.txt)
[ "$got" = "printed then written" ] && ok "output onto /dev/fd/1 (a pipe): written in order" \
  || bad "output onto /dev/fd/1 (a pipe): '$got': $(head -c 300 err.txt)"
"$P" -e 'io.write("printed ") require("pedlab").write_file("/proc/self/fd/1", "then written\n")' > d/stdout.txt 2>err.txt
[ "$(cat d/stdout.txt)" = "printed then written" ] && ok "output onto /proc/self/fd/1 (a file): written in order" \
  || bad "output onto /proc/self/fd/1 (a file): '$(cat d/stdout.txt)': $(head -c 300 err.txt)"
echo OLD > d/target.txt; ln -s target.txt d/link.txt
"$P" -e 'require("pedlab").write_file("d/link.txt", "NEW\n")' 2>err.txt
if [ -L d/link.txt ] && [ "$(readlink d/link.txt)" = target.txt ] && [ "$(cat d/target.txt)" = NEW ]; then
  ok "output onto a symbolic link: target replaced, link kept"
else bad "output onto a symbolic link: $(ls -l d/link.txt) target '$(cat d/target.txt)': $(head -c 300 err.txt)"; fi
ln -s sub/../made.txt d/dangling.txt; mkdir -p d/sub
"$P" -e 'require("pedlab").write_file("d/dangling.txt", "MADE\n")' 2>err.txt
if [ -L d/dangling.txt ] && [ "$(cat d/made.txt 2>/dev/null)" = MADE ]; then
  ok "output onto a dangling link: its target created, link kept"
else bad "output onto a dangling link: $(ls -l d/dangling.txt): $(head -c 300 err.txt)"; fi

# ---------------------------------------------------------------- journals
# A results journal is locked: a second run on the same file is refused instead of both
# appending torn lines; a device is refused (a journal is a regular file of this user's).
sleep 30 | "$P" -e 'local j = require("pedlab").journal("d/results.jsonl") j:append("{}") io.read()' & jpid=$!
for _ in $(seq 100); do [ -s d/results.jsonl ] && break; sleep 0.05; done
"$P" -e 'require("pedlab").journal("d/results.jsonl"):append("{}")' >/dev/null 2>err.txt; rc=$?
if [ $rc -ne 0 ] && grep -qF "d/results.jsonl is in use by another pedlab run" err.txt && [ "$(cat d/results.jsonl)" = "{}" ]; then
  ok "two journals on one file: the second is refused"
else bad "two journals on one file: exit $rc, file '$(cat d/results.jsonl)': $(head -c 300 err.txt)"; fi
kill $jpid 2>/dev/null; wait $jpid 2>/dev/null
"$P" -e 'require("pedlab").journal("d/results.jsonl"):append("{}")' 2>err.txt \
  && ok "the journal is free again once its run ended" || bad "journal still locked: $(head -c 300 err.txt)"
"$P" -e 'require("pedlab").journal("/dev/full"):append("{\"cell\":1}")' >/dev/null 2>err.txt; rc=$?
if [ $rc -ne 0 ] && grep -qF "/dev/full is a device; a journal must be a regular file" err.txt; then
  ok "a journal on a device is refused"
else bad "a journal on a device: exit $rc: $(head -c 300 err.txt)"; fi

# A full disk on a regular file, simulated with a file size limit (SIGXFSZ ignored, so the
# write fails with EFBIG as on a full disk): the failed append is undone, the journal keeps
# whole lines; an atomic write keeps the old file and leaves no temporary file.
( trap '' XFSZ; ulimit -f 4
  "$P" -e 'local j = require("pedlab").journal("d/limited.jsonl")
           for i = 1, 100 do j:append(string.rep("x", 999)) end' ) >/dev/null 2>err.txt; rc=$?
size=$(stat -c %s d/limited.jsonl)
if [ $rc -ne 0 ] && grep -qF "cannot write d/limited.jsonl: File too large" err.txt && [ "$size" = 4000 ]; then
  ok "journal on a full file system: the append fails, whole lines kept ($size bytes)"
else bad "journal on a full file system: exit $rc, $size bytes (expected 4000 = 4 lines): $(head -c 300 err.txt)"; fi
echo OLD > d/limited.txt
( trap '' XFSZ; ulimit -f 4
  "$P" -e 'require("pedlab").write_file("d/limited.txt", string.rep("x", 100000))' ) >/dev/null 2>err.txt; rc=$?
if [ $rc -ne 0 ] && grep -qF "cannot write d/limited.txt: File too large" err.txt && [ "$(cat d/limited.txt)" = OLD ] \
   && [ -z "$(ls d | grep 'limited.txt.tmp')" ]; then
  ok "atomic write on a full file system: error, old file kept, no temporary file"
else bad "atomic write on a full file system: exit $rc, '$(head -c 20 d/limited.txt)', $(ls d): $(head -c 300 err.txt)"; fi

summary

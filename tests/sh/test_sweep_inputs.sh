#!/usr/bin/env bash
# test_sweep_inputs.sh — a recorded sweep cell is reused only if everything it was computed from
# is unchanged (the task's models, each feature/label/reference file by content, the ground
# truth, zoo.json); --resume says what changed; --merge refuses shards of other inputs; a
# resume with nothing changed reads no feature file; the journal OUT.part is never followed
# through a link and never deleted by a run without --resume.
#   bash tests/sh/test_sweep_inputs.sh PATH_TO_PEDLAB     (PL_SOURCE_DIR = the source tree)
set -uo pipefail
PEDLAB=$(realpath "${1:?usage: bash test_sweep_inputs.sh PATH_TO_PEDLAB}")
SRC=${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
export PEDLAB_THREADS=1 PEDLAB_PROGRESS=0

scratch
mkdir z
for m in byol dae simclr; do cp "$D/${m}_digits_"* "$D/${m}_fmnist-train_feature.npy" z/; done
cat > z/gt.json <<'JSON'
{"digits": {"byol": 96.907, "dae": 97.13, "simclr": 98.197}}
JSON
cat > spec.lua <<LUA
return { zoo = "$tmp/z", metrics = { "logme" }, ped = "both", grid = { dt = { 0.05, 0.1 } },
         ref_name = "fmnist-train" }
LUA
# the stamps of files changed less than 2 s ago are not trusted: let the copies settle
sleep 3
run() { "$PEDLAB" sweep spec.lua --out res.jsonl --quiet "$@" 2>&1; }
# the models and weighted tau of res.jsonl's cells, one line
cat > taus.lua <<'LUA'
local pl = require "pedlab"
local f = assert(io.open(arg[1])) local out = {}
for l in f:lines() do local c = pl.json_decode(l)
  out[#out + 1] = #c.models .. ":" .. string.format("%.3f", c.measures.logme.weighted_tau) end
print(table.concat(out, " "))
LUA
taus() { "$PEDLAB" taus.lua "$1"; }

out=$(run); [ $? -eq 0 ] && ok "fresh run" || bad "fresh run: $out"

# nothing changed: every cell resumed, and no feature file read (bytes read by read(2))
cat > resume.lua <<'LUA'
local pl = require "pedlab"
local function rchar()
  local f = assert(io.open("/proc/self/io")) local t = f:read("a") f:close()
  return tonumber(t:match("rchar: (%d+)"))
end
local spec = dofile("spec.lua")
spec.out, spec.resume, spec.progress = "res.jsonl", true, false
local before = rchar()
local _, info = pl.sweep(spec)
print(info.resumed, info.computed, rchar() - before)
LUA
if [ -r /proc/self/io ]; then
  read -r resumed computed bytes < <("$PEDLAB" resume.lua)
  feat=$(cat z/*_feature.npy | wc -c)
  [ "$resumed" = 3 ] && [ "$computed" = 0 ] && [ "$bytes" -lt $((feat / 4)) ] &&
    ok "resume with nothing changed reads $bytes bytes (features: $feat)" ||
    bad "resume with nothing changed: resumed=$resumed computed=$computed read $bytes of $feat"
fi

# a model added to the zoo (and to the ground truth)
for f in "$D/rotnet_digits_"* "$D/rotnet_fmnist-train_feature.npy"; do cp "$f" z/; done
cat > z/gt.json <<'JSON'
{"digits": {"byol": 96.907, "dae": 97.13, "simclr": 98.197, "rotnet": 97.73}}
JSON
out=$(run --resume)
case $out in *"3 cells: 3 computed, 0 resumed; 3 cells recomputed: model rotnet added"*)
  ok "a new model recomputes every cell of its task";; *) bad "a new model: $out";; esac
cp res.jsonl four.jsonl
"$PEDLAB" sweep spec.lua --out fresh.jsonl --quiet >/dev/null 2>&1
[ -n "$(taus res.jsonl)" ] && [ "$(taus res.jsonl)" = "$(taus fresh.jsonl)" ] && ok "resumed = fresh after a model was added ($(taus res.jsonl))" ||
  bad "resumed $(taus res.jsonl) != fresh $(taus fresh.jsonl)"

# the ground truth reversed
cat > z/gt.json <<'JSON'
{"digits": {"byol": 98.197, "dae": 97.73, "simclr": 96.907, "rotnet": 97.13}}
JSON
out=$(run --resume)
case $out in *"3 cells recomputed: gt.json changed"*) ok "gt.json changed is recomputed";;
  *) bad "gt.json changed: $out";; esac
rm -f fresh.jsonl; "$PEDLAB" sweep spec.lua --out fresh.jsonl --quiet >/dev/null 2>&1
[ -n "$(taus res.jsonl)" ] && [ "$(taus res.jsonl)" = "$(taus fresh.jsonl)" ] && ok "resumed = fresh after gt.json changed" ||
  bad "resumed $(taus res.jsonl) != fresh $(taus fresh.jsonl)"

# a feature file rewritten with other bytes of the same size, its modification time put back
touch -r z/byol_digits_feature.npy stamp
cp "$D/dae_digits_feature.npy" z/byol_digits_feature.npy
touch -r stamp z/byol_digits_feature.npy
out=$(run --resume)
case $out in *"3 cells recomputed: model file byol_digits_feature.npy changed"*)
  ok "a rewritten feature file (mtime put back) is recomputed";; *) bad "rewritten file: $out";; esac
# a reference file: only the PED cells use it
cp "$D/simclr_fmnist-train_feature.npy" z/byol_fmnist-train_feature.npy
out=$(run --resume)
case $out in *"3 cells: 2 computed, 1 resumed; 2 cells recomputed: model file byol_fmnist-train_feature.npy changed"*)
  ok "a changed reference set recomputes the PED cells only";; *) bad "reference set: $out";; esac
# zoo.json
printf '{"ref": "fmnist-train"}\n' > z/zoo.json
out=$(run --resume)
case $out in *"cells recomputed: zoo.json changed"*) ok "zoo.json is an input";;
  *) bad "zoo.json: $out";; esac

# --merge: a shard computed on the 3-model zoo and one on the 4-model zoo
rm -f z/zoo.json
cp "$D/byol_digits_feature.npy" z/
cat > z/gt.json <<'JSON'
{"digits": {"byol": 96.907, "dae": 97.13, "simclr": 98.197, "rotnet": 97.73}}
JSON
"$PEDLAB" sweep spec.lua --out s2.jsonl --shard 2/2 --quiet >/dev/null 2>&1
mkdir z3; cp z/* z3/; rm z3/rotnet_*
printf '{"digits": {"byol": 96.907, "dae": 97.13, "simclr": 98.197}}\n' > z3/gt.json
"$PEDLAB" sweep spec.lua --zoo "$tmp/z3" --out s1.jsonl --shard 1/2 --quiet >/dev/null 2>&1
out=$("$PEDLAB" sweep spec.lua --merge m.jsonl s1.jsonl s2.jsonl 2>&1); rc=$?
[ $rc -eq 1 ] && [ ! -e m.jsonl ] && case $out in *"s1.jsonl line 1: "*"is not a cell of this spec (model rotnet added)"*) true;; *) false;; esac &&
  ok "--merge refuses a shard of another zoo, naming the difference" || bad "--merge: rc=$rc $out"

# the journal: a planted link is refused and its target untouched
echo precious > victim.txt
ln -s victim.txt j.jsonl.part
out=$("$PEDLAB" sweep spec.lua --out j.jsonl --quiet 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(cat victim.txt)" = precious ] && [ -L j.jsonl.part ] && [ ! -e j.jsonl ] &&
  case $out in *"j.jsonl.part is a symbolic link"*) true;; *) false;; esac &&
  ok "a symbolic link OUT.part is refused" || bad "symlink journal: rc=$rc $out; victim: $(cat victim.txt)"
rm -f j.jsonl.part

# a journal holding finished cells is never deleted by a run without --resume
head -n 2 res.jsonl > k.jsonl.part
out=$("$PEDLAB" sweep spec.lua --out k.jsonl --quiet 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < k.jsonl.part)" = 2 ] &&
  case $out in *"k.jsonl.part holds 2 finished cells"*"--resume"*) true;; *) false;; esac &&
  ok "a run without --resume refuses a journal of finished cells" || bad "lost journal: rc=$rc $out"
out=$("$PEDLAB" sweep spec.lua --out k.jsonl --quiet --resume 2>&1) &&
  [ ! -e k.jsonl.part ] && ok "--resume then keeps them" || bad "--resume after refusal: $out"

summary

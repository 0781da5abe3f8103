#!/bin/bash
# test_commands.sh PEDLAB — the command line as a new user meets it: a mistyped command, the
# version, errors that name the command (not the Lua function), hints for model names with '_'.
P="$1"
F="${PL_FIXTURES:?}"
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

out=$("$P" scroe 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "^pedlab: 'scroe' is not a pedlab command (nor a file); did you mean 'pedlab score'?" \
  && ok "a mistyped command suggests the nearest" || bad "scroe ($st): $out"
out=$("$P" rnak --zoo x 2>&1)
echo "$out" | grep -q "did you mean 'pedlab rank'" && ok "rnak → rank" || bad "rnak: $out"
out=$("$P" frobnicate 2>&1)
echo "$out" | grep -q "'frobnicate' is not a pedlab command (demo, score, rank, sweep, metrics) nor a script file" \
  && ok "a word far from every command" || bad "frobnicate: $out"
# the command list (scripts/pedlab/commands/init.lua): every name runs and is in the help
names=$("$P" -e 'for _, c in ipairs(require "pedlab.commands") do print(c.name) end')
help=$("$P" --help 2>&1)
[ -n "$names" ] && ok "pedlab.commands lists the commands" || bad "pedlab.commands: empty"
for c in $names; do
  out=$("$P" "$c" --help 2>&1); st=$?
  [ $st = 0 ] && echo "$out" | grep -q "^usage: pedlab $c" && ok "'$c' runs as a command" \
    || bad "'$c' --help ($st): $out"
  echo "$help" | grep -qE "^  $c +[a-z]" && ok "--help lists '$c' with its summary" \
    || bad "--help lacks '$c': $help"
done
# without the Lua files: one line says so (the executable alone in a folder of empty scripts)
mkdir -p bare/share/pedlab/scripts && cp "$P" bare/pedlab
out=$(env -u LUA_PATH -u LUA_PATH_5_4 bare/pedlab --help 2>&1)
echo "$out" | grep -q "^Commands: cannot be listed: module 'pedlab.commands' not found$" \
  && ok "--help without the Lua files" || bad "--help without the Lua files: $out"
out=$(env -u LUA_PATH -u LUA_PATH_5_4 bare/pedlab score 2>&1); st=$?
[ $st = 1 ] && [ "$out" = "pedlab: 'score' is not a script file, and pedlab's commands cannot be read: module 'pedlab.commands' not found" ] \
  && ok "a command without the Lua files: one line" || bad "command without the Lua files ($st): $out"
rm -r bare

out=$("$P" missing.lua 2>&1)
echo "$out" | grep -q "cannot open missing.lua" && ok "a missing script is still a missing file" || bad "missing.lua: $out"
printf 'print("ran")\n' > scroe
[ "$("$P" scroe 2>&1)" = ran ] && ok "a file named like a typo still runs" || bad "file scroe"
rm scroe

out=$("$P" --version) && echo "$out" | grep -qE '^pedlab [0-9]+\.[0-9]+' && ok "--version" || bad "--version: $out"
[ "$("$P" --version)" = "$("$P" -v)" ] && ok "--version = -v" || bad "--version differs from -v"

B="--features $F/blobs_small/features.npy --labels $F/blobs_small/labels.npy"
out=$("$P" score $B --metric ped+logme --no-ref --k 2 --force gaussian 2>&1)
echo "$out" | grep -q '^pedlab: score: k = 2: k has no effect' && ! echo "$out" | grep -q 'pl\.' \
  && ok "errors name the command, not pl.ped_run" || bad "internal name: $out"

# a model name with '_': the file name splits at the first '_'
mkdir z
cp "$F/blobs_small/features.npy" z/convnext_t_animals_feature.npy
cp "$F/blobs_small/labels.npy" z/convnext_t_animals_label.npy
cp "$F/blobs_small/features.npy" z/vit_animals_feature.npy
cp "$F/blobs_small/labels.npy" z/vit_animals_label.npy
echo '{"animals": {"convnext_t": 90, "vit": 80}}' > z/gt.json
out=$("$P" rank --zoo z --task all --metric logme 2>&1)
echo "$out" | grep -q "no task 't_animals' (files are <model>_<task>_feature.npy, split at the first '_'.*rename e.g. convnext_t to convnext-t" \
  && ok "a model name with '_': the hint" || bad "'_' hint: $out"

# slow work is announced before it starts (PEDLAB_FLOPS: a slow machine's rate)
out=$(PEDLAB_FLOPS=1e4 "$P" score $B --metric logme,nleep 2>&1 >/dev/null)
echo "$out" | grep -qE '^pedlab: score: this run is estimated to take about [0-9.]+ (min|h) .*nleep on 200×16, 4 classes ~' \
  && ok "score announces long work" || bad "score announce: $out"
out=$("$P" score $B --metric logme,nleep 2>&1 >/dev/null)
[ -z "$out" ] && ok "short work: nothing announced" || bad "short work announced: $out"
out=$(PEDLAB_FLOPS=1e5 "$P" rank --zoo "$PL_SOURCE_DIR/data/demo" --task digits --metric logme --quiet 2>&1 >/dev/null)
echo "$out" | grep -q '^pedlab: rank: this run is estimated to take about .*logme on ' && ok "rank announces long work" \
  || bad "rank announce: $out"
# continuous targets from the command line (a regression task)
"$P" -e 'local pl = require "pedlab"
pl.save("x.npy", pl.randn(100, 5, 1)); pl.save("y.npy", pl.randn(100, 2, 2))'
out=$("$P" score --features x.npy --targets y.npy --metric logme) && echo "$out" | grep -qE '^logme	-?[0-9.]+' \
  && [ "$out" = "logme	$("$P" -e 'local pl = require "pedlab"
print(pl.util.fmt(pl.metrics.logme_targets(pl.dataset("x.npy", nil, {targets = "y.npy"}))))')" ] \
  && ok "score --targets: LogME on continuous targets" || bad "score --targets: $out"
out=$("$P" score --features x.npy --targets y.npy --metric sfda 2>&1)
echo "$out" | grep -q 'score: --targets: sfda needs class labels' && ok "--targets refuses a metric of labels" \
  || bad "--targets sfda: $out"

# progress inside a long metric (N-LEEP's EM iterations), on a terminal only
if command -v script >/dev/null; then
  out=$(script -qec "'$P' score $B --metric nleep" /dev/null | tr '\r' '\n')
  echo "$out" | grep -qE '^score pass [0-9]+ \[[#.]+\] [0-9]+/100 nleep EM iterations \(at most\)  elapsed' \
    && ok "score: progress inside N-LEEP" || bad "nleep progress: $out"
  out=$("$P" score $B --metric nleep 2>&1 >/dev/null)
  [ -z "$out" ] && ok "no progress when stderr is not a terminal" || bad "progress into a pipe: $out"
fi
printf 'return { zoo = "%s", tasks = {"digits"}, metrics = {"logme"}, grid = {dt = {0.1, 0.2}}, ref_name = "fmnist-train" }\n' \
  "$PL_SOURCE_DIR/data/demo" > spec.lua
out=$(PEDLAB_FLOPS=1e5 "$P" sweep spec.lua --quiet --no-progress 2>&1 >/dev/null)
echo "$out" | grep -q '^pedlab: sweep: this run is estimated to take about .*logme on ' && ok "sweep announces long work" \
  || bad "sweep announce: $out"
summary

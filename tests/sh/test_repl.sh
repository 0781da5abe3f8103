#!/bin/bash
# The host: standard output write errors, and the interactive REPL under tmux (Ctrl-C at the
# prompt and at a continuation keeps the session, a running statement is interrupted, results
# print readably, help). Usage: test_repl.sh PEDLAB
set -u
P="$1"
F="${PL_SOURCE_DIR}/tests/fixtures"
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
sock="pedlab-test-repl-$$"
cleanup() { command -v tmux >/dev/null && tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
B="--features $F/blobs_small/features.npy --labels $F/blobs_small/labels.npy"

# ---- standard output write errors: non-zero exit and one line naming the cause ----
full_msg="pedlab: cannot write standard output: No space left on device"
expect_full() { # name args...
  local name="$1"; shift
  err=$("$@" 2>&1 >/dev/full); rc=$?
  [ $rc -ne 0 ] && [ "$err" = "$full_msg" ] && ok "$name" || bad "$name (rc=$rc): $err"
}
if [ -w /dev/full ]; then
  expect_full "score > /dev/full" "$P" score $B --metric logme
  expect_full "metrics > /dev/full" "$P" metrics
  expect_full "-e print > /dev/full" "$P" -e 'print(1)'
  expect_full "long output > /dev/full" "$P" -e 'for i = 1, 100000 do print(i) end'
  expect_full "os.exit(0) > /dev/full" "$P" -e 'print(1) os.exit(0)'
  expect_full "os.exit(true, true) > /dev/full" "$P" -e 'io.write("x") os.exit(true, true)'
  echo 'print(2)' > "$tmp/two.lua"
  expect_full "script > /dev/full" "$P" "$tmp/two.lua"
  err=$(echo 'print(3)' | "$P" - 2>&1 >/dev/full); rc=$?
  [ $rc -ne 0 ] && [ "$err" = "$full_msg" ] && ok "stdin script > /dev/full" \
    || bad "stdin script > /dev/full (rc=$rc): $err"
else
  skipped "/dev/full checks (/dev/full is not writable here)"
fi
err=$("$P" -e 'print(1)' 2>&1 >&-); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "^pedlab: cannot write standard output: " \
  && ok "closed stdout" || bad "closed stdout (rc=$rc): $err"
out=$("$P" -e 'print(1)' 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = 1 ] && ok "normal output exits 0" || bad "normal output (rc=$rc): $out"

# ---- help: every function the module exports has an entry ----
missing=$("$P" -e '
  local pl, help = require "pedlab", require "pedlab.help"
  local have, out = {}, {}
  for _, e in ipairs(help.entries) do have[e[1]] = true end
  for k, v in pairs(require "pedlab.core") do
    if type(v) == "function" and not have["pl." .. k] then out[#out + 1] = "pl." .. k end
  end
  table.sort(out) print(table.concat(out, " "))' 2>&1)
[ -z "$missing" ] && ok "every pl function has a help entry" || bad "no help entry for: $missing"
out=$("$P" -e 'print(require("pedlab.help").text("sys:simulate"))' 2>&1)
echo "$out" | grep -q "^  exit_ratio " && echo "$out" | grep -q "^  law_timeout " \
  && ok 'help("sys:simulate") shows its options' || bad "help(sys:simulate): $out"
out=$("$P" -e 'print(require("pedlab.help").text("gbc"))' 2>&1)
echo "$out" | grep -q "^pl.metrics.gbc(ds" && echo "$out" | grep -q "^  pca" \
  && ok "help of a metric: summary and options" || bad "help(gbc): $out"

# ---- the REPL under tmux ----
if ! command -v tmux >/dev/null; then
  skip_all "REPL checks (tmux is not installed: apt-get install tmux)"
fi
T() { tmux -L "$sock" "$@"; }
screen() { T capture-pane -p -J -t repl -S -1000 2>/dev/null; }
wait_for() { # a whole line (fixed string), -s a substring, -E a regex line; 10 s at most
  local mode=-xF
  [ "$1" = -s ] && { mode=-F; shift; }
  [ "$1" = -E ] && { mode=-xE; shift; }   # a regular expression for the whole line
  for _ in $(seq 200); do screen | grep -q $mode -- "$1" && return 0; sleep 0.05; done
  return 1
}
snap() { echo; screen | grep -v '^$' | tail -n 8; }
count() { screen | grep -cxF -- "$1"; }
send() { T send-keys -t repl -l -- "$1"; }
enter() { T send-keys -t repl Enter; }
ctrl_c() { T send-keys -t repl C-c; }

mkdir -p "$tmp/home"
# the shell around pedlab survives Ctrl-C (a trap, reset for pedlab by exec) and records
# pedlab's exit status
T -f /dev/null new-session -d -s repl -x 150 -y 60 "bash -c 'trap true INT; \
  env HOME=$tmp/home INPUTRC=/dev/null TERM=xterm \"$P\"; echo \$? > $tmp/status; sleep 60'"
alive() { [ ! -e "$tmp/status" ]; }
wait_for -s "pedlab> " && ok "REPL starts" || bad "REPL starts: $(snap)"

# (a key typed before the previous line is echoed could be flushed by the terminal's own
# Ctrl-C handling: wait for each echo first)
send 'x = 42'; enter
wait_for "pedlab> x = 42" || bad "x = 42 echoed: $(snap)"
send 'y = 1 +'
wait_for "pedlab> y = 1 +" || bad "y = 1 + echoed: $(snap)"
ctrl_c                                     # Ctrl-C at the prompt, line half typed
wait_for "pedlab> " || bad "a new prompt after Ctrl-C: $(snap)"
send 'for i = 1, 3 do'; enter              # a continuation ...
wait_for -s "    >> " || bad "continuation prompt: $(snap)"
send 'print("inside")'; enter
wait_for -s '    >> print("inside")' || bad "continuation echoed: $(snap)"
ctrl_c                                     # ... discarded by Ctrl-C
wait_for "pedlab> " || bad "a new prompt after Ctrl-C at a continuation: $(snap)"
send 'print(x, y)'; enter
wait_for -E "42 +nil" && ok "Ctrl-C at the prompt and at a continuation keeps the session" \
  || bad "Ctrl-C at the prompt: $(snap)"
alive && [ "$(count inside)" = 0 ] && ok "the continuation was discarded" \
  || bad "continuation ran: $(snap)"

send 'while true do end'; enter
wait_for "pedlab> while true do end" || bad "loop echoed: $(snap)"
sleep 0.3; ctrl_c
wait_for -s "interrupted!" && ok "Ctrl-C interrupts a running statement" \
  || bad "running statement not interrupted: $(snap)"
send 'print(x + 1)'; enter
wait_for "43" && ok "session alive after an interrupted statement" || bad "after interrupt: $(snap)"

# results print readably
send '= {1, 2, "three"}'; enter
wait_for '{1, 2, "three"}' && ok "array printed" || bad "array: $(snap)"
send '= {b = 1, a = "x", [10] = true, 7}'; enter
wait_for '{7, [10] = true, a = "x", b = 1}' && ok "record printed, keys sorted" \
  || bad "record: $(snap)"
send '= {a = {b = {c = {d = 1}}}}'; enter
wait_for '{a = {b = {c = {…}}}}' && ok "nesting cut at depth 3" || bad "nesting: $(snap)"
send 't = {} for i = 1, 500 do t[i] = i end'; enter
send 't'; enter
wait_for -s ', 30, … (470 more)}' && ok "long array cut" || bad "long array: $(snap)"
send '{pl.zeros(1, 2)}'; enter
wait_for -s '{Matrix 1x2' && ok "matrix in a table by its __tostring" \
  || bad "matrix in table: $(snap)"
send 'pl.zeros(2, 2)'; enter
wait_for "Matrix 2x2" && ok "matrix printed as before" || bad "matrix: $(snap)"
send '"a string", 5'; enter
wait_for -E "a string +5" && ok "several results, strings as they are" \
  || bad "several results: $(snap)"
send 'r = {name = "run", steps = 6, changes = {0.5, 0.25}, note = "line one\nline two"}'; enter
send 'r'; enter
wait_for '{changes = {0.5, 0.25}, name = "run", note = "line one\nline two", steps = 6}' \
  && ok "record with a nested array and an escaped string" || bad "nested record: $(snap)"

# help
send 'help()'; enter
wait_for -s "  pl.balls " && wait_for -s "  pl.dataset " && wait_for -s "  pl.metrics " \
  && ok "help() lists the API" || bad "help(): $(snap)"
T clear-history -t repl; T send-keys -t repl C-l
send 'help(pl.balls)'; enter
wait_for -s "radius" && wait_for -s "standardise" && ok "help(pl.balls) shows its options" \
  || bad "help(pl.balls): $(snap)"
T clear-history -t repl; T send-keys -t repl C-l
send 'help("pl.balls")'; enter
wait_for -s "radius" && ok 'help("pl.balls")' || bad "help(\"pl.balls\"): $(snap)"
send 'help("nope")'; enter
wait_for -s "no help for 'nope'" && ok "help of an unknown name says so" \
  || bad "help(nope): $(snap)"

alive && ok "the session is still alive" || bad "the session ended: $(snap)"
T send-keys -t repl C-d
for _ in $(seq 200); do alive || break; sleep 0.05; done
st=$(cat "$tmp/status" 2>/dev/null)
[ "$st" = 0 ] && ok "Ctrl-D ends the session with status 0" || bad "Ctrl-D: status '$st' $(snap)"

summary

#!/bin/bash
# The HTML report of `pedlab rank --html`: one self-contained page that headless Chromium loads
# without console errors, whose tables hold the values of `rank --json` (matrix, per-task model
# tables, best marks), and which shows every user string as text (escaped). Skipped (exit 77)
# when Chromium is not installed.
set -u
P="$1"
Z="${PL_SOURCE_DIR}/data/demo"
. "$(dirname "$0")/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then skip_all "HTML report (chromium not installed: apt-get install chromium)"; fi
if [ ! -x /usr/bin/python3 ]; then skip_all "HTML report (python3 not installed)"; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# load FILE.html → $tmp/dom.html (the DOM after loading), $tmp/console.log (Chromium's log)
load() {
  HOME="$tmp" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$tmp/profile" --host-resolver-rules="MAP * ~NOTFOUND" \
    --enable-logging=stderr --v=0 --dump-dom "file://$1" >"$tmp/dom.html" 2>"$tmp/console.log"
}
console_errors() { grep -E 'CONSOLE|Uncaught' "$tmp/console.log"; }

# the console check can fail: a page with a script error is caught
printf '<!DOCTYPE html><html><body><script>undefinedFn();</script></body></html>\n' >"$tmp/bad.html"
load "$tmp/bad.html"
console_errors >/dev/null && ok "a console error is detected" || bad "a console error is detected"

"$P" rank --zoo "$Z" --task digits,fmnist-rot90 --metric logme,ped+logme,sfda --ref-name fmnist-train \
  --quiet --html "$tmp/r.html" --json "$tmp/r.json" >/dev/null || bad "rank --html --json runs"
[ -s "$tmp/r.html" ] && ok "page written" || bad "page written"
# self-contained: nothing a browser would fetch
if grep -qiE '<script|<link|<img|<iframe|@import|url\(' "$tmp/r.html" \
   || grep -oE 'https?://[^" ]*' "$tmp/r.html" | grep -qv '^http://www.w3.org/2000/svg$'; then
  bad "self-contained page"
else ok "self-contained page"; fi
load "$tmp/r.html" && ok "chromium loads the page" || bad "chromium loads the page (rc=$?)"
if console_errors; then bad "no console errors"; else ok "no console errors"; fi

check() { # name: python checks of the dumped DOM against the JSON
  /usr/bin/python3 - "$tmp/dom.html" "$tmp/r.json" <<'EOF' && ok "$1" || bad "$1"
import json, sys
from html.parser import HTMLParser

class Dom(HTMLParser):
    """Tables as nested lists of cells: each cell (attrs, text); rows keep their attrs."""
    def __init__(self):
        super().__init__()
        self.tables, self.stack, self.cell = [], [], None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"attrs": a, "rows": []})
            self.stack.append(self.tables[-1])
        elif tag == "tr" and self.stack:
            self.stack[-1]["rows"].append({"attrs": a, "cells": []})
        elif tag in ("td", "th") and self.stack and self.stack[-1]["rows"]:
            self.cell = {"attrs": a, "text": ""}
            self.stack[-1]["rows"][-1]["cells"].append(self.cell)
        if tag in ("script", "b", "i") and self.stack:
            raise SystemExit("unexpected <%s> inside a table: a user string was not escaped" % tag)
    def handle_endtag(self, tag):
        if tag == "table" and self.stack: self.stack.pop()
        if tag in ("td", "th"): self.cell = None
    def handle_data(self, data):
        if self.cell is not None: self.cell["text"] += data

dom = Dom()
dom.feed(open(sys.argv[1], encoding="utf-8").read())
J = json.load(open(sys.argv[2]))
fails = []
def expect(cond, what):
    if not cond: fails.append(what)

def same(a, b):
    return float(a) == float(b)

# the Table-1 matrix: one row per metric, one cell per task (plus mean), exact and shown to 3 places
tau = [t for t in dom.tables if t["attrs"].get("id") == "tau"]
expect(len(tau) == 1, "one tau table")
metrics = J["settings"]["metrics"]
tasks = J["settings"]["tasks"]
seen = 0
for row in tau[0]["rows"][1:]:
    m = row["attrs"].get("data-metric")
    for c in row["cells"][1:]:
        task = c["attrs"].get("data-task")
        if task == "mean":
            vals = [J["tasks"][t][m]["weighted_tau"] for t in tasks]
            expect(abs(float(c["attrs"]["data-value"]) - sum(vals) / len(vals)) < 1e-12, "mean of " + m)
            continue
        v = J["tasks"][task][m]["weighted_tau"]
        expect(same(c["attrs"]["data-value"], v), "tau %s %s: %s vs %s" % (task, m, c["attrs"]["data-value"], v))
        expect(c["text"].split()[0] == "%.3f" % v, "tau %s %s shown as %r" % (task, m, c["text"]))
        seen += 1
expect(seen == len(tasks) * len(metrics), "every task x metric cell (%d)" % seen)
# best per column marked: the largest value of each column has class best
for j in range(1, len(tau[0]["rows"][0]["cells"])):
    col = [r["cells"][j] for r in tau[0]["rows"][1:]]
    best = max(col, key=lambda c: float(c["attrs"]["data-value"]))
    expect("best" in best["attrs"].get("class", ""), "best of column %d marked" % j)
    expect(sum("best" in c["attrs"].get("class", "") for c in col) == 1, "one best in column %d" % j)
# ped+ rows carry the change from the plain metric
for row in tau[0]["rows"][1:]:
    m = row["attrs"]["data-metric"]
    if m.startswith("ped+") and m[4:] in metrics:
        c = row["cells"][1]
        d = J["tasks"][c["attrs"]["data-task"]][m]["weighted_tau"] - J["tasks"][c["attrs"]["data-task"]][m[4:]]["weighted_tau"]
        shown = c["text"].split()[1].replace("\u2212", "-")
        expect(abs(float(shown) - d) < 6e-4, "delta of %s: %s vs %s" % (m, shown, d))

# per task and metric: models in predicted order with score, accuracy and both ranks
tables = [t for t in dom.tables if "models" in t["attrs"].get("class", "")]
expect(len(tables) == len(tasks) * len(metrics), "a model table per task and metric (%d)" % len(tables))
for t in tables:
    task, m = t["attrs"]["data-task"], t["attrs"]["data-metric"]
    r = J["tasks"][task][m]
    rows = t["rows"][1:]
    expect(len(rows) == len(r["scores"]), "%s %s: every model" % (task, m))
    last = 0
    for row in rows:
        model = row["attrs"]["data-model"]
        expect(row["cells"][1]["text"].startswith(model), "%s shown" % model)
        cells = {c["attrs"].get("data-col"): c for c in row["cells"]}
        expect(same(cells["score"]["attrs"]["data-value"], r["scores"][model]), "%s %s %s score" % (task, m, model))
        expect(same(cells["accuracy"]["attrs"]["data-value"], r["accuracies"][model]), "%s accuracy" % model)
        expect(int(cells["true_rank"]["attrs"]["data-value"]) == r["true_rank"][model], "%s true rank" % model)
        pr = int(cells["predicted_rank"]["attrs"]["data-value"])
        expect(pr == r["predicted_rank"][model], "%s predicted rank" % model)
        expect(pr == last + 1, "%s %s: rows in predicted order" % (task, m))
        last = pr
        cls = row["attrs"].get("class", "")
        expect(("pred-best" in cls) == (r["predicted_rank"][model] == 1), "%s predicted best mark" % model)
        expect(("true-best" in cls) == (r["true_rank"][model] == 1), "%s truly best mark" % model)

# settings and provenance shown
prov = [t for t in dom.tables if t["attrs"].get("id") == "provenance"]
expect(len(prov) == 1 and J["provenance"]["commit"] in "".join(c["text"] for r in prov[0]["rows"] for c in r["cells"]),
       "provenance shows the commit")
inputs = [t for t in dom.tables if t["attrs"].get("id") == "inputs"]
expect(len(inputs) == 1 and len(inputs[0]["rows"]) - 1 == len(J["provenance"]["inputs"]), "every input listed")
if fails:
    print("\n".join(fails[:20]))
    sys.exit(1)
EOF
}
check "page tables match the JSON"
grep -q '<figure class="rank"><svg' "$tmp/r.html" && grep -q '<figure class="energy"><svg' "$tmp/r.html" \
  && ok "rank-calibration and energy figures inline" || bad "figures inline"

# user strings are text: a zoo whose model names hold markup
mkdir -p "$tmp/zoo"
i=0
for m in byol dae simclr rotnet; do
  i=$((i+1))
  name="m$i<b>&amp;\"'"
  cp "$Z/${m}_digits_feature.npy" "$tmp/zoo/${name}_digits_feature.npy"
  cp "$Z/${m}_digits_label.npy" "$tmp/zoo/${name}_digits_label.npy"
done
/usr/bin/python3 -c '
import json, sys
gt = {"digits": {"m%d<b>&amp;\"'"'"'" % i: 90.0 + i for i in range(1, 5)}}
json.dump(gt, open(sys.argv[1], "w"))' "$tmp/zoo/gt.json"
"$P" rank --zoo "$tmp/zoo" --task digits --metric logme --quiet --html "$tmp/r.html" --json "$tmp/r.json" >/dev/null \
  && ok "rank on odd model names" || bad "rank on odd model names"
load "$tmp/r.html"
if console_errors; then bad "no console errors (odd names)"; else ok "no console errors (odd names)"; fi
check "odd names: page tables match the JSON, no markup from names"
grep -q 'm1&lt;b&gt;&amp;amp;&quot;&#39;' "$tmp/r.html" && ok "names escaped" || bad "names escaped"

summary

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


# ---- figures as a browser lays them out: every text inside its SVG's viewBox (no cut label or
# legend), every point labelled or titled, the chosen radius and the settings on the page;
# a screenshot of the report is taken (kept in $PL_SHOTS when set)
"$P" rank --zoo "$Z" --task digits --metric logme,ped+logme,ped+sfda --radius auto:pairs --ref-name fmnist-train \
  --quiet --html "$tmp/f.html" --plot "$tmp/plots" >/dev/null || bad "rank --radius auto:pairs --html --plot"
cat > "$tmp/figs.lua" <<'EOF2'
-- a 2-D PCA, a scatter with long group names at the right edge, lines whose series are points
local pl = require "pedlab"
local dir, zoo = arg[1], arg[2]
local ds = pl.dataset(zoo .. "/byol_digits_feature.npy", zoo .. "/byol_digits_label.npy")
local moved = pl.ped.run(ds, { no_ref = true })
pl.plot.pca2d(ds, moved, dir .. "/plots/pca.svg", "PCA before and after PED")
pl.plot.scatter { path = dir .. "/plots/long.svg", title = "long names", xlabel = "x", ylabel = "y",
  points = { { x = 1, y = 1, label = "random-init-with-a-long-name", group = "class airplane with a long name" },
             { x = 12, y = 12, label = "random-init-at-the-right-edge", group = "class automobile" } } }
pl.plot.lines { path = dir .. "/plots/rules.svg", title = "radius rules", xlabel = "radius",
  ylabel = "weighted tau", series = { { name = "auto:pairs (a single point)", x = { 0.6 }, y = { 0.4 } },
  { name = "auto:fisher-and-a-long-rule-name", x = { 0.61 }, y = { 0.41 } },
  { name = "fixed radii", x = { 0.2, 0.6, 1.0 }, y = { 0.3, 0.5, 0.2 } } } }
EOF2
"$P" "$tmp/figs.lua" "$tmp" "$Z" || bad "pca2d and lines figures"
{
  echo '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
  for f in "$tmp"/plots/*.svg; do echo "<div data-file=\"$(basename "$f")\">"; cat "$f"; echo '</div>'; done
  cat <<'EOF2'
<pre id="geometry"></pre>
<script>
const bad = [], seen = {svgs: 0, texts: 0};
document.querySelectorAll("div[data-file]").forEach(div => {
  const svg = div.querySelector("svg"), vb = svg.viewBox.baseVal, box = svg.getBoundingClientRect();
  const k = vb.width / box.width;
  seen.svgs++;
  svg.querySelectorAll("text").forEach(t => {
    const r = t.getBoundingClientRect();
    const x0 = (r.left - box.left) * k, x1 = (r.right - box.left) * k;
    const y0 = (r.top - box.top) * k, y1 = (r.bottom - box.top) * k;
    seen.texts++;
    if (x0 < -0.5 || y0 < -0.5 || x1 > vb.width + 0.5 || y1 > vb.height + 0.5)
      bad.push(div.dataset.file + ": '" + t.textContent + "' at " + [x0, y0, x1, y1].map(Math.round));
  });
});
document.getElementById("geometry").textContent = JSON.stringify({bad: bad, seen: seen});
</script></body></html>
EOF2
} > "$tmp/geom.html"
load "$tmp/geom.html"
/usr/bin/python3 - "$tmp/dom.html" "$(ls "$tmp"/plots/*.svg | wc -l)" <<'EOF2' && ok "figures: every text inside its viewBox" \
  || bad "figures: text outside the viewBox"
import json, re, sys, html
m = re.search(r'<pre id="geometry">(.*?)</pre>', open(sys.argv[1], encoding="utf-8").read(), re.S)
g = json.loads(html.unescape(m.group(1)))
print("\n".join(g["bad"][:10]))
assert g["seen"]["svgs"] == int(sys.argv[2]) and g["seen"]["texts"] > 50, g["seen"]
assert not g["bad"]
EOF2
/usr/bin/python3 - "$tmp/plots" <<'EOF2' && ok "figures: every point labelled and titled, single points as markers" \
  || bad "figures: points, labels, legend"
import glob, re, sys
d = sys.argv[1]
for f in glob.glob(d + "/*_rank_*.svg"):
    s = open(f, encoding="utf-8").read()
    titles = len(re.findall(r"<title>", s))
    labels = len(re.findall(r'font-size="9"', s))
    assert titles >= labels > 0 and labels % 12 == 0, (f, titles, labels)
s = open(d + "/rules.svg", encoding="utf-8").read()
legend = s[s.rindex('stroke="#bbbbbb"'):]
assert legend.count("<line") == 1, "only the real line is a line in the legend"
assert "class airplane with a long name" in open(d + "/long.svg", encoding="utf-8").read()
EOF2
load "$tmp/f.html"
grep -q '<p class="radius">Radius 0\.[0-9]* chosen by <code>auto:pairs</code>' "$tmp/dom.html" \
  && grep -q 'radius chosen: digits ped+logme 0\.[0-9]*, digits ped+sfda 0\.[0-9]*' "$tmp/dom.html" \
  && ok "report: the chosen radius, why, and the settings" || bad "report: radius and settings"
HOME="$tmp" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$tmp/profile" --host-resolver-rules="MAP * ~NOTFOUND" --hide-scrollbars \
  --window-size=1200,6000 --screenshot="$tmp/report.png" "file://$tmp/f.html" >/dev/null 2>&1
[ "$(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
  && [ "$(stat -c %s "$tmp/report.png")" -gt 20000 ] && ok "report screenshot" || bad "report screenshot"
[ -n "${PL_SHOTS:-}" ] && cp "$tmp/report.png" "$tmp/geom.html" "$PL_SHOTS"/ 2>/dev/null

summary

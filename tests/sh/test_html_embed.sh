#!/bin/bash
# The embedding figures of `pedlab rank --html` in headless Chromium: per task the predicted-best
# and the truly best model before and after PED, each a figure with a caption naming the method;
# laid out inside their boxes (every point, panel title, legend entry and count line inside its
# SVG, every SVG inside its figure and the page's width; points inside their panel's frame); the
# screenshot shows the class colours where the figure is; --embed pca and none. Skipped (exit
# 77) when Chromium or python3 is not installed.
set -u
P="$1"
Z="${PL_SOURCE_DIR}/data/demo"
. "$(dirname "$0")/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then echo "skip: chromium not installed"; exit 77; fi
if [ ! -x /usr/bin/python3 ]; then echo "skip: python3 not installed"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chromium() {
  HOME="$tmp" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$tmp/profile" --host-resolver-rules="MAP * ~NOTFOUND" --hide-scrollbars \
    --window-size=1200,900 "$@" 2>"$tmp/console.log"
}

# measure PAGE.html → $tmp/measure.json: a copy of the page with a script that reads the layout
# (the report itself has no script) and writes its findings into the DOM, which is dumped.
measure() {
  /usr/bin/python3 - "$1" "$tmp/m.html" <<'EOF2'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
script = r"""<script>
function box(e) { const r = e.getBoundingClientRect();
  return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; }
function inside(a, b, tol) { return a.x >= b.x - tol && a.y >= b.y - tol &&
  a.x + a.w <= b.x + b.w + tol && a.y + a.h <= b.y + b.h + tol; }
const out = {width: document.documentElement.scrollWidth, viewport: innerWidth, figures: []};
for (const f of document.querySelectorAll("figure.embedding")) {
  const svg = f.querySelector("svg"), cap = f.querySelector("figcaption");
  const fb = box(f), sb = box(svg), r = {model: f.dataset.model, method: f.dataset.method,
    caption: cap ? cap.textContent : null, svg: sb, figure: fb, problems: []};
  if (!inside(sb, fb, 0.5)) r.problems.push("svg outside its figure");
  if (sb.x + sb.w > out.viewport + 0.5) r.problems.push("svg wider than the page");
  if (cap && box(cap).y < sb.y + sb.h - 0.5) r.problems.push("caption overlaps the svg");
  for (const e of svg.querySelectorAll("text, circle, rect, polygon"))
    if (!inside(box(e), sb, 0.5)) r.problems.push("outside the svg: " + e.outerHTML.slice(0, 80));
  r.panels = [];
  for (const p of svg.querySelectorAll("g.panel")) {
    const frame = box(p.querySelector("rect.box"));
    let n = 0, out_ = 0;
    for (const c of p.querySelectorAll("g.points > *")) {
      n++;
      if (!inside(box(c), frame, 0.5)) out_++;
    }
    r.panels.push({title: p.dataset.panel, points: n, outside: out_});
  }
  r.legend = [...svg.querySelectorAll("g.legend text")].map(t => t.lastChild.textContent);
  const c = svg.querySelector("text.count"); r.count = c ? c.textContent : null;
  out.figures.push(r);
}
document.body.innerHTML = "<pre id='measure'>" + JSON.stringify(out) + "</pre>";
</script>"""
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", script + "</body>"))
EOF2
  chromium --dump-dom "file://$tmp/m.html" >"$tmp/dom.html"
  /usr/bin/python3 - "$tmp/dom.html" >"$tmp/measure.json" <<'EOF2'
import html, re, sys
m = re.search(r"<pre id=\"measure\">(.*?)</pre>", open(sys.argv[1], encoding="utf-8").read(), re.S)
print(html.unescape(m.group(1)) if m else "{}")
EOF2
}

"$P" rank --zoo "$Z" --task digits,fmnist-rot90 --metric logme,ped+logme --ref-name fmnist-train \
  --quiet --html "$tmp/r.html" --json "$tmp/r.json" >/dev/null || bad "rank --html runs"
measure "$tmp/r.html"
what="t-SNE figures: present, labelled, inside their boxes"
/usr/bin/python3 - "$tmp/measure.json" "$tmp/r.json" <<'EOF' && ok "$what" || bad "$what"
import json, sys
M, J = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
fails = []
def expect(c, what):
    if not c: fails.append(what)
figs = M["figures"]
tasks = J["settings"]["tasks"]
want = 0
for t in tasks:
    r = J["tasks"][t]["ped+logme"]
    pred = [m for m, k in r["predicted_rank"].items() if k == 1][0]
    true = [m for m, k in r["true_rank"].items() if k == 1][0]
    models = {pred, true}
    want += len(models)
    for m in models:
        f = [f for f in figs if f["model"] == m and (" on %s," % t) in f["caption"]]
        expect(len(f) == 1, "%s on %s: one figure" % (m, t))
        if not f: continue
        f = f[0]
        expect("predicted best by ped+logme" in f["caption"] or m != pred, m + ": role predicted")
        expect("truly best" in f["caption"] or m != true, m + ": role truly best")
expect(len(figs) == want, "%d figures, expected %d" % (len(figs), want))
expect(M["width"] <= M["viewport"],
       "the page scrolls sideways: %s > %s" % (M["width"], M["viewport"]))
for f in figs:
    expect(f["method"] == "tsne", "t-SNE by default")
    expect(f["caption"] and "t-SNE (Barnes" in f["caption"], "caption names the method")
    expect([p["title"] for p in f["panels"]] == ["before PED", "after PED"], "two panels")
    expect(f["legend"] == [str(c) for c in range(10)], "legend: the ten classes, %s" % f["legend"])
    expect(f["count"] and "rows" in f["count"], "row count stated")
    expect(all(p["points"] > 100 and p["points"] == f["panels"][0]["points"] for p in f["panels"]),
           "the same rows in both panels")
    expect(all(p["outside"] == 0 for p in f["panels"]), "points inside their frame")
    expect(not f["problems"], "; ".join(f["problems"][:5]))
if fails:
    print("\n".join(fails[:20]))
    sys.exit(1)
EOF

# the screenshot: where the first embedding is, the class colours are (not a blank box)
read -r fx fy fw fh < <(/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["figures"][0]["svg"]
print(int(s["x"]), int(s["y"]), int(s["w"]), int(s["h"]))' "$tmp/measure.json")
if /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
  chromium --window-size=1200,$((fy + fh + 40)) --screenshot="$tmp/shot.png" "file://$tmp/r.html" \
    >/dev/null
  what="screenshot: the figure's points in the Okabe-Ito colours"
  /usr/bin/python3 - "$tmp/shot.png" "$fx" "$fy" "$fw" "$fh" <<'EOF' && ok "$what" || bad "$what"
import sys
from PIL import Image
x, y, w, h = map(int, sys.argv[2:])
im = Image.open(sys.argv[1]).convert("RGB").crop((x, y, x + w, y + h))
# the first four palette colours (#0072B2, #D55E00, #009E73, #CC79A7), blended at 0.75 on #fafafa
want = [(0x00, 0x72, 0xB2), (0xD5, 0x5E, 0x00), (0x00, 0x9E, 0x73), (0xCC, 0x79, 0xA7)]
want = [tuple(round(0.75 * c + 0.25 * 0xfa) for c in w_) for w_ in want]
px = im.getdata()
found = [sum(1 for p in px if all(abs(p[i] - c[i]) <= 12 for i in range(3))) for c in want]
if min(found) < 10:
    print("palette pixels found:", found)
    sys.exit(1)
EOF
else
  echo "skip: screenshot pixels (python3-pil not installed)"
fi

# --embed pca: the method named; --embed none: no figure
R=("$P" rank --zoo "$Z" --task digits --metric logme --quiet)
"${R[@]}" --embed pca --html "$tmp/p.html" >/dev/null \
  && grep -q 'data-method="pca"' "$tmp/p.html" \
  && grep -q '<figcaption>[^<]*PCA (first two' "$tmp/p.html" \
  && ! grep -q 'data-method="tsne"' "$tmp/p.html" && ok "--embed pca" || bad "--embed pca"
"${R[@]}" --embed none --html "$tmp/n.html" >/dev/null \
  && ! grep -q 'class="embedding"' "$tmp/n.html" && ok "--embed none" || bad "--embed none"
"${R[@]}" --embed umap --html "$tmp/u.html" \
  2>"$tmp/err" >/dev/null
[ $? -ne 0 ] && grep -q "embed umap: expected none, pca or tsne" "$tmp/err" \
  && [ ! -e "$tmp/u.html" ] \
  && ok "--embed umap refused" || bad "--embed umap refused"
summary

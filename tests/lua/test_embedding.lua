-- test_embedding.lua — plot.embedding: before/after panels of the same rows, one colour and
-- marker per class, a legend entry per class, the subsample stated, options checked, the file
-- written atomically (a failed plot leaves an older file untouched).
local T = require "harness"
local pl = require "pedlab"
local plot = require "pedlab.plot"
local embedding = require "pedlab.embedding"

local ZOO = T.source .. "/data/demo"
local dir = os.tmpname() .. ".d"
pl.mkdir(dir)
local ds = pl.dataset(ZOO .. "/byol_digits_feature.npy", ZOO .. "/byol_digits_label.npy")
local moved = pl.ped_run(ds, { ref = pl.load(ZOO .. "/byol_fmnist-train_feature.npy") })

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

T.case("t-SNE before and after: two panels, every row, a legend entry per class", function()
  local svg, E = plot.embedding(ds, moved, dir .. "/t.svg")
  T.eq(slurp(dir .. "/t.svg"), svg, "file = returned text")
  T.eq(E.method, "tsne", "t-SNE by default")
  T.eq(count(svg, '<g class="panel"'), 2, "two panels")
  assert(svg:find("before PED", 1, true) and svg:find("after PED", 1, true), "panel titles")
  T.eq(count(svg, "<circle"), 2 * 300 + 10, "300 points per panel, 10 legend markers")
  assert(svg:find("all 300 rows", 1, true), "row count stated")
  assert(svg:find("t-SNE, perplexity 30", 1, true), "method stated")
  -- the same class, the same colour in both panels: the n-th point of each panel matches
  local cols = {}
  for c in svg:gmatch('<circle cx="[^"]+" cy="[^"]+" r="2.20" fill="(#%x+)"') do
    cols[#cols + 1] = c
  end
  T.eq(#cols, 600, "points")
  for i = 1, 300 do T.eq(cols[i], cols[300 + i], "colour of row " .. i) end
  -- Okabe-Ito first: class 0 is the palette's first colour
  assert(svg:find('fill="' .. plot.PALETTE[1]
                  .. '"/>\n<text x="[%d.]+" y="[%d.]+"><title>0</title>0</text>'),
         "legend: class 0 in the first colour")
end)

T.case("PCA, a subsample, one panel", function()
  local svg, E = plot.embedding(ds, nil, dir .. "/p.svg", { method = "pca", max_points = 120 })
  T.eq(E.method, "pca", "pca")
  T.eq(count(svg, '<g class="panel"'), 1, "one panel")
  T.eq(count(svg, "<circle"), 120 + 10, "120 points")
  assert(svg:find("120 of 300 rows (evenly subsampled)", 1, true), "subsample stated")
  T.eq(embedding.default_method(20000), "tsne", "t-SNE up to 20000 rows")
  T.eq(embedding.default_method(20001), "pca", "PCA above")
end)

T.case("many classes: colours repeat with other markers, the legend wraps inside", function()
  local n, labels = 260, {}
  local X = pl.zeros(n, 3)
  for i = 1, n do
    labels[i] = (i - 1) % 26
    X:set(i, 1, labels[i] % 5 + 0.01 * i)
    X:set(i, 2, labels[i] // 5 + 0.003 * i)
    X:set(i, 3, math.sin(i))
  end
  local d = pl.dataset(X, labels)
  local svg = plot.embedding(d, nil, dir .. "/many.svg", { max_iter = 250 })
  local W, H = svg:match('width="(%d+)" height="(%d+)"')
  W, H = tonumber(W), tonumber(H)
  T.eq(count(svg, "<title>"), 26, "26 legend entries")
  assert(svg:find("<rect x=", 1, true) and svg:find("<polygon", 1, true),
         "other markers after 12 classes")
  for x, y in svg:gmatch('<text x="([%d.]+)" y="([%d.]+)"') do
    assert(tonumber(x) < W and tonumber(y) < H, "text inside the figure: " .. x .. "," .. y)
  end
end)

T.case("options checked; a failed plot leaves the older file", function()
  local path = dir .. "/keep.svg"
  T.write(path, "old")
  T.raises("unknown option 'maxpoints' (did you mean 'max_points'?)", plot.embedding, ds, moved,
           path, { maxpoints = 5 })
  T.raises('method = umap: expected "tsne" or "pca"', plot.embedding, ds, moved, path,
           { method = "umap" })
  T.raises("perplexity is a t-SNE option; method is pca", plot.embedding, ds, moved, path,
           { method = "pca", perplexity = 5 })
  T.raises("max_points = 2: expected a whole number >= 3", plot.embedding, ds, moved, path,
           { max_points = 2 })
  T.raises("path is required", plot.embedding, ds, moved, nil)
  T.raises("perplexity = 400", plot.embedding, ds, moved, path, { perplexity = 400 })
  T.eq(slurp(path), "old", "older file untouched")
end)

T.done()

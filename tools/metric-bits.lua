-- tools/metric-bits.lua — every metric's score on every fixture dataset, printed exactly (%a),
-- and again with each fixture's labels taken mod 2 (the two-class paths, e.g. NCTI's expit).
-- NCTI's parts also with pca_clip (the fixtures have fewer than 64 dimensions). A metric that
-- refuses a dataset prints its message. Run from the source folder:
--   pedlab tools/metric-bits.lua       (tools/same-outputs.sh compares it with tests/expected/)
local pl = require "pedlab"

local names = {}
for _, d in ipairs(pl.metrics.list()) do names[#names + 1] = d.name end
for _, p in ipairs { "ncti_ncc", "ncti_nuc", "ncti_vc" } do names[#names + 1] = p .. "+clip" end

local function score_all(case, ds)
  for _, m in ipairs(names) do
    local name, clip = m:gsub("%+clip$", "")
    local ok, v = pcall(pl.metrics.score, name, ds, clip > 0 and { pca_clip = true } or nil)
    local shown = ok and string.format("%a", v) or tostring(v):gsub("\n", " ")
    print(case, m, shown)
  end
end

local cases = { "blobs_small", "digits", "fmnist", "imbalanced", "overlap", "wide" }
for _, c in ipairs(cases) do
  local base = "tests/fixtures/" .. c .. "/"
  local ds = pl.dataset(base .. "features.npy", base .. "labels.npy",
    { source_probs = base .. "source_probs.npy", source_labels = base .. "source_labels.npy" })
  score_all(c, ds)
end
for _, c in ipairs(cases) do
  local base = "tests/fixtures/" .. c .. "/"
  local y = {}
  for i, v in ipairs(pl.load(base .. "labels.npy"):totable()) do
    y[i] = math.floor(type(v) == "table" and v[1] or v) % 2
  end
  score_all(c .. "%2", pl.dataset(base .. "features.npy", y))
end

-- test_numerics.lua — numerical guards of every metric (issue 7, robustness suite).
--
-- 1. Near-singular inputs (rank-deficient, a tiny-variance column, features scaled by 1e6 and
--    1e-6, constant features): every score is a finite number or an error that names the
--    metric; never NaN, never a crash.
-- 2. Invariances the mathematics promises:
--    - a permutation of the samples (rows, labels and source-model inputs together) changes
--      no score beyond rounding (1e-9 relative). Excluded: nleep, whose k-means++ seeding draws
--      sample indices (a different order picks different seeds, a different local optimum of
--      EM: checked loosely, 5e-2); parc is deterministic for N <= 15000 and must hold to 1e-9
--      too, except for ties: its Spearman correlation ranks N(N-1)/2 pair correlations, and
--      pairs whose correlations tie within rounding may swap ranks (1e-6 relative).
--    - an order-preserving relabelling of the classes (id → 7·id + 3) gives bit-identical
--      scores (the encoded labels are the same); a relabelling that changes the class order
--      (id → (C − 1 − id)) changes only summation order (1e-9).
local T = require "harness"
local pl = require "pedlab"

local function matrix_rows(m)
  local t = m:totable()
  if type(t[1]) ~= "table" then -- n×1 comes back flat
    local r = {}
    for i = 1, #t do r[i] = { t[i] } end
    return r
  end
  return t
end

local function vec(m) -- n×1 Matrix → Lua array
  local t = m:totable()
  if type(t[1]) == "table" then
    local r = {}
    for i = 1, #t do r[i] = t[i][1] end
    return r
  end
  return t
end

-- a deterministic permutation of 1..n (Fisher-Yates with an LCG)
local function permutation(n, seed)
  local p = {}
  for i = 1, n do p[i] = i end
  local s = seed
  for i = n, 2, -1 do
    s = (s * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    local j = (s >> 17) % i + 1
    p[i], p[j] = p[j], p[i]
  end
  return p
end

local function permute(rows, p)
  local out = {}
  for i = 1, #p do out[i] = rows[p[i]] end
  return out
end

-- Every metric with the options a small case allows.
local function specs(N, D)
  local k = math.min(N, D, 32)
  local s = {
    { "logme" }, { "logme_icml" }, { "sfda" }, { "gbc" }, { "gbc", { type = "spherical" } },
    { "gbc", { pca = math.min(8, N, D) } }, { "leep" }, { "nce" }, { "nleep", { ratio = 2 } },
    { "hscore" }, { "hscore_reg" }, { "transrate" },
  }
  if k >= 2 then s[#s + 1] = { "parc", { dims = k } } end
  return s
end

local function label(spec)
  local parts = {}
  for k, v in pairs(spec[2] or {}) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  table.sort(parts)
  return spec[1] .. (#parts > 0 and (":" .. table.concat(parts, ":")) or "")
end

-- Build a dataset from row tables, labels and (optionally) source inputs.
local function dataset(rows, y, probs, slabels)
  local extras = {}
  if probs then extras.source_probs = pl.matrix(probs) end
  if slabels then extras.source_labels = slabels end
  return pl.dataset(pl.matrix(rows), y, extras)
end

-- score or error message; a raised message must name the metric
local function try(spec, ds)
  local ok, v = pcall(pl.metrics.score, spec[1], ds, spec[2])
  if ok then return v, nil end
  return nil, tostring(v)
end

local function assert_finite_or_error(spec, ds, what)
  local v, err = try(spec, ds)
  if v ~= nil then
    if v ~= v or v == math.huge or v == -math.huge then
      error(string.format("%s on %s: non-finite score %s", label(spec), what, tostring(v)), 2)
    end
  else
    if not err:find(spec[1], 1, true) then
      error(string.format("%s on %s: error does not name the metric: %s", label(spec), what,
        err), 2)
    end
  end
  return v, err
end

local function load_case(case)
  local X = pl.load(T.fx(case, "features.npy"))
  local y = vec(pl.load(T.fx(case, "labels.npy")))
  local P = pl.load(T.fx(case, "source_probs.npy"))
  local S = vec(pl.load(T.fx(case, "source_labels.npy")))
  return matrix_rows(X), y, matrix_rows(P), S
end

-- ---------------------------------------------------------------- invariances
for _, case in ipairs({ "blobs_small", "imbalanced", "wide" }) do
  local rows, y, probs, slab = load_case(case)
  local N, D = #rows, #rows[1]
  local base = dataset(rows, y, probs, slab)
  local p = permutation(N, 20240607)
  local perm = dataset(permute(rows, p), permute(y, p), permute(probs, p), permute(slab, p))
  local C = 0
  for i = 1, N do C = math.max(C, y[i] + 1) end
  local y7, yrev = {}, {}
  for i = 1, N do y7[i] = 7 * y[i] + 3; yrev[i] = C - 1 - y[i] end
  local relab = dataset(rows, y7, probs, slab)
  local rev = dataset(rows, yrev, probs, slab)

  for _, spec in ipairs(specs(N, D)) do
    local name = label(spec)
    T.case(string.format("numerics_invariance %s %s", case, name), function()
      local a, ea = try(spec, base)
      if a == nil then
        -- an input the metric refuses must be refused the same way however it is ordered
        local b, eb = try(spec, perm)
        assert(b == nil, name .. ": refused the original (" .. ea .. ") but scored the permutation")
        assert(eb == ea, "different errors: " .. ea .. " / " .. eb)
        return
      end
      local b = assert(try(spec, perm))
      local rtol = spec[1] == "nleep" and 5e-2 or spec[1] == "parc" and 1e-6 or 1e-9
      T.close(b, a, rtol, name .. " under a permutation of the samples")
      -- order-preserving relabelling: the encoded labels are identical → bit-identical
      local c = assert(try(spec, relab))
      T.eq(c, a, name .. " with ids 7·id + 3")
      -- order-reversing relabelling (the class order changes): nce/leep/… sum in another order
      local r = assert(try(spec, rev))
      T.close(r, a, spec[1] == "nleep" and 5e-2 or 1e-9, name .. " with ids C − 1 − id")
    end)
  end
end

-- ---------------------------------------------------------------- near-singular inputs
-- A synthetic base: N = 90, D = 6, 3 classes, means 0, 1.5, 3 on every axis, plus source
-- inputs (probabilities from a softmax of the first columns, labels their argmax).
local function synthetic()
  local R = pl.randn(90, 6, 7)
  local rows, y, probs, slab = {}, {}, {}, {}
  for i = 1, 90 do
    local c = (i - 1) % 3
    y[i] = c
    local r = {}
    for j = 1, 6 do r[j] = R:get(i, j) + 1.5 * c end
    rows[i] = r
    local e, s, best = {}, 0, 1
    for k = 1, 4 do e[k] = math.exp(r[k]); s = s + e[k] end
    for k = 1, 4 do e[k] = e[k] / s; if e[k] > e[best] then best = k end end
    probs[i] = e
    slab[i] = best - 1
  end
  return rows, y, probs, slab
end

local function transform(rows, f)
  local out = {}
  for i, r in ipairs(rows) do
    local o = {}
    for j, v in ipairs(r) do o[j] = v end
    f(o, i)
    out[i] = o
  end
  return out
end

local rows, y, probs, slab = synthetic()
local variants = {
  { "base", rows },
  -- rank-deficient: column 6 = column 1 + column 2, column 5 = column 1
  { "rank-deficient", transform(rows, function(r) r[5] = r[1]; r[6] = r[1] + r[2] end) },
  -- one column with variance ~1e-24 (values 1 ± 1e-12)
  { "tiny-variance column", transform(rows, function(r, i) r[3] = 1 + 1e-12 * ((i % 7) - 3) end) },
  { "scaled by 1e6", transform(rows, function(r) for j = 1, #r do r[j] = r[j] * 1e6 end end) },
  { "scaled by 1e-6", transform(rows, function(r) for j = 1, #r do r[j] = r[j] * 1e-6 end end) },
  { "offset by 1e6", transform(rows, function(r) for j = 1, #r do r[j] = r[j] + 1e6 end end) },
  { "one feature scaled by 1e6", transform(rows, function(r) r[2] = r[2] * 1e6 end) },
  { "constant features", transform(rows, function(r) for j = 1, #r do r[j] = 2.5 end end) },
  { "all zero", transform(rows, function(r) for j = 1, #r do r[j] = 0 end end) },
  { "zero within-class variance",
    transform(rows, function(r, i) for j = 1, #r do r[j] = 2 * y[i] + 0.1 * j end end) },
}

local scores = {}
for _, v in ipairs(variants) do
  local ds = dataset(v[2], y, probs, slab)
  scores[v[1]] = {}
  for _, spec in ipairs(specs(90, 6)) do
    T.case(string.format("numerics_guard %s %s", v[1], label(spec)), function()
      scores[v[1]][label(spec)] = assert_finite_or_error(spec, ds, v[1])
    end)
  end
end

-- Scale invariance where the formula promises it: H-score is tr(cov(X)⁻¹ cov(E[X|y])),
-- invariant under any invertible linear map; leep and nce never read the features. GBC's
-- Bhattacharyya coefficients depend on (μ_i − μ_j)² / σ² only, but the official code floors
-- every variance at 1e-4 (core/metrics/gbc.c GBC_VAR_FLOOR), so GBC is invariant when the
-- features grow (1e6) and not when they shrink below the floor (1e-6: the score tends to the
-- constant-feature value −C(C−1)).
T.case("numerics_scale_invariance", function()
  local cases = { hscore = { "scaled by 1e6", "scaled by 1e-6" },
                  leep = { "scaled by 1e6", "scaled by 1e-6" },
                  nce = { "scaled by 1e6", "scaled by 1e-6" }, gbc = { "scaled by 1e6" },
                  ["gbc:type=spherical"] = { "scaled by 1e6" } }
  for name, vs in pairs(cases) do
    local a = scores.base[name]
    for _, v in ipairs(vs) do
      local b = scores[v][name]
      assert(a and b, name .. " missing on " .. v)
      T.close(b, a, 1e-6, name .. " " .. v)
    end
  end
end)

-- Translation: every metric but LogME (a linear model without intercept) depends on the
-- features only through centred quantities, so adding a constant to every feature changes
-- nothing mathematically. The statistics are taken about an origin near the data (core/data.h),
-- so the score holds however far the features are: checked at offsets of 1e3, 1e8 and 1e12
-- against the same points at the origin ((x + a) − a is exact in double precision, so both
-- hold the same points). LogME reads XᵀX itself: far from the origin it refuses, naming why.
T.case("numerics_translation_invariance", function()
  for _, a in ipairs({ 1e3, 1e8, 1e12 }) do
    local far, near = {}, {}
    for i, r in ipairs(rows) do
      far[i], near[i] = {}, {}
      for j, v in ipairs(r) do
        far[i][j] = v + a * (j % 2 == 0 and -1 or 1)
        near[i][j] = far[i][j] - a * (j % 2 == 0 and -1 or 1)
      end
    end
    local dfar, dnear = dataset(far, y, probs, slab), dataset(near, y, probs, slab)
    for _, spec in ipairs(specs(90, 6)) do
      local name = label(spec)
      local b, eb = try(spec, dfar)
      if spec[1] == "logme" or spec[1] == "logme_icml" then
        if a >= 1e8 then
          assert(b == nil and eb:find("too far from the origin", 1, true),
                 name .. " offset by " .. a .. ": expected a refusal, got " .. tostring(b or eb))
        end
      else
        assert(b, name .. " offset by " .. a .. ": " .. tostring(eb))
        local c = assert(try(spec, dnear))
        T.close(b, c, 1e-9, name .. " offset by " .. a)
      end
    end
  end
end)

-- Features scaled by 1e-30: every score finite (what the official formulas give: GBC floors
-- the variances, SFDA's shrinkage goes to 1) or a refusal naming the metric; H-score, which is
-- invariant under any invertible linear map, and leep/nce keep their values.
T.case("numerics_tiny_scale", function()
  local tiny = dataset(transform(rows, function(r) for j = 1, #r do r[j] = r[j] * 1e-30 end end),
                       y, probs, slab)
  for _, spec in ipairs(specs(90, 6)) do
    local v = assert_finite_or_error(spec, tiny, "scaled by 1e-30")
    if spec[1] == "hscore" or spec[1] == "leep" or spec[1] == "nce" then
      T.close(v, scores.base[label(spec)], 1e-6, label(spec) .. " scaled by 1e-30")
    end
  end
end)

-- ds:pca(k): core's PCA as Matrices; the axes are unit rows, variances decrease, and the
-- result does not move when the features are translated far from the origin.
T.case("numerics_dataset_pca", function()
  local ds = dataset(rows, y, probs, slab)
  local p = ds:pca(3)
  T.eq(p.mean:rows(), 1); T.eq(p.mean:cols(), 6)
  T.eq(p.axes:rows(), 3); T.eq(p.axes:cols(), 6)
  T.eq(p.variances:rows(), 3); T.eq(p.variances:cols(), 1)
  for a = 1, 3 do
    local n = 0
    for j = 1, 6 do n = n + p.axes:get(a, j) ^ 2 end
    T.close(n, 1, 1e-12, "axis " .. a .. " is a unit vector")
    if a > 1 then assert(p.variances:get(a, 1) <= p.variances:get(a - 1, 1)) end
  end
  local st = ds:stats()
  for j = 1, 6 do
    local m, N = 0, 0
    for c = 1, 3 do m = m + st.means:get(c, j) * st.n:get(c, 1); N = N + st.n:get(c, 1) end
    T.close(p.mean:get(1, j), m / N, 1e-12, "mean " .. j)
  end
  local far = dataset(transform(rows, function(r) for j = 1, #r do r[j] = r[j] + 1e9 end end),
                      y, probs, slab)
  local q = far:pca(3)
  for a = 1, 3 do
    T.close(q.variances:get(a, 1), p.variances:get(a, 1), 1e-6, "variance " .. a .. " at 1e9")
    local dot = 0
    for j = 1, 6 do dot = dot + q.axes:get(a, j) * p.axes:get(a, j) end
    T.close(math.abs(dot), 1, 1e-6, "axis " .. a .. " at 1e9")
  end
  T.raises("k = 7: expected 1..6", function() ds:pca(7) end)
  T.raises("k = 0", function() ds:pca(0) end)
end)

-- What each metric does on each near-singular input (printed for docs/robustness.md).
if os.getenv("PL_NUMERICS_TABLE") then
  for _, v in ipairs(variants) do
    local ds = dataset(v[2], y, probs, slab)
    for _, spec in ipairs(specs(90, 6)) do
      local s, e = try(spec, ds)
      print(string.format("| %s | %s | %s |", v[1], label(spec),
        s and string.format("%.6g", s) or ("error: " .. e)))
    end
  end
end

T.done()

-- Every public fixture case × every metric and PED, through the Lua API, against the official
-- implementations' outputs (tests/fixtures/README.md). Tolerances are relative: the README's
-- promise, or the achieved error with a margin where that is far below it (achieved on every
-- case: PARC 1.4e-11 but `wide` 8.2e-3, where the official value depends on the PCA basis of a
-- rank-40 eigenspace; N-LEEP 2.6e-15; H-score 1.6e-15; SFDA 3.1e-15). The last cases prove the
-- bounds tight: a setting wrong by one unit (PARC dims 31, N-LEEP ratio 4) and a PED move 2e-7
-- longer must fail them. A value missing or not a number in expected.json fails, unless the
-- official code raised (its `errors` entry), and then pedlab must refuse too.
local T = require "harness"
local pl = require "pedlab"

local PLAIN = {
  { "logme", {}, "logme", 1e-9, { wide = 1e-7 } },
  { "logme_icml", {}, "logme_icml", 1e-9 },
  { "sfda", {}, "sfda", 1e-7 },
  { "gbc", {}, "gbc", 1e-9 },
  { "gbc", { type = "spherical" }, "gbc_spherical", 1e-9 },
  { "gbc", { pca = 64 }, "gbc_pca64_diagonal", 1e-9 },
  { "gbc", { pca = 64, type = "spherical" }, "gbc_pca64_spherical", 1e-9 },
  { "leep", {}, "leep", 1e-9 },
  { "nce", {}, "nce", 1e-9 },
  { "hscore", {}, "hscore", 1e-9 },
  { "hscore_reg", {}, "hscore_regularized", 1e-9 },
  { "transrate", {}, "transrate", 1e-9 },
  { "parc", {}, "parc_full", 1e-9, { wide = 1e-2 } },
  { "nleep", {}, "nleep", 1e-9 },
}
local PED_DISP_RTOL = 1e-9 -- relative to the displacement's largest entry (README: 1e-9)

local function tol_of(m, case) return (m[5] and m[5][case]) or m[4] end
local function tol_for(key, case)
  for _, m in ipairs(PLAIN) do if m[3] == key then return tol_of(m, case) end end
  error("no bound for " .. key)
end

-- The PED displacement check: every entry within rtol of the reference's largest entry (entries
-- of ~1e-17 there are rounding noise, with no relative bound of their own).
local function disp_close(get, disp)
  local C, D = disp:shape()
  local dmax = 0
  for c = 1, C do for d = 1, D do dmax = math.max(dmax, math.abs(disp:get(c, d))) end end
  for c = 1, C do
    for d = 1, D do
      T.near(get(c, d), disp:get(c, d), PED_DISP_RTOL * dmax, "displacement " .. c .. "," .. d)
    end
  end
end

local function dataset(case)
  return assert(pl.dataset(T.fx(case, "features.npy"), T.fx(case, "labels.npy"),
    { source_probs = T.fx(case, "source_probs.npy"),
      source_labels = T.fx(case, "source_labels.npy") }))
end

for _, case in ipairs(T.cases) do
  local exp = T.expected(case)
  for _, m in ipairs(PLAIN) do
    local name, opts, key = m[1], m[2], m[3]
    local want = exp[key]
    if type(want) == "number" then
      T.case(case .. " " .. key, function()
        local ds = dataset(case)
        T.close(pl.metrics[name](ds, opts), want, tol_of(m, case), key)
      end)
    elseif exp.errors and exp.errors[key] then
      T.case(case .. " " .. key .. ": the official code raised, pedlab refuses", function()
        local ok = pcall(pl.metrics[name], dataset(case), opts)
        if ok then
          error(key .. " gave a value where the official code raised: " .. exp.errors[key])
        end
      end)
    else
      T.case(case .. " " .. key, function()
        error("expected.json: " .. key .. " is missing or not a number (" .. tostring(want) .. ")")
      end)
    end
  end
  for _, set in ipairs({ "set1", "set2" }) do
    T.case(case .. " PED " .. set, function()
      local e = exp.ped[set]
      local p = e.params
      local ds = dataset(case)
      local moved, run = pl.ped.run(ds, { ref = T.fx(case, "ref_features.npy"), dt = p.time_step,
        radius = p.nsigma, exit_ratio = p.exit_ratio, k = p.constant, eps = p.eps, max_steps = 6 })
      T.eq(run.steps, math.tointeger(e.accepted_steps), "accepted steps")
      T.eq(#run.changes, #e.position_change, "number of computed steps")
      for i, c in ipairs(e.position_change) do
        T.close(run.changes[i], c, 1e-9, "position_change " .. i)
      end
      disp_close(function(c, d) return run.shift:get(c, d) end,
        pl.load(T.fx(case, "ped_disp_" .. set .. ".npy")))
      T.close(pl.metrics.logme(moved), e.ped_logme, case == "wide" and 1e-7 or 1e-9, "ped_logme")
      T.close(pl.metrics.sfda(moved), e.ped_sfda, case == "wide" and 1e-5 or 1e-7, "ped_sfda")
    end)
  end
end

-- The bounds above hold their promise: one unit off fails them in every case.
local function must_fail(what, f, ...)
  if pcall(f, ...) then error(what .. " passes the bound", 2) end
end
T.case("bounds: PARC with dims=31 fails parc_full in every case", function()
  for _, case in ipairs(T.cases) do
    local want = T.expected(case).parc_full
    if type(want) == "number" then
      must_fail(case .. " dims=31", T.close, pl.metrics.parc(dataset(case), { dims = 31 }), want,
        tol_for("parc_full", case))
    end
  end
end)
T.case("bounds: N-LEEP with ratio=4 fails nleep in every case", function()
  for _, case in ipairs(T.cases) do
    must_fail(case .. " ratio=4", T.close, pl.metrics.nleep(dataset(case), { ratio = 4 }),
      T.expected(case).nleep, tol_for("nleep", case))
  end
end)
T.case("bounds: a PED move 2e-7 longer fails the displacement check in every case", function()
  for _, case in ipairs(T.cases) do
    for _, set in ipairs({ "set1", "set2" }) do
      local disp = pl.load(T.fx(case, "ped_disp_" .. set .. ".npy"))
      disp_close(function(c, d) return disp:get(c, d) end, disp)
      must_fail(case .. " " .. set, disp_close,
        function(c, d) return disp:get(c, d) * (1 + 2e-7) end, disp)
    end
  end
end)

T.case("nleep is deterministic for a seed", function()
  local ds = dataset("overlap")
  local a = pl.metrics.nleep(ds, { seed = 3 })
  local b = pl.metrics.nleep(dataset("overlap"), { seed = 3 })
  T.eq(a, b, "same seed, same bits")
end)

T.case("metric errors are clear", function()
  local ds = dataset("blobs_small")
  T.raises("unknown metric 'logmee'", pl.metrics.score, "logmee", ds)
  T.raises("gbc: unknown option 'kind'", pl.metrics.gbc, ds, { kind = "x" })
  T.raises("gbc: option type=cubic", pl.metrics.gbc, ds, { type = "cubic" })
  local bare = assert(pl.dataset(T.fx("blobs_small", "features.npy"),
    T.fx("blobs_small", "labels.npy")))
  T.raises("leep needs source-model probabilities", pl.metrics.leep, bare)
  T.raises("nce needs source-model labels", pl.metrics.nce, bare)
  T.raises("parc: needs", pl.metrics.parc, ds)
end)

T.case("metric list describes every metric", function()
  local list = pl.metrics.list()
  T.eq(#list, 18)
  local names = {}
  for _, m in ipairs(list) do
    assert(type(m.summary) == "string" and #m.summary > 10, m.name)
    assert(pl.metrics[m.name], m.name)
    names[m.name] = m
  end
  for _, m in ipairs(list) do
    if m.zoo_level then
      for _, p in ipairs(m.parts) do
        assert(names[p] and not names[p].zoo_level, m.name .. " part " .. p)
      end
    end
  end
end)

T.done()

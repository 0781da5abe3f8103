-- Every public fixture case × every metric and PED, through the Lua API, against the official
-- implementations' outputs (tests/fixtures/README.md; tolerances from the issues).
local T = require "harness"
local pl = require "pedlab"

local PLAIN = {
  { "logme", {}, "logme", 1e-9, { wide = 1e-7 } },
  { "logme_icml", {}, "logme_icml", 1e-9 },
  { "sfda", {}, "sfda", 1e-7, { wide = 1e-5 } },
  { "gbc", {}, "gbc", 1e-9 },
  { "gbc", { type = "spherical" }, "gbc_spherical", 1e-9 },
  { "gbc", { pca = 64 }, "gbc_pca64_diagonal", 1e-9 },
  { "gbc", { pca = 64, type = "spherical" }, "gbc_pca64_spherical", 1e-9 },
  { "leep", {}, "leep", 1e-9 },
  { "nce", {}, "nce", 1e-9 },
  { "hscore", {}, "hscore", 1e-7, { wide = 1e-4, digits = 1e-4 } },
  { "hscore_reg", {}, "hscore_regularized", 1e-7 },
  { "transrate", {}, "transrate", 1e-9 },
  { "parc", {}, "parc_full", 5e-2 },
  { "nleep", {}, "nleep", 2e-2 },
}

local function dataset(case)
  return assert(pl.dataset(T.fx(case, "features.npy"), T.fx(case, "labels.npy"),
    { source_probs = T.fx(case, "source_probs.npy"), source_labels = T.fx(case, "source_labels.npy") }))
end

for _, case in ipairs(T.cases) do
  local exp = T.expected(case)
  for _, m in ipairs(PLAIN) do
    local name, opts, key, tol, per = m[1], m[2], m[3], m[4], m[5]
    local want = exp[key]
    if type(want) == "number" then
      T.case(case .. " " .. key, function()
        local ds = dataset(case)
        T.close(pl.metrics[name](ds, opts), want, (per and per[case]) or tol, key)
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
      for i, c in ipairs(e.position_change) do T.close(run.changes[i], c, 1e-9, "position_change " .. i) end
      local disp = pl.load(T.fx(case, "ped_disp_" .. set .. ".npy"))
      local C, D = disp:shape()
      for c = 1, C do
        for d = 1, D do T.close(run.shift:get(c, d), disp:get(c, d), 1e-9, "displacement") end
      end
      T.close(pl.metrics.logme(moved), e.ped_logme, case == "wide" and 1e-7 or 1e-9, "ped_logme")
      T.close(pl.metrics.sfda(moved), e.ped_sfda, case == "wide" and 1e-5 or 1e-7, "ped_sfda")
    end)
  end
end

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
  local bare = assert(pl.dataset(T.fx("blobs_small", "features.npy"), T.fx("blobs_small", "labels.npy")))
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
      for _, p in ipairs(m.parts) do assert(names[p] and not names[p].zoo_level, m.name .. " part " .. p) end
    end
  end
end)

T.done()

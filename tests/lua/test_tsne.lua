-- test_tsne.lua — pl.tsne from Lua: a Dataset or a Matrix in, an N×2 Matrix and its info out,
-- every option checked (unknown keys, types, ranges), trustworthiness beside it.
local T = require "harness"
local pl = require "pedlab"

local ds = pl.dataset(T.fx("blobs_small", "features.npy"), T.fx("blobs_small", "labels.npy"))

T.case("pl.tsne on a dataset and on its matrix: N×2, the same bits", function()
  local y, info = pl.tsne(ds, { max_iter = 300 })
  T.eq(y:rows(), ds:rows(), "rows")
  T.eq(y:cols(), 2, "cols")
  T.eq(info.iterations, 300, "iterations")
  T.eq(info.neighbours, 91, "k = 3 * 30 + 1")
  T.eq(info.learning_rate, 50, "auto: max(200 / 12 / 4, 50)")
  assert(info.kl > 0 and info.kl < 5, "kl " .. info.kl)
  local y2 = pl.tsne(ds:dense(), { max_iter = 300 })
  for i = 1, y:rows() do
    T.eq(y:get(i, 1), y2:get(i, 1), "row " .. i)
    T.eq(y:get(i, 2), y2:get(i, 2), "row " .. i)
  end
  local t = pl.trustworthiness(ds:dense(), y, 10)
  assert(t > 0.9 and t <= 1, "trustworthiness " .. t)
end)

T.case("pl.tsne options: every one read, the wrong ones named", function()
  local a = pl.tsne(ds, { max_iter = 60, exaggeration_iter = 30, perplexity = 10, theta = 0.3,
                          learning_rate = 100, early_exaggeration = 4, method = "barnes_hut",
                          init = "random", seed = 3 })
  local b = pl.tsne(ds, { max_iter = 60, exaggeration_iter = 30, perplexity = 10, theta = 0.3,
                          learning_rate = 100, early_exaggeration = 4, init = "random", seed = 4 })
  assert(a:get(1, 1) ~= b:get(1, 1), "the seed is read")
  local _, info = pl.tsne(ds, { max_iter = 20, method = "exact", perplexity = 5 })
  T.eq(info.neighbours, 199, "exact: every other row")
  T.raises("unknown option 'perplexty' (did you mean 'perplexity'?)", pl.tsne, ds,
           { perplexty = 5 })
  T.raises("perplexity = 500: expected 0 < perplexity < N = 200", pl.tsne, ds, { perplexity = 500 })
  T.raises("option perplexity must be a number", pl.tsne, ds, { perplexity = "30" })
  T.raises("option learning_rate = fast", pl.tsne, ds, { learning_rate = "fast" })
  T.raises("option learning_rate = -1", pl.tsne, ds, { learning_rate = -1 })
  T.raises("option method = fft: expected barnes_hut or exact", pl.tsne, ds, { method = "fft" })
  T.raises("option init = spectral: expected pca or random", pl.tsne, ds, { init = "spectral" })
  T.raises("option max_iter = 0", pl.tsne, ds, { max_iter = 0 })
  T.raises("option max_iter must be a whole number", pl.tsne, ds, { max_iter = 2.5 })
  T.raises("exaggeration_iter = 300: expected 0..max_iter", pl.tsne, ds,
           { max_iter = 200, exaggeration_iter = 300 })
  T.raises("theta = 2", pl.tsne, ds, { theta = 2 })
  T.raises("early_exaggeration = 0.5", pl.tsne, ds, { early_exaggeration = 0.5 })
  T.raises("options must be a table", pl.tsne, ds, 5)
  T.raises("must be a Matrix or a Dataset", pl.tsne, "x.npy")
  T.raises("k = 100", pl.trustworthiness, ds:dense(), ds:dense(), 100)
end)

T.case("rows: a subsample read from the dataset equals the same rows of the matrix", function()
  local rows = {}
  for i = 1, 200, 3 do rows[#rows + 1] = i end
  rows[#rows + 1] = 2 -- any order
  local X = ds:dense()
  local sub = pl.zeros(#rows, X:cols())
  for a, i in ipairs(rows) do
    for j = 1, X:cols() do sub:set(a, j, X:get(i, j)) end
  end
  local a = pl.tsne(ds, { rows = rows, perplexity = 10, max_iter = 100 })
  local b = pl.tsne(sub, { perplexity = 10, max_iter = 100 })
  T.eq(a:rows(), #rows, "rows")
  for i = 1, #rows do T.eq(a:get(i, 1), b:get(i, 1), "row " .. i) end
  local p = pl.pca_embedding(ds, { rows = rows })
  local q = pl.pca_embedding(sub)
  T.eq(p:rows(), #rows, "pca rows")
  for i = 1, #rows do T.close(p:get(i, 2), q:get(i, 2), 1e-12, "pca row " .. i) end
  T.raises("option rows: entry 2 is 201", pl.tsne, ds, { rows = { 1, 201 } })
  T.raises("option rows: entry 1 is not a number", pl.pca_embedding, ds, { rows = { "a" } })
  T.raises("unknown option 'perplexity'", pl.pca_embedding, ds, { perplexity = 3 })
end)

T.done()

-- bench/tsne.lua FEATURES.npy LABELS.npy: pl.tsne with its defaults on the rows of a dataset
-- streamed from the file; prints the KL divergence (bench/tsne.sh times the process).
local pl = require "pedlab"
local ds = pl.dataset(assert(arg[1], "usage: pedlab bench/tsne.lua FEATURES.npy LABELS.npy"),
                      assert(arg[2], "usage: pedlab bench/tsne.lua FEATURES.npy LABELS.npy"))
local _, info = pl.tsne(ds)
io.write(string.format("%.6f\n", info.kl))

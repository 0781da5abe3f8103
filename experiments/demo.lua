-- experiments/demo.lua — rank the bundled demo zoo with LogME, SFDA and GBC, each with and
-- without PED (radius 0.6, the official defaults), and print the weighted tau table.
--   pedlab experiments/demo.lua [--zoo DIR] [--gt FILE] [--plot DIR] [--md F] [--json F] [--html F]
local pl = require "pedlab"
local cmdutil = require "pedlab.cmdutil"
local rank = require "pedlab.commands.rank"
local rank_output = require "pedlab.rank_output"
local util = require "pedlab.util"

local o = util.parse_args({ ... }, { ["--zoo"] = "value", ["--gt"] = "value", ["--plot"] = "value",
                                      ["--md"] = "value", ["--json"] = "value",
                                      ["--html"] = "value" },
                        "demo")
local zoo = o.zoo or cmdutil.home("data/demo")
local t0 = os.clock()
local R = rank.rank_zoo({ zoo = zoo, gt = o.gt, task = "all", ref_name = "fmnist-train",
                          json = o.json, md = o.md, html = o.html, plot = o.plot,
                          metric = { "logme,ped+logme,sfda,ped+sfda,gbc,ped+gbc" } }, "demo")
R.command = { "pedlab", "demo", ... }
io.write(string.format("pedlab demo: %d models x %d tasks of %s, PED at radius %.1f, dt %.1f\n",
  #R.zoo.models, #R.tasks, zoo, pl.ped.defaults.radius, pl.ped.defaults.dt))
rank_output.print_rank(R, true)
io.write("\nPED steps accepted per task (first model): ")
for _, t in ipairs(R.tasks) do
  local m = R.zoo:task_models(t)[1]
  io.write(string.format("%s=%d ", t, R.runs[t][m] and R.runs[t][m].steps or 0))
end
io.write(string.format("\n(%.1f s CPU)\n", os.clock() - t0))
rank_output.write_outputs(R, { plot = o.plot, md = o.md, json = o.json, html = o.html })
return 0

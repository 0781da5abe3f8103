-- pedlab — the Lua module: the C core (matrices, datasets, ball systems, metrics, rank
-- measures, file formats) plus the Lua layers (zoo, sweep, report, plot, forces, cli),
-- loaded on first use.
local core = require "pedlab.core"

local M = {}
for k, v in pairs(core) do M[k] = v end
-- pl.balls also takes radius = "auto[:RULE]" (pedlab.radius): then it returns the system and the
-- coefficient the rule chose; a number goes straight to the core.
M.balls = function(ds, o) return require("pedlab.ped").balls(ds, o) end

local lazy = { zoo = true, sweep = true, report = true, plot = true, forces = true, cli = true,
               ped = true, util = true, combiners = true, radius = true, aggregate = true }

return setmetatable(M, {
  __index = function(t, k)
    if lazy[k] then
      local mod = require("pedlab." .. k)
      rawset(t, k, mod)
      return mod
    end
  end,
})

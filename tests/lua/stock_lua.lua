-- stock_lua.lua — the pedlab module from a stock lua5.4 (not the pedlab host): scores a small
-- dataset with LogME, SFDA and GBC, and the weighted tau of two rankings, and prints the numbers.
-- Run by tests/sh/test_install.sh (after `eval "$(pedlab --lua-path)"` and after `luarocks make`,
-- and in the pedlab host, whose numbers these must equal) and by `luarocks test`.
local pl = require "pedlab"

-- 3 classes × 5 points in 4 dimensions, deterministic (a linear congruential sequence)
local rows, labels, state = {}, {}, 12345
local function next_unit()
  state = (state * 1103515245 + 12345) % 2147483648
  return state / 2147483648 - 0.5
end
for c = 1, 3 do
  for _ = 1, 5 do
    local r = {}
    for d = 1, 4 do r[d] = (d == c and 0.6 or 0) + next_unit() end
    rows[#rows + 1] = r
    labels[#labels + 1] = c - 1
  end
end
local ds = pl.dataset(pl.matrix(rows), pl.matrix(labels))
assert(ds:rows() == 15 and ds:dim() == 4 and ds:classes() == 3, "dataset shape")

local out = {}
for _, name in ipairs { "logme", "sfda", "gbc" } do
  local s = pl.metrics[name](ds)
  assert(type(s) == "number" and s == s and math.abs(s) < math.huge, name .. " is finite")
  out[#out + 1] = string.format("%s=%.12g", name, s)
end
local tau = pl.rank.weighted_tau({ 1, 2, 3, 4, 5 }, { 1, 2, 3, 5, 4 })
assert(tau > 0 and tau < 1, "weighted tau of two close rankings")
out[#out + 1] = string.format("tau=%.12g", tau)
print(table.concat(out, " "))

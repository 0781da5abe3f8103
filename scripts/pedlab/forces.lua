-- pedlab.forces — force laws written in Lua, to compare with the built-in Hooke law.
-- A scalar law is function(d, ri, rj) → magnitude along the line of centres (called only for
-- overlapping pairs, d = centre distance, ri/rj = radii); positive pushes apart. The motion
-- caps each pair's displacement at the overlap (the maximum-phase constraint).
local M = {}

-- Hooke, as the built-in law (k = 1): magnitude = overlap.
M.hooke_lua = function(d, ri, rj) return ri + rj - d end

-- Inverse square with a cutoff: strong when centres are close, bounded near d = 0.
M.inverse_square = function(d, ri, rj)
  local s = ri + rj
  local dd = math.max(d, 0.05 * s)
  return (s * s) / (dd * dd) - 1
end

-- Lennard-Jones-like: steep repulsion inside the contact distance, bounded.
M.lennard_jones = function(d, ri, rj)
  local s = (ri + rj) / 2 ^ (1 / 6)
  local x = s / math.max(d, 0.3 * s)
  return math.min(4 * (12 * x ^ 12 - 6 * x ^ 6) / math.max(d, 1e-12), 1e6) * 1e-3
end

-- Gaussian overlap: proportional to how much two Gaussian clouds of these radii overlap.
M.gaussian = function(d, ri, rj)
  local s2 = ri * ri + rj * rj
  if s2 == 0 then return 0 end
  return (ri + rj) * math.exp(-d * d / (2 * s2))
end

-- A whole-system law (one call per step): Hooke summed per class, written over the matrices.
M.hooke_system = { system = function(centres, radii, forces)
  local C, D = centres:shape()
  for i = 1, C do
    for j = 1, C do
      if i ~= j then
        local d2 = 0
        for t = 1, D do d2 = d2 + (centres:get(i, t) - centres:get(j, t)) ^ 2 end
        local d = math.sqrt(d2)
        local o = radii:get(i, 1) + radii:get(j, 1) - d
        if o > 0 and d > 0 then
          for t = 1, D do
            forces:set(i, t, forces:get(i, t) + o * (centres:get(i, t) - centres:get(j, t)) / d)
          end
        end
      end
    end
  end
end }

function M.names()
  local n = {}
  for k in pairs(M) do if k ~= "names" then n[#n + 1] = k end end
  table.sort(n)
  return n
end

return M

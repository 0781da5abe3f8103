-- test_forces.lua — the force laws of pedlab.forces (docs/experiments.md publishes results made
-- with them) against forces computed by hand, their built-in constants (contact, cut-offs, the
-- cap), and energy consistency: each scalar law is minus the derivative of a pair potential
-- derived here on paper (checked by central differences), and hooke_system is minus the
-- gradient of the system's Hooke energy. hooke_lua and hooke_system must move a ball system as
-- the built-in Hooke law does.
local T = require "harness"
local pl = require "pedlab"
local F = require "pedlab.forces"

T.case("forces: the names are the five laws", function()
  T.eq(table.concat(F.names(), ","), "gaussian,hooke_lua,hooke_system,inverse_square,lennard_jones")
end)

-- ---------------------------------------------------------------- values by hand
T.case("hooke_lua: the overlap ri + rj - d", function()
  T.close(F.hooke_lua(1, 0.75, 0.5), 0.25, 1e-15)
  T.close(F.hooke_lua(0.2, 0.3, 0.4), 0.5, 1e-15)
  T.eq(F.hooke_lua(1.25, 0.75, 0.5), 0, "zero at contact")
end)

T.case("inverse_square: s^2/d^2 - 1 with s = ri + rj, bounded below d = 0.05 s", function()
  T.eq(F.inverse_square(1, 0.5, 0.5), 0, "zero at contact")
  T.close(F.inverse_square(0.5, 0.5, 0.5), 3, 1e-15)            -- 1/0.25 - 1
  T.close(F.inverse_square(0.4, 0.2, 0.6), 3, 1e-15)            -- 0.64/0.16 - 1
  T.close(F.inverse_square(0.25, 1, 0.5), 35, 1e-15)            -- 2.25/0.0625 - 1
  -- the cut-off: below d = 0.05 s the force stays at its value there, 1/0.05^2 - 1 = 399
  T.close(F.inverse_square(0.05, 0.5, 0.5), 399, 1e-12)
  T.close(F.inverse_square(0.01, 0.5, 0.5), 399, 1e-12)
  T.close(F.inverse_square(0, 0.5, 0.5), 399, 1e-12)
  T.close(F.inverse_square(0, 1, 2), 399, 1e-12, "the cut-off scales with s")
end)

T.case("lennard_jones: 4e-3 (12 x^12 - 6 x^6) / d, x = sigma/d, sigma = (ri+rj)/2^(1/6)", function()
  -- contact (d = ri + rj = 2^(1/6) sigma) is the potential's minimum: zero force
  T.near(F.lennard_jones(1, 0.5, 0.5), 0, 1e-15, "zero at contact")
  T.near(F.lennard_jones(3, 1, 2), 0, 1e-15, "zero at contact")
  local sigma = 1 / 2 ^ (1 / 6)
  T.close(F.lennard_jones(sigma, 0.5, 0.5), 4e-3 * 6 / sigma, 1e-13)   -- x = 1
  local d = 0.9
  local x = sigma / d
  T.close(F.lennard_jones(d, 0.5, 0.5), 4e-3 * (12 * x ^ 12 - 6 * x ^ 6) / d, 1e-13)
  T.close(F.lennard_jones(d, 0.5, 0.5), 0.022120396510843, 1e-12)       -- by hand
  -- the cap: 1e6 before the 1e-3 scale; below d = 0.3 sigma x stays 1/0.3
  T.close(F.lennard_jones(1e-9, 0.5, 0.5), 1000, 1e-15)
  T.close(F.lennard_jones(0, 0.5, 0.5), 1000, 1e-15)
  local x3 = 1 / 0.3
  local d3 = 0.3 * sigma * 1000 -- sigma' = 1000 sigma (radii 500, 500): below the cap
  T.close(F.lennard_jones(d3, 500, 500), 4e-3 * (12 * x3 ^ 12 - 6 * x3 ^ 6) / d3, 1e-13)
  T.close(F.lennard_jones(0.5 * d3, 500, 500), 4e-3 * (12 * x3 ^ 12 - 6 * x3 ^ 6) / (0.5 * d3),
    1e-13,
    "x held at 1/0.3 below 0.3 sigma, d not")
end)

T.case("gaussian: (ri + rj) exp(-d^2 / (2 (ri^2 + rj^2)))", function()
  T.close(F.gaussian(1, 0.5, 0.5), math.exp(-1), 1e-15)
  T.close(F.gaussian(0, 0.3, 0.4), 0.7, 1e-15)
  T.close(F.gaussian(2, 1, 1), 2 * math.exp(-1), 1e-15)
  T.close(F.gaussian(0.5, 0.3, 0.4), 0.7 * math.exp(-0.25 / 0.5), 1e-15)
  T.eq(F.gaussian(1, 0, 0), 0, "no radii: no force")
end)

-- ---------------------------------------------------------------- energy consistency
-- Pair potentials E(d), derived by hand, of which each law is -dE/dd.
local ENERGY = {
  hooke_lua = function(d, ri, rj) return 0.5 * (ri + rj - d) ^ 2 end,
  inverse_square = function(d, ri, rj) local s = ri + rj return s * s / d + d end,
  lennard_jones = function(d, ri, rj)
    local x = (ri + rj) / 2 ^ (1 / 6) / d
    return 4e-3 * (x ^ 12 - x ^ 6)
  end,
}

local function minus_derivative(E, d, ri, rj)
  local h = 1e-5 * d
  return -(E(d + h, ri, rj) - E(d - h, ri, rj)) / (2 * h)
end

T.case("energy: each scalar law is minus the derivative of its potential", function()
  local radii = { { 0.5, 0.5 }, { 0.2, 0.9 }, { 1.5, 0.7 } }
  for name, E in pairs(ENERGY) do
    for _, r in ipairs(radii) do
      local s = r[1] + r[2]
      -- overlapping distances, clear of the cut-offs (inverse_square 0.05 s, lennard_jones
      -- 0.3 sigma and its cap)
      for _, f in ipairs({ 0.62, 0.7, 0.85, 0.95 }) do
        local d = f * s
        local got, want = F[name](d, r[1], r[2]), minus_derivative(E, d, r[1], r[2])
        T.close(got, want, 1e-7,
          string.format("%s(%g, %g, %g) against -dE/dd", name, d, r[1], r[2]))
      end
    end
  end
end)

T.case("energy: gaussian satisfies dF/dd = -d F / (ri^2 + rj^2)", function()
  for _, r in ipairs({ { 0.5, 0.5 }, { 0.2, 0.9 }, { 1.5, 0.7 } }) do
    local s2 = r[1] ^ 2 + r[2] ^ 2
    for _, d in ipairs({ 0.1, 0.4, 0.8, 1.3 }) do
      local h = 1e-5
      local dF = (F.gaussian(d + h, r[1], r[2]) - F.gaussian(d - h, r[1], r[2])) / (2 * h)
      T.close(dF, -d * F.gaussian(d, r[1], r[2]) / s2, 1e-7, "gaussian derivative")
    end
  end
end)

-- three classes in 2-D: centres (0,0), (1,0), (0,2); radii 0.75, 0.5, 1.5. Pairs 1-2 (d = 1) and
-- 1-3 (d = 2) overlap by 0.25; 2-3 (d = sqrt 5 > 2) do not. Forces by hand: class 1 pushed by
-- 0.25 from each: (-0.25, -0.25); class 2: (0.25, 0); class 3: (0, 0.25).
local CENTRES = { { 0, 0 }, { 1, 0 }, { 0, 2 } }
local RADII = { 0.75, 0.5, 1.5 }

local function system_forces(centres)
  local c = pl.matrix(centres)
  local r = pl.matrix { { RADII[1] }, { RADII[2] }, { RADII[3] } }
  local f = pl.matrix { { 0, 0 }, { 0, 0 }, { 0, 0 } }
  F.hooke_system.system(c, r, f)
  return f
end

T.case("hooke_system: forces by hand", function()
  local f = system_forces(CENTRES)
  local want = { { -0.25, -0.25 }, { 0.25, 0 }, { 0, 0.25 } }
  for i = 1, 3 do
    for t = 1, 2 do T.near(f:get(i, t), want[i][t], 1e-15, "force " .. i .. "," .. t) end
  end
end)

T.case("hooke_system: minus the gradient of E = 1/2 sum over pairs of overlap^2", function()
  local function energy(c)
    local e = 0
    for i = 1, 3 do
      for j = i + 1, 3 do
        local d = math.sqrt((c[i][1] - c[j][1]) ^ 2 + (c[i][2] - c[j][2]) ^ 2)
        local o = RADII[i] + RADII[j] - d
        if o > 0 then e = e + 0.5 * o * o end
      end
    end
    return e
  end
  -- a configuration where all three pairs overlap, and the hand-made one
  for _, centres in ipairs({ { { 0, 0 }, { 0.9, 0.3 }, { 0.2, 1.4 } }, CENTRES }) do
    local f = system_forces(centres)
    for i = 1, 3 do
      for t = 1, 2 do
        local h = 1e-6
        local cp, cm = {}, {}
        for k = 1, 3 do
          cp[k] = { centres[k][1], centres[k][2] }
          cm[k] = { centres[k][1], centres[k][2] }
        end
        cp[i][t] = cp[i][t] + h
        cm[i][t] = cm[i][t] - h
        T.near(f:get(i, t), -(energy(cp) - energy(cm)) / (2 * h), 1e-8, "dE/dc " .. i .. "," .. t)
      end
    end
  end
end)

-- ---------------------------------------------------------------- against the built-in law
local X = pl.matrix { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 0.5, 0.2 }, { 1.5, 0.1 }, { 0.8, 1.2 },
                      { 0.2, 0.6 }, { 0.9, 0.4 }, { 0.4, 0.9 } }
local Y = { 1, 1, 1, 2, 2, 2, 3, 3, 3 }

T.case("hooke_lua and hooke_system move a system as the built-in Hooke law", function()
  local function run(law)
    local sys = pl.balls(pl.dataset(X, Y), { radius = 1 })
    for _ = 1, 3 do sys:step { dt = 0.5, law = law } end
    return sys.centres
  end
  local want = run(nil)
  local start = pl.balls(pl.dataset(X, Y), { radius = 1 }).centres
  local moved = false
  for i = 1, 3 do for t = 1, 2 do moved = moved or want:get(i, t) ~= start:get(i, t) end end
  T.eq(moved, true, "the built-in law moves the classes")
  for _, law in ipairs({ F.hooke_lua, F.hooke_system }) do
    local got = run(law)
    for i = 1, 3 do
      for t = 1, 2 do T.near(got:get(i, t), want:get(i, t), 1e-14, "centre " .. i .. "," .. t) end
    end
  end
end)

T.done()

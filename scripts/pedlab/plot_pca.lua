-- pedlab.plot_pca — plot.pca2d: a dataset's class clusters before and after PED on its top two
-- principal axes (the same axes for both panels), drawn with pedlab.plot_svg.
local svg = require "pedlab.plot_svg"

local M = {}

local color, n2 = svg.color, svg.n2

-- The top two principal axes of ds (covariance from the sufficient statistics: Gram, sums,
-- counts): {V (D×2), vecs (the two axes as columns), mu_p (the projected overall mean),
-- vals (their variances), total (the total variance)}.
local function basis(ds, st)
  local C, D = ds:classes(), ds:dim()
  local pca = ds:pca(2)
  local mu, V = pca.mean, pca.axes:t()
  -- total variance: Σ_j of the pooled second moment minus the squared overall mean
  local total, N = 0, 0
  for c = 1, C do N = N + st.n:get(c, 1) end
  for j = 1, D do
    local m2 = 0
    for c = 1, C do m2 = m2 + st.n:get(c, 1) * (st.vars:get(c, j) + st.means:get(c, j) ^ 2) end
    total = total + m2 / N - mu:get(1, j) ^ 2
  end
  return { V = V, vecs = { pca.axes:row(1):t(), pca.axes:row(2):t() }, mu_p = mu:matmul(V),
           vals = { pca.variances:get(1, 1), pca.variances:get(2, 1) }, total = total }
end

-- Class means (a C×D matrix) projected, centred on the overall mean: {{x, y}, ...}.
local function project_means(B, m, C)
  local P = m:matmul(B.V)
  local out = {}
  for c = 1, C do out[c] = { P:get(c, 1) - B.mu_p:get(1, 1), P:get(c, 2) - B.mu_p:get(1, 2) } end
  return out
end

local function project_points(B, d)
  local X = d:dense()
  local P = X:matmul(B.V)
  X:close()
  return P
end

-- Below DENSE_LIMIT (the dense matrix is fine at this size): the real points, a subsample
-- (at most 40 a class) drawn, and each class's spread the RMS distance of its projected
-- points from its projected mean. Returns spread, points before, points after.
local function dense_points(B, ds, moved, before)
  local C = ds:classes()
  local mx, my = B.mu_p:get(1, 1), B.mu_p:get(1, 2)
  local Pb = project_points(B, ds)
  local Pa = moved and project_points(B, moved) or nil
  local lab = ds:labels()
  local counts = ds:counts()
  local every = {}
  for c = 1, C do every[c] = math.max(1, math.ceil(counts[c] / 40)) end
  local seen, ss = {}, {}
  local points_b, points_a = {}, {}
  for i = 1, ds:rows() do
    local c = math.tointeger(lab:get(i, 1))
    local x, y = Pb:get(i, 1) - mx, Pb:get(i, 2) - my
    ss[c] = (ss[c] or 0) + (x - before[c][1]) ^ 2 + (y - before[c][2]) ^ 2
    seen[c] = (seen[c] or 0) + 1
    if (seen[c] - 1) % every[c] == 0 then
      points_b[#points_b + 1] = { x, y, c }
      if Pa then points_a[#points_a + 1] = { Pa:get(i, 1) - mx, Pa:get(i, 2) - my, c } end
    end
  end
  local spread = {}
  for c = 1, C do spread[c] = math.sqrt(ss[c] / math.max(1, counts[c])) end
  return spread, points_b, points_a
end

-- Above DENSE_LIMIT: class means only; the spread along the axes uses the per-dimension
-- variances (cross terms ignored: only the diagonal of each class covariance is in the
-- statistics).
local function diagonal_spread(B, st, C, D)
  local spread = {}
  for c = 1, C do
    local s = 0
    for j = 1, D do
      s = s + (B.vecs[1]:get(j, 1) ^ 2 + B.vecs[2]:get(j, 1) ^ 2) * st.vars:get(c, j)
    end
    spread[c] = math.sqrt(s)
  end
  return spread
end

-- One data box for both panels (every mean with its spread circle, every point), square:
-- {xmin, xmax, ymin, ymax}.
local function data_box(v)
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local function grow(x, y, r)
    r = r or 0
    xmin, xmax = math.min(xmin, x - r), math.max(xmax, x + r)
    ymin, ymax = math.min(ymin, y - r), math.max(ymax, y + r)
  end
  for c = 1, #v.before do
    grow(v.before[c][1], v.before[c][2], v.spread[c])
    if v.after then grow(v.after[c][1], v.after[c][2], v.spread[c]) end
  end
  for _, p in ipairs(v.points_b or {}) do grow(p[1], p[2]) end
  for _, p in ipairs(v.points_a or {}) do grow(p[1], p[2]) end
  -- equal aspect: widen the shorter range
  local cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
  local half = math.max(xmax - xmin, ymax - ymin) / 2 * 1.05
  return { xmin = cx - half, xmax = cx + half, ymin = cy - half, ymax = cy + half }
end

local PW, LW = 360, 110

-- Panel k of the figure: the points (if any), each class's spread circle and mean, and on the
-- second panel arrows from the old to the new class means.
local function draw_panel(f, v, k, sub)
  local box = v.box
  local means, pts = k == 1 and v.before or v.after, k == 1 and v.points_b or v.points_a
  local x0 = 70 + (k - 1) * (PW + 70)
  local sx, sy = f:axes { x0 = x0, y0 = 60, w = PW, h = PW, xmin = box.xmin, xmax = box.xmax,
                          ymin = box.ymin, ymax = box.ymax,
                          xlabel = string.format("PC1 (%.1f%% of variance)", v.pct1),
                          ylabel = string.format("PC2 (%.1f%%)", v.pct2), subtitle = sub }
  local scale = PW / (box.xmax - box.xmin)
  if pts then
    f:add('<g fill-opacity="0.45" stroke="none">')
    for _, p in ipairs(pts) do
      f:add(string.format('<circle cx="%s" cy="%s" r="2" fill="%s"/>', n2(sx(p[1])), n2(sy(p[2])),
        color(p[3])))
    end
    f:add("</g>")
  end
  for c = 1, #means do
    local x, y = sx(means[c][1]), sy(means[c][2])
    f:add(string.format('<circle cx="%s" cy="%s" r="%s" fill="%s" fill-opacity="0.08" '
      .. 'stroke="%s" stroke-width="1.5"/>', n2(x), n2(y),
      n2(math.max(1, v.spread[c] * scale)), color(c), color(c)))
    f:add(svg.marker("circle", x, y, 4, color(c), "#222222",
      string.format("class %s mean", tostring(v.ids[c]))))
  end
  if k == 2 then
    for c = 1, #means do
      f:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#444444" '
        .. 'stroke-width="1"/>', n2(sx(v.before[c][1])), n2(sy(v.before[c][2])),
        n2(sx(v.after[c][1])), n2(sy(v.after[c][2]))))
    end
  end
end

-- The projected class means, spreads and points of ds (and moved): the figure's values.
local function values(ds, moved, dense_limit)
  local st = ds:stats()
  local C, D = ds:classes(), ds:dim()
  local B = basis(ds, st)
  local v = { ids = ds:class_names(), before = project_means(B, st.means, C) }
  v.after = moved and project_means(B, moved:stats().means, C) or nil
  if ds:rows() * D < dense_limit then
    v.spread, v.points_b, v.points_a = dense_points(B, ds, moved, v.before)
  else
    v.spread = diagonal_spread(B, st, C, D)
  end
  v.box = data_box(v)
  v.pct1 = B.total > 0 and 100 * B.vals[1] / B.total or 0
  v.pct2 = B.total > 0 and 100 * B.vals[2] / B.total or 0
  return v
end

-- 2-D PCA of ds's features, class clusters before (ds) and after (moved) PED on the same two
-- axes; points are drawn only when ds has fewer than dense_limit N×D values (plot.DENSE_LIMIT).
function M.pca2d(ds, moved, path, title, dense_limit)
  svg.check_path("pca2d", path)
  if moved and (moved:classes() ~= ds:classes() or moved:dim() ~= ds:dim()) then
    error("plot.pca2d: moved dataset has a different shape from ds", 2)
  end
  local v = values(ds, moved, dense_limit)
  local panels = v.after and 2 or 1
  local W, H = 70 + panels * (PW + 70) + LW, PW + 120
  local f = svg.figure(W, H, title or ("PCA of " .. ds:name()))
  draw_panel(f, v, 1, "before PED")
  if v.after then draw_panel(f, v, 2, "after PED (same axes)") end
  local entries = {}
  for c = 1, ds:classes() do
    entries[c] = { name = "class " .. tostring(v.ids[c]), color = color(c), kind = "marker" }
  end
  f:legend(W - LW + 8, 60, entries)
  return f:finish(path)
end

return M

-- pedlab.embedding — a dataset before and after PED in two dimensions (the PED paper's Fig. 6):
-- t-SNE (pl.tsne, Barnes–Hut) or the first two principal scores (pl.pca_embedding) of the same
-- rows, one panel each, the same colour and marker per class, a legend laid out to fit.
--   embedding.figure(ds, moved, path, o) → svg, E: the figure written atomically to path
--                                          (plot.embedding), E the embeddings, rows, method
--   embedding.caption(E)                 → what the figure shows, in a sentence
--   embedding.rank_figures(R, method)    → the figures of `pedlab rank --html`
--   embedding.default_method(n)          → the method n shown rows get by default
-- o: method = "tsne" | "pca" (default: t-SNE when at most TSNE_LIMIT rows are shown, else PCA),
--    max_points (rows per panel, default 2000: more are subsampled evenly, the count stated),
--    title, perplexity, max_iter, seed (t-SNE's; perplexity is lowered to fit few rows).
local core = require "pedlab.core"
local ped = require "pedlab.ped"
local report = require "pedlab.report"
local svg = require "pedlab.plot_svg"

local M = {}

local KEYS = { "method", "max_points", "title", "perplexity", "max_iter", "seed" }
local MAX_POINTS = 2000
-- Above this many rows shown, the default method is PCA (t-SNE's neighbour search is O(N²·D)).
local TSNE_LIMIT = 20000

local esc, n2 = svg.escape, svg.n2

-- The method a figure of n shown rows gets by default.
function M.default_method(n) return n <= TSNE_LIMIT and "tsne" or "pca" end

-- m of n rows, evenly spaced (1-based, ascending): class proportions of sorted or shuffled
-- labels are kept, and the same rows are taken before and after PED.
local function even_rows(n, m)
  local rows = {}
  for j = 1, m do rows[j] = math.floor((j - 0.5) * n / m) + 1 end
  return rows
end

local function check(o, where)
  core.check_options(o, where, KEYS)
  o = o or {}
  if o.method ~= nil and o.method ~= "tsne" and o.method ~= "pca" then
    error(string.format("%s: method = %s: expected \"tsne\" or \"pca\"", where,
      tostring(o.method)), 0)
  end
  if o.max_points ~= nil and (math.type(o.max_points) ~= "integer" or o.max_points < 3) then
    error(string.format("%s: max_points = %s: expected a whole number >= 3", where,
      tostring(o.max_points)), 0)
  end
  if o.title ~= nil and type(o.title) ~= "string" then
    error(where .. ": title must be a string", 0)
  end
  if o.method == "pca" then
    for _, k in ipairs({ "perplexity", "max_iter", "seed" }) do
      if o[k] ~= nil then
        error(string.format("%s: %s is a t-SNE option; method is pca", where, k), 0)
      end
    end
  end
  return o
end

-- The embeddings of ds's rows (and moved's, the same rows): E = {method, total, shown, classes,
-- label (per row shown), name, panels = {{y, kl, title}, ...}, perplexity}.
local function compute(ds, moved, o, where)
  where = where or "plot.embedding"
  o = check(o, where)
  if moved and (moved:rows() ~= ds:rows() or moved:dim() ~= ds:dim()) then
    error(where .. ": the moved dataset has a different shape from ds", 0)
  end
  local N = ds:rows()
  local m = math.min(N, o.max_points or MAX_POINTS)
  local rows = m < N and even_rows(N, m) or nil
  local method = o.method or M.default_method(m)
  local E = { method = method, total = N, shown = m, classes = ds:class_names(), label = {},
              name = ds:name(), panels = {} }
  local lab = ds:labels()
  for a = 1, m do E.label[a] = math.tointeger(lab:get(rows and rows[a] or a, 1)) end
  local topt
  if method == "tsne" then
    -- perplexity below the rows shown (scikit-learn's requirement): few rows get a smaller one
    local perp = o.perplexity or math.min(30, math.max(1, (m - 1) / 3))
    topt = { perplexity = perp, max_iter = o.max_iter, seed = o.seed, rows = rows }
    E.perplexity = perp
  end
  for i, d in ipairs({ ds, moved or false }) do
    if d then
      local y, info
      if method == "tsne" then y, info = core.tsne(d, topt)
      else y = core.pca_embedding(d, { rows = rows }) end
      E.panels[i] = { y = y, kl = info and info.kl,
                      title = i == 1 and "before PED" or "after PED" }
    end
  end
  return E
end

local SHAPES = svg.SHAPES

-- Class c's colour and marker: the palette's twelve colours, then the next marker shape.
local function style(c)
  local P = svg.PALETTE
  return P[(c - 1) % #P + 1], SHAPES[((c - 1) // #P) % #SHAPES + 1]
end

local function mark(shape, x, y, r, color)
  if shape == "square" then
    return string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>', n2(x - r),
      n2(y - r), n2(2 * r), n2(2 * r), color)
  elseif shape == "triangle" then
    return string.format('<polygon points="%s,%s %s,%s %s,%s" fill="%s"/>', n2(x), n2(y - 1.3 * r),
      n2(x - 1.2 * r), n2(y + 0.9 * r), n2(x + 1.2 * r), n2(y + 0.9 * r), color)
  elseif shape == "diamond" then
    return string.format('<polygon points="%s,%s %s,%s %s,%s %s,%s" fill="%s"/>', n2(x),
      n2(y - 1.4 * r), n2(x + 1.4 * r), n2(y), n2(x), n2(y + 1.4 * r), n2(x - 1.4 * r), n2(y),
      color)
  end
  return string.format('<circle cx="%s" cy="%s" r="%s" fill="%s"/>', n2(x), n2(y), n2(r), color)
end

-- The caption: method, rows shown, what the axes are.
function M.caption(E)
  local what = E.method == "tsne"
    and string.format("t-SNE (Barnes–Hut, perplexity %s)", (string.format("%.4g", E.perplexity)))
    or "PCA (first two principal components)"
  local rows = E.shown < E.total
    and string.format("%d of %d rows (evenly subsampled)", E.shown, E.total)
    or string.format("all %d rows", E.total)
  local base = tostring(E.name):match("([^/]+)$") or tostring(E.name)
  return string.format(
    "%s of %s, %s; each panel its own embedding, one colour and marker per class",
    what, base, rows)
end

-- The line under the legend: method and rows shown.
local function footer(E)
  local what = E.method == "tsne"
    and string.format("t-SNE, perplexity %s", (string.format("%.4g", E.perplexity))) or "PCA"
  if E.shown < E.total then
    return string.format("%s · %d of %d rows (evenly subsampled)", what, E.shown, E.total)
  end
  return string.format("%s · all %d rows", what, E.total)
end

-- Legend: as many columns as fit the width, names cut at 24 characters (the full name in a
-- tooltip); returns its height.
local function legend(out, E, x0, y0, width)
  local C = #E.classes
  local maxlen = 1
  for c = 1, C do maxlen = math.max(maxlen, math.min(24, utf8.len(E.classes[c]) or 24)) end
  local colw = 26 + 7 * maxlen
  local cols = math.max(1, math.min(C, math.floor(width / colw)))
  local nrows = (C + cols - 1) // cols
  out[#out + 1] = string.format('<g class="legend" font-size="12">')
  for c = 1, C do
    local col, row = (c - 1) % cols, (c - 1) // cols
    local x, y = x0 + col * colw, y0 + row * 18 + 9
    local color, shape = style(c)
    local name = E.classes[c]
    local shown = (utf8.len(name) or 99) > 24 and (name:sub(1, utf8.offset(name, 24) - 1) .. "…")
      or name
    out[#out + 1] = mark(shape, x + 6, y, 4.5, color)
    out[#out + 1] = string.format('<text x="%s" y="%s"><title>%s</title>%s</text>', n2(x + 16),
      n2(y + 4), esc(name), esc(shown))
  end
  out[#out + 1] = "</g>"
  return nrows * 18
end

-- The figure of E as SVG text: a panel per embedding, the legend, the footer.
local function to_svg(E, title)
  local PW, GAP, L, TOP = 330, 24, 14, title and 54 or 30
  local np = #E.panels
  local W = L * 2 + np * PW + (np - 1) * GAP
  local out = {}
  local body = {}
  for i, p in ipairs(E.panels) do
    local x0 = L + (i - 1) * (PW + GAP)
    local y = p.y
    local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
    for a = 1, y:rows() do
      xmin, xmax = math.min(xmin, y:get(a, 1)), math.max(xmax, y:get(a, 1))
      ymin, ymax = math.min(ymin, y:get(a, 2)), math.max(ymax, y:get(a, 2))
    end
    -- equal aspect, 4 % margin: the data box is the panel's square
    local cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    local half = math.max(xmax - xmin, ymax - ymin, 1e-12) / 2 * 1.08
    local s = PW / (2 * half)
    local sub = p.title .. (p.kl and string.format(" (KL %.3f)", p.kl) or "")
    body[#body + 1] = string.format('<g class="panel" data-panel="%s">', esc(p.title))
    body[#body + 1] = string.format(
      '<text x="%s" y="%s" text-anchor="middle" font-weight="bold">%s</text>',
      n2(x0 + PW / 2), n2(TOP - 8), esc(sub))
    body[#body + 1] = string.format(
      '<rect class="box" x="%s" y="%s" width="%d" height="%d" fill="#fafafa" '
      .. 'stroke="#333333" stroke-width="1"/>', n2(x0), n2(TOP), PW, PW)
    body[#body + 1] = '<g class="points" fill-opacity="0.75">'
    for a = 1, y:rows() do
      local px = x0 + (y:get(a, 1) - cx) * s + PW / 2
      local py = TOP + PW / 2 - (y:get(a, 2) - cy) * s
      local color, shape = style(E.label[a])
      body[#body + 1] = mark(shape, px, py, 2.2, color)
    end
    body[#body + 1] = "</g></g>"
  end
  local lh = legend(body, E, L, TOP + PW + 14, W - 2 * L)
  local fy = TOP + PW + 14 + lh + 16
  body[#body + 1] = string.format(
    '<text class="count" x="%s" y="%s" font-size="11" fill="#444444">%s</text>',
    n2(L), n2(fy), esc(footer(E)))
  local H = fy + 10
  out[#out + 1] = string.format(
    '<svg xmlns="http://www.w3.org/2000/svg" class="embedding" width="%d" '
    .. 'height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12" '
    .. 'role="img" aria-label="%s">', W, H, W, H, esc(M.caption(E)))
  out[#out + 1] = string.format('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', W, H)
  if title then
    out[#out + 1] = string.format('<text x="%s" y="22" text-anchor="middle" font-size="15" '
      .. 'font-weight="bold">%s</text>', n2(W / 2), esc(title))
  end
  for _, b in ipairs(body) do out[#out + 1] = b end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n") .. "\n"
end

-- PED's settings of a rank for one model: those the rank ran (R.settings.ped), or PED's defaults
-- with the model's reference set when no metric ran after PED.
local function ped_settings(R, z, model)
  local p = R.settings and R.settings.ped
  local s = {}
  if p then
    s.law, s.law_params = p.law, p.law_params
    for _, k in ipairs(ped.NAMES) do s[k] = p[k] end
    if p.ref then s.ref = z:ref_path(model) end
  elseif z:has_ref(model) then
    s.ref = z:ref_path(model)
  end
  return s
end

-- For `pedlab rank --html`: per task, the embeddings before and after PED of the model the
-- first ped+ metric (else the first metric) predicts best and of the truly best one (ground
-- truth). method: "tsne", "pca" or "auto" (M.default_method). Returns {task = {{model, roles,
-- svg, caption, method} or {model, roles, error}, ...}}: a model that cannot be drawn gets
-- its message, and the report the rest.
function M.rank_figures(R, method)
  local z = R.zoo
  local key = R.metrics[1]
  for _, k in ipairs(R.metrics) do
    if k:match("^ped%+") then key = k break end
  end
  local out = {}
  for _, task in ipairs(R.tasks) do
    local rk = report.ranking(R.results[task][key].scores, z.gt and z.gt[task], key)
    local picks, seen = {}, {}
    local function pick(model, role)
      if not model then return end
      if seen[model] then table.insert(seen[model].roles, role) return end
      seen[model] = { model = model, roles = { role } }
      picks[#picks + 1] = seen[model]
    end
    pick(rk.predicted_best, "predicted best by " .. key)
    pick(rk.true_best, "truly best (fine-tuned accuracy)")
    for _, f in ipairs(picks) do
      local ok, err = pcall(function()
        local ds = z:dataset(f.model, task)
        local moved = ped.run(ds, ped_settings(R, z, f.model))
        local E = compute(ds, moved, { method = method ~= "auto" and method or nil },
                            "--embed")
        f.svg, f.method = to_svg(E), E.method
        f.caption = string.format("%s on %s, %s: %s", f.model, task, table.concat(f.roles, ", "),
          M.caption(E))
        moved:close()
        ds:close()
      end)
      if not ok then f.error = tostring(err) end
    end
    out[task] = picks
  end
  return out
end

function M.figure(ds, moved, path, o)
  if type(path) ~= "string" or path == "" then error("plot.embedding: path is required", 2) end
  local E = compute(ds, moved, o)
  local base = tostring(E.name):match("([^/]+)$") or tostring(E.name)
  local title = o and o.title
    or string.format("%s of %s", E.method == "tsne" and "t-SNE" or "PCA", base)
  local text = to_svg(E, title)
  core.write_file(path, text)
  return text, E
end

return M

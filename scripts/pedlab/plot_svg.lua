-- pedlab.plot_svg — the figure primitives of pl.plot: colours, markers, a figure built as SVG
-- text in memory (title, text that widens the figure to fit, legend), axes with ticks, and the
-- checks of output paths and folders. The charts (pedlab.plot_charts) draw with these.
local core = require "pedlab.core"
local textsafe = require "pedlab.textsafe"

local M = {}

-- Colour-blind safe: Okabe & Ito's eight (yellow last: weakest on white), then four of Paul
-- Tol's muted scheme. Series past the twelfth reuse the colours with a dash pattern (lines) or
-- another marker shape (points).
M.PALETTE = { "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
              "#F0E442", "#882255", "#44AA99", "#999933", "#AA4499" }
M.DASHES = { "6,3", "2,2", "8,3,2,3" }
M.MEAN_COLOR = "#333333"

-- The colour of series (or group, or class) i.
function M.color(i) return M.PALETTE[(i - 1) % #M.PALETTE + 1] end

-- The dash pattern of series i (nil: solid for the first twelve).
function M.dash_of(i)
  local round = (i - 1) // #M.PALETTE
  return round > 0 and M.DASHES[(round - 1) % #M.DASHES + 1] or nil
end

local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
                   ["'"] = "&#39;" }

-- Text for SVG/HTML: characters XML cannot hold made visible, then the five entities.
function M.escape(s)
  return (textsafe.xml_text(tostring(s)):gsub("[&<>\"']", ENTITIES))
end
local esc = M.escape

function M.finite(v)
  return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
end

-- A coordinate as written in the SVG (two decimals).
function M.n2(v) return string.format("%.2f", v) end
local n2 = M.n2

-- ---------------------------------------------------------------- scales and ticks
-- "Nice" linear ticks covering [lo, hi]: steps of 1, 2 or 5 × 10^k.
local function linear_ticks(lo, hi, want)
  want = want or 6
  if not (hi > lo) then
    local pad = lo ~= 0 and math.abs(lo) * 0.1 or 1
    lo, hi = lo - pad, hi + pad
  end
  local raw = (hi - lo) / want
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag
  for _, m in ipairs({ 1, 2, 5, 10 }) do
    if raw <= m * mag * (1 + 1e-9) then step = m * mag break end
  end
  local a, b = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
  local ticks = {}
  local k = 0
  while true do
    local t = a + k * step
    if t > b + step * 1e-9 then break end
    if math.abs(t) < step * 1e-9 then t = 0 end
    ticks[#ticks + 1] = t
    k = k + 1
  end
  return ticks, a, b, step
end

local function tick_label(t, step)
  if step and step >= 1 and t == math.floor(t) then return string.format("%d", math.floor(t)) end
  return string.format("%.4g", t)
end

-- Log ticks inside the data's range (never out to the next decade): 1×, 2× and 5× 10^k when
-- the range spans at most three decades, decades otherwise; the ends when that leaves fewer
-- than two. The axis spans the data plus 4% (of the log range) each side.
local function log_ticks(lo, hi)
  if not (hi > lo) then lo, hi = lo / 2, hi * 2 end
  local la, lb = math.log(lo, 10), math.log(hi, 10)
  local a, b = math.floor(la + 1e-9), math.ceil(lb - 1e-9)
  local ticks = {}
  local mults = (b - a) <= 3 and { 1, 2, 5 } or { 1 }
  for e = a, b do
    for _, m in ipairs(mults) do
      local t = m * 10 ^ e
      if t >= lo * (1 - 1e-9) and t <= hi * (1 + 1e-9) then ticks[#ticks + 1] = t end
    end
  end
  if #ticks < 2 then ticks = { lo, hi } end
  local pad = (lb - la) * 0.04
  return ticks, 10 ^ (la - pad), 10 ^ (lb + pad)
end

-- Whole-number ticks for ranks lo..hi: every one up to 12, then every 2nd, 5th, 10th...; the
-- axis spans lo - 0.5 .. hi + 0.5.
local function int_ticks(lo, hi)
  local n, step = hi - lo + 1, 1
  for _, s in ipairs({ 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 }) do
    step = s
    if n / s <= 12 then break end
  end
  local ticks = {}
  for t = lo, hi do if t == lo or t % step == 0 then ticks[#ticks + 1] = t end end
  return ticks, lo - 0.5, hi + 0.5, 1
end

-- The ticks and data range of a panel's two axes (p as Fig:axes takes it).
local function panel_ticks(p)
  local x, y = {}, {}
  if p.xint then x.t, x.lo, x.hi, x.step = int_ticks(p.xint[1], p.xint[2])
  elseif p.xscale == "log" then x.t, x.lo, x.hi = log_ticks(p.xmin, p.xmax)
  else x.t, x.lo, x.hi, x.step = linear_ticks(p.xmin, p.xmax, p.xticks or 6) end
  if p.yint then y.t, y.lo, y.hi, y.step = int_ticks(p.yint[1], p.yint[2])
  else y.t, y.lo, y.hi, y.step = linear_ticks(p.ymin, p.ymax, p.yticks or 5) end
  return x, y
end

-- ---------------------------------------------------------------- a figure under construction
local Fig = {}
Fig.__index = Fig

-- Text width in pixels, estimated on the wide side (0.62 em a character: Helvetica's average
-- is about 0.55), so the figure is made wide enough for every label and legend.
function M.text_width(s, size)
  return 0.62 * (size or 12) * (utf8.len(tostring(s)) or #tostring(s))
end
local text_width = M.text_width

-- A figure w × h pixels on white, with its title (if any) centred at the top.
function M.figure(w, h, title)
  local f = setmetatable({ w = w, h = h, out = {}, right = 0 }, Fig)
  f:add(string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
    .. 'viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">',
    w, h, w, h))
  f:add(string.format('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', w, h))
  if title and title ~= "" then
    f:add(string.format('<text x="%s" y="22" text-anchor="middle" font-size="15" '
      .. 'font-weight="bold">%s</text>', n2(w / 2), esc(title)))
  end
  return f
end

function Fig:add(s) self.out[#self.out + 1] = s end

function Fig:text(x, y, s, attrs)
  local size = tonumber((attrs or ""):match('font%-size="([%d.]+)"')) or 12
  local anchor = (attrs or ""):match('text%-anchor="(%a+)"') or "start"
  local w = text_width(s, size)
  local right = anchor == "start" and x + w or anchor == "middle" and x + w / 2 or x
  self.right = math.max(self.right, right)
  self:add(string.format('<text x="%s" y="%s"%s>%s</text>', n2(x), n2(y),
    attrs and (" " .. attrs) or "", esc(s)))
end

-- The figure is widened (width and viewBox) when a label or legend reaches past its right edge.
function Fig:finish(path)
  if self.right + 6 > self.w then
    local w = math.ceil(self.right + 6)
    self.out[1] = self.out[1]:gsub('width="%d+" height="(%d+)" viewBox="0 0 %d+ (%d+)"',
      string.format('width="%d" height="%%1" viewBox="0 0 %d %%2"', w, w), 1)
    self.out[2] = self.out[2]:gsub('width="%d+"', 'width="' .. w .. '"', 1)
    self.w = w
  end
  self:add("</svg>")
  local svg = table.concat(self.out, "\n") .. "\n"
  if path then core.write_file(path, svg) end
  return svg
end

local LINE = '<line x1="%s" y1="%s" x2="%s" y2="%s"/>'

-- A line of the frame, grid or ticks.
function Fig:segment(x1, y1, x2, y2)
  self:add(string.format(LINE, n2(x1), n2(y1), n2(x2), n2(y2)))
end

-- The panel's background, grid, frame and tick marks.
function Fig:frame(x0, y0, w, h, xt, yt, sx, sy)
  self:add(string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="#fafafa" '
    .. 'stroke="none"/>', n2(x0), n2(y0), n2(w), n2(h)))
  self:add('<g stroke="#e3e3e3" stroke-width="1">')
  for _, t in ipairs(xt) do self:segment(sx(t), y0, sx(t), y0 + h) end
  for _, t in ipairs(yt) do self:segment(x0, sy(t), x0 + w, sy(t)) end
  self:add("</g>")
  self:add(string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="none" '
    .. 'stroke="#333333" stroke-width="1"/>', n2(x0), n2(y0), n2(w), n2(h)))
  self:add('<g stroke="#333333" stroke-width="1">')
  for _, t in ipairs(xt) do self:segment(sx(t), y0 + h, sx(t), y0 + h + 5) end
  for _, t in ipairs(yt) do self:segment(x0 - 5, sy(t), x0, sy(t)) end
  self:add("</g>")
end

-- A plotting panel: box (x0, y0, w, h) in pixels, data ranges, scales. Draws frame, grid,
-- ticks, tick labels and axis labels. Returns sx, sy mapping data to pixels.
function Fig:axes(p)
  local x0, y0, w, h = p.x0, p.y0, p.w, p.h
  local x, y = panel_ticks(p)
  local sx
  if p.xscale == "log" then
    local la, lb = math.log(x.lo, 10), math.log(x.hi, 10)
    sx = function(v) return x0 + (math.log(v, 10) - la) / (lb - la) * w end
  else
    sx = function(v) return x0 + (v - x.lo) / (x.hi - x.lo) * w end
  end
  local sy = function(v) return y0 + h - (v - y.lo) / (y.hi - y.lo) * h end
  self:frame(x0, y0, w, h, x.t, y.t, sx, sy)
  for _, t in ipairs(x.t) do
    self:text(sx(t), y0 + h + 18, tick_label(t, x.step), 'text-anchor="middle" fill="#333333"')
  end
  for _, t in ipairs(y.t) do
    self:text(x0 - 8, sy(t) + 4, tick_label(t, y.step), 'text-anchor="end" fill="#333333"')
  end
  if p.xlabel then self:text(x0 + w / 2, y0 + h + 38, p.xlabel, 'text-anchor="middle"') end
  if p.ylabel then
    local cx, cy = x0 - 48, y0 + h / 2
    self:add(string.format('<text x="%s" y="%s" text-anchor="middle" '
      .. 'transform="rotate(-90 %s %s)">%s</text>', n2(cx), n2(cy), n2(cx), n2(cy), esc(p.ylabel)))
  end
  if p.subtitle then
    self:text(x0 + w / 2, y0 - 8, p.subtitle, 'text-anchor="middle" font-weight="bold"')
  end
  return sx, sy, { xlo = x.lo, xhi = x.hi, ylo = y.lo, yhi = y.hi }
end

-- The marker shapes, in the order groups (and classes) take them.
M.SHAPES = { "circle", "square", "triangle", "diamond" }
local SHAPES = M.SHAPES
-- Group gi's marker: shapes cycle, shifted once per round of colours (13 differs from 1).
function M.shape_of(gi) return SHAPES[((gi - 1) + (gi - 1) // #M.PALETTE) % #SHAPES + 1] end

-- A marker of the given shape centred at (x, y), with a tooltip when tip is given.
function M.marker(shape, x, y, r, fill, stroke, tip)
  local t = tip and ("<title>" .. esc(tip) .. "</title>") or ""
  local style = string.format('fill="%s" stroke="%s" stroke-width="1.2"', fill, stroke)
  if shape == "square" then
    return string.format('<rect x="%s" y="%s" width="%s" height="%s" %s>%s</rect>', n2(x - r),
      n2(y - r), n2(2 * r), n2(2 * r), style, t)
  elseif shape == "triangle" then
    return string.format('<polygon points="%s,%s %s,%s %s,%s" %s>%s</polygon>', n2(x),
      n2(y - r * 1.2), n2(x - r * 1.1), n2(y + r * 0.8), n2(x + r * 1.1), n2(y + r * 0.8),
      style, t)
  elseif shape == "diamond" then
    return string.format('<polygon points="%s,%s %s,%s %s,%s %s,%s" %s>%s</polygon>', n2(x),
      n2(y - r * 1.3), n2(x + r * 1.3), n2(y), n2(x), n2(y + r * 1.3), n2(x - r * 1.3), n2(y),
      style, t)
  end
  return string.format('<circle cx="%s" cy="%s" r="%s" %s>%s</circle>', n2(x), n2(y), n2(r),
    style, t)
end

-- Legend entries {name, color, kind = "line"|"marker", dashed, shape} at the panel's right.
function Fig:legend(x, y, entries)
  local h = 18 * #entries + 8
  local wmax = 0
  for _, e in ipairs(entries) do wmax = math.max(wmax, text_width(e.name)) end
  local w = 38 + wmax
  self:add(string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="#ffffff" '
    .. 'stroke="#bbbbbb"/>', n2(x), n2(y), n2(w), n2(h)))
  for i, e in ipairs(entries) do
    local yy = y + 4 + 18 * (i - 1) + 9
    if e.kind == "line" then
      self:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" '
        .. 'stroke-width="%s"%s/>', n2(x + 6), n2(yy), n2(x + 26), n2(yy), e.color,
        e.bold and "3.5" or "2", e.dash and (' stroke-dasharray="' .. e.dash .. '"') or ""))
    else
      self:add(M.marker(e.shape or "circle", x + 16, yy, 4, e.fill or e.color, e.color))
    end
    self:text(x + 32, yy + 4, e.name)
  end
end

-- ---------------------------------------------------------------- output paths and folders
-- A figure's path must be given: plot.FN: path is required.
function M.check_path(fn, path)
  if type(path) ~= "string" or path == "" then error("plot." .. fn .. ": path is required", 3) end
end

-- Can dir hold figures? (absent, or a folder; an existing file there is an error). Checked
-- before any work by the command line, and again when the folder is made.
function M.check_dir(dir, what)
  if type(dir) ~= "string" or dir == "" then error(what .. ": a folder is required", 3) end
  local kind = core.exists(dir)
  if kind ~= nil and kind ~= "directory" then
    error(string.format("%s: %s exists and is not a folder", what, dir), 0)
  end
  return dir
end

-- Figures {{svg = text, ...}, ...} written, each to path_of(fig); returns the paths written.
function M.write_figures(figs, path_of)
  local written = {}
  for _, fig in ipairs(figs) do
    local path = path_of(fig)
    core.write_file(path, fig.svg)
    written[#written + 1] = path
  end
  return written
end

-- A folder for figures, created from C (no shell).
function M.output_dir(dir, what)
  core.mkdir(M.check_dir(dir, what))
  return dir
end

return M

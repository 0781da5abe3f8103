-- test_plot.lua — every plot function writes a well-formed SVG; PCA on the demo zoo; a plot
-- that raises leaves no file (and an older file untouched).
local T = require "harness"
local pl = require "pedlab"
local plot = require "pedlab.plot"

local ZOO = T.source .. "/data/demo"
local tmp = os.tmpname()
local dir = tmp .. ".d"
os.execute('mkdir -p "' .. dir .. '"')

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path) return slurp(path) ~= nil end

-- Basic structure: one <svg> root, balanced tags, no non-finite numbers in attributes, every
-- '&' an entity. Returns the count of each element.
local function check_svg(path)
  local s = assert(slurp(path), "no file " .. path)
  assert(s:match("^<svg "), path .. ": does not start with <svg")
  assert(s:match("</svg>%s*$"), path .. ": does not end with </svg>")
  assert(s:find('xmlns="http://www.w3.org/2000/svg"', 1, true), path .. ": no SVG namespace")
  local stack, count = {}, {}
  local pos = 1
  while true do
    local a, b, close, name, rest = s:find("<(/?)([%w:%-]+)([^<>]*)>", pos)
    if not a then break end
    -- text between tags must not hold a raw '<' or '>'
    local between = s:sub(pos, a - 1)
    assert(not between:find("[<>]"), path .. ": stray angle bracket near byte " .. pos)
    if close == "/" then
      local top = table.remove(stack)
      assert(top == name, string.format("%s: </%s> closes <%s>", path, name, tostring(top)))
    elseif rest:sub(-1) == "/" then
      count[name] = (count[name] or 0) + 1
    else
      count[name] = (count[name] or 0) + 1
      stack[#stack + 1] = name
    end
    for v in rest:gmatch('="([^"]*)"') do
      assert(not v:lower():find("nan") and not v:lower():find("inf"),
        path .. ": non-finite attribute " .. v)
    end
    pos = b + 1
  end
  assert(#stack == 0, path .. ": unclosed <" .. tostring(stack[#stack]) .. ">")
  assert(not s:find("&[^%a#]"), path .. ": unescaped &")
  T.eq(count.svg, 1, "one svg root")
  return count, s
end
T.check_svg = check_svg

T.case("plot.lines: valid SVG with axes, ticks, legend; escaping; gaps at NaN", function()
  local path = dir .. "/lines.svg"
  local svg = plot.lines { path = path, title = "tau < 1 & \"quoted\"", xlabel = "dt",
    ylabel = "tau",
    series = { { name = "a&b", x = { 1, 2, 3, 4 }, y = { 0.1, 0 / 0, 0.3, 0.2 } },
               { name = "flat", x = { 1, 4 }, y = { 0.5, 0.5 }, dashed = true } } }
  local count, text = check_svg(path)
  T.eq(svg, text)
  assert(text:find("tau &lt; 1 &amp; &quot;quoted&quot;", 1, true), "escaped title")
  assert(text:find("a&amp;b", 1, true), "escaped legend")
  -- the NaN splits a into a lone point (no polyline) and a 2-point run; b is one polyline
  T.eq(count.polyline, 2, "polylines")
  assert(count.text >= 10, "tick labels")
  assert(text:find("stroke-dasharray", 1, true))
end)

T.case("plot.lines: log x axis, a single point, constant values", function()
  plot.lines { path = dir .. "/log.svg", xscale = "log",
    series = { { name = "dt", x = { 0.01, 0.1, 1 }, y = { 1, 2, 3 } } } }
  local _, text = check_svg(dir .. "/log.svg")
  assert(text:find(">0.01<", 1, true) and text:find(">1<", 1, true), "decade tick labels")
  plot.lines { path = dir .. "/one.svg", series = { { name = "p", x = { 3 }, y = { 7 } } } }
  check_svg(dir .. "/one.svg")
  plot.lines { path = dir .. "/const.svg", series = { { name = "c", x = { 1, 2 }, y = { 0, 0 } } } }
  check_svg(dir .. "/const.svg")
end)

T.case("plot.scatter: groups, labels, diagonal", function()
  local pts = {}
  for i = 1, 6 do
    pts[#pts + 1] = { x = i, y = 7 - i, label = "m" .. i, group = "logme" }
    pts[#pts + 1] = { x = i, y = i, label = "m" .. i, group = "ped+logme" }
  end
  local count, text = check_svg((function()
    plot.scatter { path = dir .. "/scatter.svg", title = "rank", xlabel = "predicted",
                   ylabel = "true", points = pts, diagonal = true }
    return dir .. "/scatter.svg"
  end)())
  assert(text:find("ped+logme", 1, true))
  assert(text:find("y = x", 1, true))
  T.eq(count.circle >= 6, true)
  T.eq(count.rect >= 6, true, "the second group draws squares")
end)

T.case("plot: a plot that raises writes nothing and leaves an old file alone", function()
  local path = dir .. "/bad.svg"
  T.raises("series is empty", plot.lines, { path = path, series = {} })
  T.eq(exists(path), false)
  T.raises("has 2 x values and 1 y values", plot.lines,
    { path = path, series = { { name = "s", x = { 1, 2 }, y = { 1 } } } })
  T.raises("no finite points", plot.lines,
    { path = path, series = { { name = "s", x = { 1 }, y = { 0 / 0 } } } })
  T.raises("points is empty", plot.scatter, { path = path, points = {} })
  T.raises("path is required", plot.scatter, { points = { { x = 1, y = 1 } } })
  T.eq(exists(path), false)
  local old = dir .. "/lines.svg"
  local before = slurp(old)
  T.raises("series is empty", plot.lines, { path = old, series = {} })
  T.eq(slurp(old), before)
  -- no temp files left behind in the folder
  local p = io.popen('ls -1 "' .. dir .. '"')
  for name in p:lines() do assert(name:match("%.svg$"), "stray file " .. name) end
  p:close()
end)

T.case("plot: misspelled options are errors, not silently ignored", function()
  T.raises("unknown option 'xsacle'", plot.lines, { path = dir .. "/m.svg", xsacle = "log",
    series = { { name = "s", x = { 1 }, y = { 1 } } } })
  T.raises("series 1: unknown option 'dash'", plot.lines,
           { path = dir .. "/m.svg", series = { { x = { 1 }, y = { 1 }, dash = true } } })
  T.raises("unknown option 'diagnal'", plot.scatter, { path = dir .. "/m.svg", diagnal = true,
                                                       points = { { x = 1, y = 1 } } })
end)

T.case("plot.output_dir: folders made from C, never through a shell; "
  .. "a file there refused", function()
  local weird = dir .. "/a b/$(touch PWNED)/c"
  plot.output_dir(weird, "--plot")
  T.eq(pl.exists(weird), "directory")
  T.eq(pl.exists("PWNED"), nil)
  T.raises("exists and is not a folder", plot.output_dir, dir .. "/lines.svg", "--plot")
end)

T.case("plot.pca2d on the demo: points, and class means only for large data", function()
  local z = pl.zoo.open(ZOO, { ref_name = "fmnist-train" })
  local ds = z:dataset("simclr", "digits")
  local moved = pl.ped.run(ds, { ref = z:ref_path("simclr"), radius = 1.0 })
  local count, text = check_svg((function()
    plot.pca2d(ds, moved, dir .. "/pca.svg", "simclr on digits")
    return dir .. "/pca.svg"
  end)())
  assert(text:find("before PED", 1, true) and text:find("after PED", 1, true))
  assert(text:find("PC1 (", 1, true))
  assert(count.circle > 300, "subsampled points are drawn")
  local limit = plot.DENSE_LIMIT
  plot.DENSE_LIMIT = 0
  local ok, err = pcall(plot.pca2d, ds, moved, dir .. "/pca_means.svg")
  plot.DENSE_LIMIT = limit
  assert(ok, err)
  local c2 = check_svg(dir .. "/pca_means.svg")
  assert(c2.circle < 60, "class means and spreads only")
  plot.pca2d(ds, nil, dir .. "/pca_one.svg")
  check_svg(dir .. "/pca_one.svg")
end)

T.case("plot.rank_figures and ped_figures on a pedlab rank result", function()
  local rank = require "pedlab.commands.rank"
  local R = rank.rank_zoo({ zoo = ZOO, task = "digits", ref_name = "fmnist-train",
    metric = { "logme,ped+logme" } }, "test")
  local out = dir .. "/rank"
  local written = plot.rank_figures(R, out)
  T.eq(#written, 3)
  for _, p in ipairs(written) do check_svg(p) end
  local _, scatter = check_svg(out .. "/digits_rank_logme.svg")
  assert(scatter:find("ped+logme", 1, true))
  check_svg(out .. "/digits_ped_displacement.svg")
  check_svg(out .. "/digits_ped_energy.svg")
  local w2 = plot.ped_figures(R.runs.digits, dir .. "/x", "digits")
  T.eq(#w2, 2)
end)

-- The tick labels of an SVG (text elements centred under or ending at an axis), as numbers.
local function ticks(svg, anchor)
  local out = {}
  for v in svg:gmatch('text%-anchor="' .. anchor .. '" fill="#333333">([^<]*)<') do
    out[#out + 1] = tonumber(v)
  end
  return out
end

T.case("plot: a log axis ends at the data (16), not at the next decade", function()
  local svg = plot.lines { path = dir .. "/log16.svg", xscale = "log",
    series = { { name = "s", x = { 1, 2, 4, 8, 16 }, y = { 1, 2, 3, 4, 5 } } } }
  local xt = ticks(svg, "middle")
  T.eq(xt[1], 1, "first tick")
  T.eq(xt[#xt], 10, "last tick: 10 (20 and 100 lie beyond the data)")
  assert(not svg:find(">100<", 1, true), "no tick at 100")
  local svg2 = plot.lines { path = dir .. "/log2.svg", xscale = "log",
                            series = { { name = "s", x = { 3, 4 }, y = { 1, 2 } } } }
  T.eq(#ticks(svg2, "middle"), 2, "a range with no 1/2/5 tick shows its ends")
end)

T.case("plot: rank axes run 1..N (the number of models)", function()
  local pts = {}
  for i = 1, 12 do pts[i] = { x = i, y = 13 - i } end
  local svg = plot.scatter { path = dir .. "/ranks.svg", points = pts, ranks = 12, diagonal = true }
  local xt, yt = ticks(svg, "middle"), ticks(svg, "end")
  T.eq(#xt, 12, "x ticks")
  T.eq(xt[1], 1)
  T.eq(xt[12], 12)
  T.eq(yt[#yt], 12, "y axis ends at 12")
  T.raises("ranks must be a whole number", plot.scatter,
    { path = dir .. "/r.svg", points = pts, ranks = 0 })
end)

T.case("plot: colour-blind-safe palette for 12 series, dashes beyond; the mean bold", function()
  T.eq(plot.PALETTE[1], "#0072B2", "Okabe-Ito blue first")
  T.eq(#plot.PALETTE, 12)
  local seen = {}
  for _, c in ipairs(plot.PALETTE) do
    assert(not seen[c], "colour twice: " .. c)
    seen[c] = true
  end
  local series = {}
  for i = 1, 14 do series[i] = { name = "s" .. i, x = { 1, 2 }, y = { i, i + 1 } } end
  series[15] = { name = "mean", x = { 1, 2 }, y = { 3, 4 }, bold = true }
  local svg = plot.lines { path = dir .. "/many.svg", series = series }
  local lines = {}
  for l in svg:gmatch("<polyline [^>]*>") do lines[#lines + 1] = l end
  T.eq(#lines, 15)
  for i = 1, 12 do
    assert(lines[i]:find('stroke="' .. plot.PALETTE[i] .. '"', 1, true),
      "series " .. i .. " colour")
    assert(not lines[i]:find("dasharray", 1, true), "series " .. i .. " solid")
  end
  assert(lines[13]:find('stroke="' .. plot.PALETTE[1] .. '"', 1, true)
    and lines[13]:find('stroke-dasharray="6,3"', 1, true),
    "series 13: colour 1, dashed")
  assert(lines[15]:find('stroke-width="3.5"', 1, true)
    and lines[15]:find(plot.MEAN_COLOR, 1, true), "the mean bold")
end)

T.case("plot.rank_svgs: every point labelled with its model, rank axes to the models", function()
  local rank = require "pedlab.commands.rank"
  local R = rank.rank_zoo({ zoo = ZOO, task = "digits", ref_name = "fmnist-train",
    metric = { "logme,ped+logme" } }, "test")
  local figs = plot.rank_svgs(R)
  T.eq(figs[1].kind, "rank")
  local svg = figs[1].svg
  local labels = 0
  for _ in svg:gmatch('font%-size="9"') do labels = labels + 1 end
  T.eq(labels, 2 * #R.zoo.models, "one label per point, plain and ped+")
  -- labels near the right edge turn left: none runs past the plot panel into the legend
  local panel_right, seen = 720 - 190, 0
  local pat = '<text x="([%d.]+)" y="[%d.-]+" font%-size="9" fill="#%x+"([^>]*)>([^<]*)<'
  for x, anchor, text in svg:gmatch(pat) do
    local right = tonumber(x) + (anchor:find("end") and 0 or plot.text_width(text, 9))
    T.eq(right <= panel_right, true, text .. " inside the panel")
    seen = seen + 1
  end
  T.eq(seen, labels, "every label checked")
  local xt = ticks(svg, "middle")
  T.eq(xt[#xt], #R.zoo.models, "x axis ends at the number of models")
end)

os.execute('rm -rf "' .. dir .. '"')
os.remove(tmp)
T.done()

-- pedlab.progress — progress on standard error: whether it is wanted (a terminal, and not
-- PEDLAB_PROGRESS=0: never into a log file), the core's line for passes over rows
-- (with_progress), a line for counted items such as a sweep's cells (counter), and the two
-- forms of a time: a clock ("1h02m", "3m05s", "7s", as the core's line) and an estimate
-- ("1.2 h", "3 min", "7 s").
local core = require "pedlab.core"

local M = {}

-- Progress is drawn on stderr when it is a terminal (PEDLAB_PROGRESS=0 turns it off).
function M.wanted()
  return core.isatty(2) and os.getenv("PEDLAB_PROGRESS") ~= "0"
end

-- Seconds as a clock reads them, rounded to the second: "1h02m", "3m05s", "7s".
function M.clock(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%dh%02dm", s // 3600, (s % 3600) // 60) end
  if s >= 60 then return string.format("%dm%02ds", s // 60, s % 60) end
  return string.format("%ds", s)
end

-- Seconds as an estimate is said: "1.2 h", "3 min", "7 s".
function M.duration(s)
  if s >= 3600 then return string.format("%.1f h", s / 3600) end
  if s >= 60 then return string.format("%.0f min", s / 60) end
  return string.format("%.0f s", s)
end

-- fn() with every pass over rows drawn by the core as a progress line (label) when wanted; the
-- line is ended before an error propagates. Returns what fn returns.
function M.with_progress(label, fn)
  if not M.wanted() then return fn() end
  core.progress(label)
  local res = table.pack(pcall(fn))
  core.progress(false)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- A line counting items: draw(done, computed) redraws "LABEL [####....] done/total UNIT
-- elapsed E  ETA T" in place (the ETA from the items computed, not merely looked up, since
-- the counter began); close() ends the line.
function M.counter(label, total, unit)
  local t0, width = os.time(), 24
  local c = {}
  function c.draw(done, computed)
    local elapsed = os.difftime(os.time(), t0)
    local fill = total > 0 and math.floor(width * done / total + 1e-9) or width
    local eta = "?"
    if computed > 0 then eta = M.clock(elapsed / computed * (total - done)) end
    if done == total then eta = "0s" end
    io.stderr:write(string.format("\r%s [%s%s] %d/%d %s  elapsed %s  ETA %s  ", label,
      string.rep("#", fill), string.rep(".", width - fill), done, total, unit,
      M.clock(elapsed), eta))
    io.stderr:flush()
  end
  function c.close() io.stderr:write("\n") end
  return c
end

return M

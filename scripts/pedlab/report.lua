-- pedlab.report — tables for terminals, papers (Markdown) and spreadsheets (CSV), written
-- atomically.
local core = require "pedlab.core"
local util = require "pedlab.util"

local M = {}

-- A table: {header = {...}, rows = {{...}, ...}} of strings/numbers.
local function cell(v, digits)
  if type(v) == "number" then return util.fmt_short(v, digits or 4) end
  return v == nil and "-" or tostring(v)
end

function M.text(t, digits)
  local w = {}
  local all = { t.header }
  for _, r in ipairs(t.rows) do all[#all + 1] = r end
  for _, r in ipairs(all) do
    for j = 1, #t.header do w[j] = math.max(w[j] or 0, #cell(r[j], digits)) end
  end
  local out = {}
  for i, r in ipairs(all) do
    local parts = {}
    for j = 1, #t.header do
      local s = cell(r[j], digits)
      parts[j] = j == 1 and s .. string.rep(" ", w[j] - #s) or string.rep(" ", w[j] - #s) .. s
    end
    out[#out + 1] = table.concat(parts, "  ")
    if i == 1 then
      local rule = {}
      for j = 1, #t.header do rule[j] = string.rep("-", w[j]) end
      out[#out + 1] = table.concat(rule, "  ")
    end
  end
  return table.concat(out, "\n") .. "\n"
end

function M.markdown(t, digits)
  local out = { "| " .. table.concat(t.header, " | ") .. " |" }
  local rule = {}
  for j = 1, #t.header do rule[j] = j == 1 and "---" or "---:" end
  out[#out + 1] = "| " .. table.concat(rule, " | ") .. " |"
  for _, r in ipairs(t.rows) do
    local parts = {}
    for j = 1, #t.header do parts[j] = cell(r[j], digits) end
    out[#out + 1] = "| " .. table.concat(parts, " | ") .. " |"
  end
  return table.concat(out, "\n") .. "\n"
end

local function csv_field(v)
  local s = type(v) == "number" and util.fmt(v) or (v == nil and "" or tostring(v))
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

function M.csv(t)
  local out = {}
  local all = { t.header }
  for _, r in ipairs(t.rows) do all[#all + 1] = r end
  for _, r in ipairs(all) do
    local parts = {}
    for j = 1, #t.header do parts[j] = csv_field(r[j]) end
    out[#out + 1] = table.concat(parts, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

-- Write text atomically (temp file + rename).
function M.write(path, text) core.write_file(path, text) end

-- A table row: label, one value per task (get(task) → number or nil), and the mean of the
-- finite values.
function M.row_with_mean(label, tasks, get)
  local row, sum, n = { label }, 0, 0
  for _, t in ipairs(tasks) do
    local v = get(t)
    row[#row + 1] = v
    if type(v) == "number" and v == v then sum, n = sum + v, n + 1 end
  end
  row[#row + 1] = n > 0 and sum / n or nil
  return row
end

-- The paper's Table 1 shape: a row per metric, a column per task, a mean column.
function M.tau_table(results, tasks, metrics, measure)
  measure = measure or "weighted_tau"
  local header = { "metric" }
  for _, t in ipairs(tasks) do header[#header + 1] = t end
  header[#header + 1] = "mean"
  local rows = {}
  for _, m in ipairs(metrics) do
    rows[#rows + 1] = M.row_with_mean(m, tasks, function(t)
      local r = results[t] and results[t][m]
      return r and r[measure]
    end)
  end
  return { header = header, rows = rows }
end

return M

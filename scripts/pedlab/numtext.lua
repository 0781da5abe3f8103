-- pedlab.numtext — the one rule for numbers shown in tables (text, Markdown, HTML): a column
-- is formatted as a whole, with enough digits to tell its values apart. Exact values (JSON,
-- CSV, data-value attributes) use util.fmt instead.
--
--   local f = numtext.column({0.3054, -1.2e-7, -88.647}, 4)   -- f(v) → text of one cell
--
-- Rule: whole numbers (Lua integers: ranks, counts) as integers; other numbers with `digits`
-- decimals (the minimum), more decimals while two different values would print the same or a
-- non-zero value would print as zero, up to MAX_DECIMALS; past that the column switches to
-- significant digits (%.Ng, N from digits up to 17) chosen by the same test. -0 prints as 0.
-- Undefined cells: nil → "-", NaN → "nan", text as it is.
local M = {}

local MAX_DECIMALS = 8

local function finite(v)
  return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
end

local function fixed(v, d)
  local s = string.format("%." .. d .. "f", v)
  if s:match("^%-0%.?0*$") then s = s:sub(2) end -- -0.0000 → 0.0000
  return s
end

local function sig(v, p)
  local s = string.format("%." .. p .. "g", v)
  if s:match("^%-0%.?0*$") then s = s:sub(2) end
  return s
end

-- Does fmt(v) tell every pair of different values apart and show every non-zero as non-zero?
local function separates(values, fmt)
  local seen = {}
  for _, v in ipairs(values) do
    local s = fmt(v)
    if v ~= 0 and not s:find("[1-9]") then return false end
    local prev = seen[s]
    if prev ~= nil and prev ~= v then return false end
    seen[s] = v
  end
  return true
end

-- The text of one non-number cell.
local function other(v)
  if v == nil then return "-" end
  if type(v) == "number" then
    if v ~= v then return "nan" end
    return v > 0 and "inf" or "-inf"
  end
  return tostring(v)
end

-- A formatter for a column of values (any Lua values; only finite floats decide the digits).
function M.column(values, digits)
  digits = digits or 4
  local floats = {}
  for _, v in pairs(values) do
    if finite(v) and math.type(v) == "float" then floats[#floats + 1] = v end
  end
  local fmt
  for d = digits, MAX_DECIMALS do
    local f = function(v) return fixed(v, d) end
    if separates(floats, f) then fmt = f break end
  end
  if not fmt then
    for p = math.max(digits, 1), 17 do
      local f = function(v) return sig(v, p) end
      if separates(floats, f) or p == 17 then fmt = f break end
    end
  end
  return function(v)
    if not finite(v) then return other(v) end
    if math.type(v) == "integer" then return tostring(v) end
    return fmt(v)
  end
end

-- Formatters for every column of a table {header, rows}: out[j](v).
function M.columns(t, digits)
  local out = {}
  for j = 1, #t.header do
    local col = {}
    for i, r in ipairs(t.rows) do col[i] = r[j] end
    out[j] = M.column(col, digits)
  end
  return out
end

-- One value alone (a measure in a sentence): the column rule on a column of one.
function M.one(v, digits) return M.column({ v }, digits)(v) end

return M

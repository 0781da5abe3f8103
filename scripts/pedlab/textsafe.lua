-- pedlab.textsafe — text made safe to show: valid UTF-8 without the control characters XML
-- forbids (SVG, HTML), names as one visible line of a text table (control, non-UTF-8 and
-- bidirectional characters shown, never obeyed), Markdown table cells.
local M = {}

-- Text as valid UTF-8: each byte that does not start a valid sequence becomes bad(byte)
-- (default U+FFFD); chars (optional) maps a code point to its replacement text or nil.
local function utf8_map(s, bad, chars)
  s = tostring(s)
  if utf8.len(s) and not chars then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local ok, cp = pcall(utf8.codepoint, s, i)
    local len = ok and #utf8.char(cp) or 0
    -- utf8.codepoint is lax about surrogates and overlong forms: re-encode to be sure
    if ok and (cp >= 0xD800 and cp <= 0xDFFF or s:sub(i, i + len - 1) ~= utf8.char(cp)) then
      ok = false
    end
    if ok then
      out[#out + 1] = chars and chars(cp) or s:sub(i, i + len - 1)
      i = i + len
    else
      out[#out + 1] = bad and bad(s:byte(i)) or "\u{FFFD}"
      i = i + 1
    end
  end
  return table.concat(out)
end

-- Text for XML (SVG, HTML): valid UTF-8, and the control characters XML 1.0 forbids (all but
-- tab, newline, carriage return) as U+FFFD.
function M.xml_text(s)
  return utf8_map(s, nil, function(cp)
    if cp < 32 and cp ~= 9 and cp ~= 10 and cp ~= 13 or cp == 0xFFFE or cp == 0xFFFF then
      return "\u{FFFD}"
    end
    return utf8.char(cp)
  end)
end

-- Bidirectional controls: shown, never obeyed, in text tables (U+202E would reverse a row).
local BIDI = { [0x200E] = true, [0x200F] = true, [0x061C] = true }
for cp = 0x202A, 0x202E do BIDI[cp] = true end
for cp = 0x2066, 0x2069 do BIDI[cp] = true end

-- A name as one visible line of a text table: control characters as \n, \t, \xNN, bytes
-- that are not UTF-8 as \xNN, bidirectional controls as <U+202E>.
function M.visible(s)
  local esc = { [10] = "\\n", [9] = "\\t", [13] = "\\r" }
  return utf8_map(s, function(b) return string.format("\\x%02X", b) end, function(cp)
    if cp < 32 or cp == 127 or (cp >= 0x80 and cp < 0xA0) then
      return esc[cp] or string.format("\\x%02X", cp)
    end
    if BIDI[cp] then return string.format("<U+%04X>", cp) end
    return utf8.char(cp)
  end)
end

-- A Markdown table cell: visible (as text tables), then the characters Markdown or HTML would
-- read as markup escaped: \ | * _ ` [ ] as \c, < > & as entities.
function M.md_cell(s)
  return (M.visible(s):gsub("[\\|*_`%[%]<>&]", { ["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;",
    ["\\"] = "\\\\", ["|"] = "\\|", ["*"] = "\\*", ["_"] = "\\_", ["`"] = "\\`",
    ["["] = "\\[", ["]"] = "\\]" }))
end

return M

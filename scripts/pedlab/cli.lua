-- pedlab.cli — the command line: `pedlab COMMAND args...` runs the main of the command's module
-- (pedlab.commands.NAME, listed in pedlab.commands), its errors naming the command.
local M = {}

-- An error of the Lua API reached from a command names the command, not the API function
-- ("pl.ped_run: k = 2: ..." → "score: k = 2: ..."); PEDLAB_TRACEBACK=1 keeps it as raised.
local function for_command(cmd, msg)
  if type(msg) ~= "string" then return msg end
  local pos, rest = msg:match("^([^%s:]+:%d+: )(.*)$") -- a position, dropped when printed
  if not pos then pos, rest = "", msg end
  return pos .. (rest:gsub("^pl%.[%w_.:]+: ", cmd .. ": "))
end

-- The main function of a command named on the command line, or nil.
local function command_main(cmd)
  for _, c in ipairs(require "pedlab.commands") do
    if c.name == cmd then return require("pedlab.commands." .. cmd).main end
  end
  return nil
end

-- args = {COMMAND, arguments...}: runs the command; returns its exit status.
function M.main(args)
  local cmd = table.remove(args, 1)
  local fn = command_main(cmd)
  if not fn then error("unknown command '" .. tostring(cmd) .. "'", 0) end
  if os.getenv("PEDLAB_TRACEBACK") then return fn(args) end
  local res = table.pack(pcall(fn, args))
  if not res[1] then error(for_command(cmd, res[2]), 0) end
  return table.unpack(res, 2, res.n)
end

return M

-- pedlab.commands.demo — `pedlab demo`: runs experiments/demo.lua (the bundled demo zoo ranked
-- with and without PED) with the arguments given.
local cmdutil = require "pedlab.cmdutil"

local M = {}

function M.main(argv)
  if argv[1] == "--help" then
    io.write("usage: pedlab demo [--zoo DIR] [--gt FILE] [--plot DIR] [--md F] [--json F] "
      .. "[--html F]\n"
      .. "Ranks the bundled demo zoo (12 self-supervised CNNs, 3 image tasks) with\n"
      .. "LogME, SFDA and GBC, each with and without PED, and prints the weighted tau table.\n")
    return 0
  end
  local script = cmdutil.home("experiments/demo.lua")
  local chunk, err = loadfile(script)
  if not chunk then error("demo: " .. err, 0) end
  return chunk(table.unpack(argv)) or 0
end

return M

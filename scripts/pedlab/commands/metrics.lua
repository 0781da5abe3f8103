-- pedlab.commands.metrics — `pedlab metrics`: every metric of the registry with what it needs,
-- its options and its cost (--json: the registry's list as JSON).
local pl = require "pedlab"
local util = require "pedlab.util"

local M = {}

function M.main(argv)
  local o = util.parse_args(argv, { ["--json"] = "flag", ["--help"] = "flag" }, "metrics")
  if o.help then
    io.write("usage: pedlab metrics [--json]\n"
      .. "Lists every metric: name, inputs, options, summary.\n")
    return 0
  end
  local list = pl.metrics.list()
  if o.json then io.write(pl.json_encode(list, true), "\n") return 0 end
  for _, m in ipairs(list) do
    io.write(string.format("%-12s %s\n", m.name, m.summary))
    if m.zoo_level then
      io.write(string.format("             zoo-level (pedlab rank): %s\n", m.combine))
    else
      io.write(string.format("             needs: %s%s%s\n", table.concat(m.needs, ", "),
        #m.options > 0 and ("; options: " .. table.concat(m.options, ", ")) or "",
        m.higher_better and "" or "; lower is better"))
      for _, k in ipairs(m.options) do
        io.write(string.format("             %s: %s\n", k, m.option_docs[k] or ""))
      end
      if m.cost then io.write(string.format("             cost: %s\n", m.cost)) end
    end
  end
  return 0
end

return M

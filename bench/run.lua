-- bench/run.lua — `pedlab bench/run.lua [PART]` (what the top-level `make bench` runs): runs
-- bench/run.sh, which builds bench/plbench against a Release libpedlab.a and prints one TARGET
-- line per target. PART as in run.sh: (none) | all | peers | logme | ped | steps | growth | memory
-- | huge.
-- The timing lives in C (plbench.c, CLOCK_MONOTONIC): Lua's os.clock is CPU time summed over
-- threads, not wall time.
local here = (arg and arg[0] or "bench/run.lua"):match("^(.*)/[^/]*$") or "."
local part = arg and arg[1] or ""
if part ~= "" and not part:match("^[%a]+$") then
  io.stderr:write("bench/run.lua: unknown part '", part, "'\n")
  os.exit(2)
end
local ok, how, code = os.execute("bash '" .. here:gsub("'", "'\\''") .. "/run.sh' " .. part)
if not ok then os.exit(how == "exit" and code or 1) end

-- pedlab.sweep.mpi — a sweep's cells shared over the ranks of mpirun -n K: rank 0 hands out
-- cells and collects their result records; the other ranks compute what they are given and end
-- when told. Messages are strings: a cell's index, "i\nLINE" back (the record as a JSON line),
-- an error's message. Rank 0
-- computes cells too, and serves messages only between its own cells: before each it tops
-- every worker up with enough queued work to outlast it (cells of one task cost about the same;
-- the last measured cpu_s of a task's cell is its estimate), so no worker waits for rank 0,
-- and at the end no worker holds more than that.
local core = require "pedlab.core"

local M = {}

local CELL, STOP, RESULT, FAIL, BYE = 1, 2, 3, 4, 5
local DEPTH = 2        -- cells a worker holds at least (one computing, one waiting)
local MAX_DEPTH = 64   -- and at most

-- A worker rank: compute the cells rank 0 sends until told to stop, then end the process.
-- After an error it reports the message once and ignores further cells. worker: what
-- pedlab.sweep.cell.worker returns.
function M.serve(worker)
  local mpi = core.mpi
  local failed = false
  while true do
    local _, tag, msg = mpi.recv(0)
    if tag == STOP then break end
    if tag == CELL and not failed then
      local i = math.tointeger(tonumber(msg))
      local ok, line = pcall(function() return core.json_encode(worker.compute(i), false) end)
      if ok then
        mpi.send(0, RESULT, msg .. "\n" .. line)
      else
        failed = true
        mpi.send(0, FAIL, tostring(line))
      end
    end
  end
  pcall(worker.close)
  mpi.send(0, BYE, "")
  mpi.finish(0)
end

-- Rank 0's bookkeeping of the cells todo over n ranks: queues by task, what each worker holds
-- and its estimated queued seconds. Affinity: a rank is given cells of the task whose datasets
-- it holds open; a rank that needs a new task gets the one with most cells left that no other
-- rank holds.
local function scheduler(cells, todo, n)
  local S = { queue = {}, order = {}, holds = {}, outstanding = {}, queued = {}, count = {},
              est = {} }   -- est: task → the last measured seconds of one of its cells
  for _, i in ipairs(todo) do
    local t = cells[i].task
    if not S.queue[t] then
      S.queue[t] = { head = 1 }
      S.order[#S.order + 1] = t
    end
    table.insert(S.queue[t], i)
  end
  -- outstanding[r]: cell index → its estimated seconds; queued, count: their sum and number
  for r = 1, n - 1 do S.outstanding[r], S.queued[r], S.count[r] = {}, 0, 0 end
  function S.cost(i) return S.est[cells[i].task] or 1 end
  local function left(t) return #S.queue[t] - S.queue[t].head + 1 end
  function S.next_for(r)
    local t = S.holds[r]
    if not t or left(t) == 0 then
      local held = {}
      for q, h in pairs(S.holds) do if q ~= r then held[h] = true end end
      t = nil
      for _, c in ipairs(S.order) do
        if left(c) > 0 then
          local hc, ht = held[c] == true, t ~= nil and held[t] == true
          if not t or (ht and not hc) or (ht == hc and left(c) > left(t)) then t = c end
        end
      end
      if not t then return nil end
      S.holds[r] = t
    end
    local q = S.queue[t]
    q.head = q.head + 1
    return q[q.head - 1]
  end
  -- r holds at least DEPTH cells and, while rank 0 computes a cell of `seconds`, work for longer
  function S.top_up(r, seconds)
    while S.count[r] < MAX_DEPTH and (S.count[r] < DEPTH or S.queued[r] < 1.5 * seconds) do
      local i = S.next_for(r)
      if not i then return end
      core.mpi.send(r, CELL, tostring(i))
      local c = S.cost(i)
      S.outstanding[r][i], S.queued[r], S.count[r] = c, S.queued[r] + c, S.count[r] + 1
    end
  end
  function S.measured(i, rec)
    if type(rec.cpu_s) == "number" then S.est[cells[i].task] = rec.cpu_s end
  end
  return S
end

-- Rank 0: share out the cells todo (indices, in order) over every rank, itself included;
-- finish(i, rec, line) records each (line: the JSON text of a record another rank sent).
-- Every worker ends before this returns or raises (a worker's error: "rank R: message").
function M.master(cells, todo, worker, finish)
  local mpi = core.mpi
  local n = mpi.size()
  local S = scheduler(cells, todo, n)
  local failure
  local function handle(src, tag, msg)
    if tag == RESULT then
      local i, line = msg:match("^(%d+)\n(.*)$")
      i = math.tointeger(tonumber(i))
      local c = S.outstanding[src][i]
      if c then
        S.outstanding[src][i], S.queued[src], S.count[src] = nil, S.queued[src] - c,
                                                             S.count[src] - 1
      end
      local rec = core.json_decode(line)
      S.measured(i, rec)
      finish(i, rec, line)
      if not failure then S.top_up(src, 0) end
    elseif tag == FAIL then
      S.outstanding[src], S.queued[src], S.count[src] = {}, 0, 0
      failure = failure or string.format("rank %d: %s", src, msg)
    end
  end
  local ok, err = pcall(function()
    for r = 1, n - 1 do S.top_up(r, 0) end
    while not failure do
      while mpi.probe() do handle(mpi.recv()) end
      if failure then break end
      local i = S.next_for(0)
      if i then
        for r = 1, n - 1 do S.top_up(r, S.cost(i)) end
        local good, rec = pcall(worker.compute, i)
        if not good then
          failure = rec
          break
        end
        S.measured(i, rec)
        finish(i, rec)
      else
        local busy = false
        for r = 1, n - 1 do busy = busy or S.count[r] > 0 end
        if not busy then break end
        handle(mpi.recv())
      end
    end
  end)
  if not ok then failure = failure or err end
  -- end every worker; cells they finish meanwhile are kept
  for r = 1, n - 1 do mpi.send(r, STOP, "") end
  local left_ranks = n - 1
  while left_ranks > 0 do
    local src, tag, msg = mpi.recv()
    if tag == BYE then
      left_ranks = left_ranks - 1
    else
      local good, e = pcall(handle, src, tag, msg)
      if not good then failure = failure or e end
    end
  end
  mpi.detach()
  if failure then error(failure, 0) end
end

return M

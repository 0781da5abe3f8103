-- pedlab.inputs — what a sweep cell was computed from, by content: the task's model list, the
-- digest of each feature, label and reference file, of the task's ground truth and of zoo.json.
--
-- A file's digest (XXH64 of its bytes, pl.file_digest) is taken at most once per run. A digest
-- recorded by an earlier run stands for a file whose stamp (device, inode, size, modification
-- and change times: pl.file_stamp) is the one recorded with it and was settled then (both
-- times more than two seconds old): any write since changes the change time, which no user can
-- set back, so a changed file is always read again, and an unchanged one never is.
--
--   local tr = inputs.tracker(known)        -- known: stamp → digest (from recorded cells)
--   local r = inputs.task(tr, z, task, with_ref)
--     → {models = {...}, files = {NAME = digest}, stamps = {NAME = stamp}, gt = digest,
--        zoo_json = digest}
--   inputs.digest(r)                         -- the part of a cell's key (stamps left out)
--   inputs.difference(old, new, z)           -- "model file X changed", or nil when equal
local core = require "pedlab.core"
local util = require "pedlab.util"

local M = {}

local fnv = util.digest

-- A digest cache over stamps: known (recorded) stamps first, then what this run read.
function M.tracker(known)
  return { known = known or {}, by_path = {} }
end

-- The digest of a file and its stamp when settled (nil otherwise: not recorded).
function M.file(tr, path)
  local memo = tr.by_path[path]
  if memo then return memo.digest, memo.stamp end
  local stamp, settled = core.file_stamp(path)
  if not stamp then error("sweep: " .. tostring(settled), 0) end
  local d = settled and tr.known[stamp]
  if not d then d = assert(core.file_digest(path)) end
  if not settled then stamp = nil end
  tr.by_path[path] = { digest = d, stamp = stamp }
  return d, stamp
end

local function basename(path) return (path:match("([^/]*)$")) end

-- The inputs of one task's cells (with_ref: PED cells that rescale by the reference sets).
function M.task(tr, z, task, with_ref)
  local models = z:task_models(task)
  local r = { models = models, files = {}, stamps = {} }
  local function add(path)
    local d, stamp = M.file(tr, path)
    local name = basename(path)
    r.files[name], r.stamps[name] = d, stamp
  end
  for _, model in ipairs(models) do
    add(z:feature_path(model, task))
    add(z:label_path(model, task))
    if with_ref and z:has_ref(model) then add(z:ref_path(model)) end
  end
  if z.gt then r.gt = fnv(util.identity(z.gt[task])) end
  local manifest = z.dir .. "/zoo.json"
  if z:has_file(manifest) then r.zoo_json = (M.file(tr, manifest)) end
  if not next(r.stamps) then r.stamps = nil end
  return r
end

-- The content part of a cell's key: models, files, ground truth, zoo.json (never the stamps).
function M.digest(r)
  if type(r) ~= "table" then return nil end
  local parts = {}
  local models = type(r.models) == "table" and r.models or {}
  for i, m in ipairs(models) do parts[#parts + 1] = "model=" .. tostring(m) .. "#" .. i end
  local files = type(r.files) == "table" and r.files or {}
  for _, name in ipairs(util.sorted_keys(files)) do
    parts[#parts + 1] = "file=" .. tostring(name) .. "=" .. tostring(files[name])
  end
  parts[#parts + 1] = "gt=" .. tostring(r.gt)
  parts[#parts + 1] = "zoo.json=" .. tostring(r.zoo_json)
  return fnv(table.concat(parts, "\n"))
end

-- The first difference between recorded inputs and today's, in words (nil when none).
-- gt_name: the ground truth file's name for the message.
function M.difference(old, new, gt_name)
  if type(old) ~= "table" then return "recorded without its inputs (results of an older pedlab)" end
  local om, nm = type(old.models) == "table" and old.models or {}, new.models
  local oset, nset = {}, {}
  for _, m in ipairs(om) do oset[m] = true end
  for _, m in ipairs(nm) do nset[m] = true end
  for _, m in ipairs(nm) do if not oset[m] then return "model " .. m .. " added" end end
  for _, m in ipairs(om) do if not nset[m] then return "model " .. tostring(m) .. " removed" end end
  if table.concat(om, "\0") ~= table.concat(nm, "\0") then return "model order changed" end
  local of = type(old.files) == "table" and old.files or {}
  for _, name in ipairs(util.sorted_keys(new.files)) do
    if of[name] == nil then return "model file " .. name .. " added" end
    if of[name] ~= new.files[name] then return "model file " .. name .. " changed" end
  end
  for _, name in ipairs(util.sorted_keys(of)) do
    if new.files[name] == nil then return "model file " .. tostring(name) .. " no longer used" end
  end
  if old.gt ~= new.gt then return (gt_name or "ground truth") .. " changed" end
  if old.zoo_json ~= new.zoo_json then return "zoo.json changed" end
  return nil
end

-- The stamp → digest pairs recorded in a cell record (for a tracker's known).
function M.learn(known, rec)
  local r = type(rec) == "table" and rec.inputs
  if type(r) ~= "table" or type(r.stamps) ~= "table" or type(r.files) ~= "table" then return end
  for name, stamp in pairs(r.stamps) do
    local d = r.files[name]
    if type(stamp) == "string" and type(d) == "string" then known[stamp] = d end
  end
end

return M

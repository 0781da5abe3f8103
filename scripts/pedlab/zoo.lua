-- pedlab.zoo — model zoos in the PED/SFDA repositories' layout, ground truth, and scoring a
-- task's models with any metrics (plain or after PED), then measuring the ranking.
--
--   <dir>/<model>_<task>_feature.npy, <dir>/<model>_<task>_label.npy
--   <dir>/<model>_<ref>_feature.npy          reference set for PED's rescaling (ref "imagenet")
--   <dir>/zoo.json (optional): {"models": [...], "tasks": [...], "ref": "NAME", "gt": "gt.json"}
--   ground truth: {task: {model: accuracy}} (gt.json in the folder unless --gt names one)
local core = require "pedlab.core"
local ped = require "pedlab.ped"

local M = {}
local Zoo = {}
Zoo.__index = Zoo

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- File names in a folder (through ls: Lua has no directory listing); the name is single-quoted
-- for the shell, so no character in it is interpreted.
local function listdir(dir)
  local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  return names
end

M.exists, M.listdir = exists, listdir

local function sorted(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return t
end

-- Open a zoo folder. opts: ref_name, gt (path), models/tasks (arrays to restrict).
function M.open(dir, opts)
  opts = opts or {}
  local f = io.open(dir, "r")
  if not f then error("zoo: cannot open folder " .. dir, 0) end
  f:close()
  local z = setmetatable({ dir = dir, models = {}, tasks = {}, ref_name = opts.ref_name or "imagenet" }, Zoo)
  local manifest
  if exists(dir .. "/zoo.json") then
    manifest = core.load(dir .. "/zoo.json")
    if type(manifest) ~= "table" then error(dir .. "/zoo.json: expected a JSON object", 0) end
    for _, k in ipairs({ "models", "tasks" }) do
      local v = manifest[k]
      if v ~= nil then
        local ok = type(v) == "table"
        if ok then
          for i, name in pairs(v) do
            if math.type(i) ~= "integer" or type(name) ~= "string" or name == "" or name:find("[_/]") then ok = false end
          end
        end
        if not ok then
          error(dir .. "/zoo.json: field '" .. k .. "' must be an array of names (non-empty strings without '_' or '/')", 0)
        end
      end
    end
    for _, k in ipairs({ "ref", "gt" }) do
      local v = manifest[k]
      if v ~= nil and (type(v) ~= "string" or v == "") then
        error(dir .. "/zoo.json: field '" .. k .. "' must be a non-empty string", 0)
      end
    end
    if manifest.ref and not opts.ref_name then z.ref_name = manifest.ref end
  end
  local models, tasks = {}, {}
  for _, name in ipairs(listdir(dir)) do
    local model, task = name:match("^(.-)_(.-)_label%.npy$")
    if model and not model:find("_") then
      models[model] = true
      tasks[task] = tasks[task] or {}
      tasks[task][model] = true
    end
  end
  z.models = (manifest and manifest.models) or opts.models or sorted(models)
  z.tasks = (manifest and manifest.tasks) or sorted(tasks)
  if opts.tasks then z.tasks = opts.tasks end
  if opts.models then z.models = opts.models end
  local gt_path = opts.gt or (manifest and manifest.gt and (dir .. "/" .. manifest.gt))
  if not gt_path and exists(dir .. "/gt.json") then gt_path = dir .. "/gt.json" end
  if gt_path then
    local gt, err = core.load(gt_path)
    if gt == nil and err then error("zoo: ground truth: " .. err, 0) end
    local function bad_gt(why) error(gt_path .. ": expected {task: {model: accuracy}}; " .. why, 0) end
    if type(gt) ~= "table" then bad_gt("got " .. (gt == nil and "null" or type(gt))) end
    for task, accs in pairs(gt) do
      if type(accs) ~= "table" then bad_gt("task '" .. tostring(task) .. "' is a " .. type(accs)) end
      for model, a in pairs(accs) do
        if type(a) ~= "number" or a ~= a then
          bad_gt("task '" .. tostring(task) .. "', model '" .. tostring(model) .. "' is not a number")
        end
      end
    end
    z.gt, z.gt_path = gt, gt_path
  end
  if #z.models == 0 or #z.tasks == 0 then
    error("zoo: " .. dir .. " holds no <model>_<task>_feature.npy / _label.npy pairs", 0)
  end
  return z
end

function Zoo:feature_path(model, task) return self.dir .. "/" .. model .. "_" .. task .. "_feature.npy" end
function Zoo:label_path(model, task) return self.dir .. "/" .. model .. "_" .. task .. "_label.npy" end
function Zoo:ref_path(model) return self.dir .. "/" .. model .. "_" .. self.ref_name .. "_feature.npy" end

-- Check that everything a run needs is there; one error listing every problem.
function Zoo:check(tasks, need_ref, need_gt)
  local problems = {}
  for _, task in ipairs(tasks) do
    local have = 0
    for _, model in ipairs(self.models) do
      local fp, lp = self:feature_path(model, task), self:label_path(model, task)
      if exists(fp) or exists(lp) then
        have = have + 1
        if not exists(fp) then problems[#problems + 1] = "missing " .. fp end
        if not exists(lp) then problems[#problems + 1] = "missing " .. lp end
        if need_gt then
          if not self.gt then
            problems[#problems + 1] = "no ground truth (give --gt FILE or put gt.json in the zoo)"
            need_gt = false
          elseif type(self.gt[task]) ~= "table" then
            problems[#problems + 1] = string.format("%s: no task '%s'", self.gt_path, task)
          elseif type(self.gt[task][model]) ~= "number" then
            problems[#problems + 1] = string.format("%s: task '%s' has no accuracy for model '%s'", self.gt_path, task, model)
          end
        end
      end
    end
    if have == 0 then problems[#problems + 1] = string.format("task '%s' has no models in %s", task, self.dir) end
    if have == 1 then problems[#problems + 1] = string.format("task '%s' has only one model; ranking needs two", task) end
  end
  if need_ref then
    for _, model in ipairs(self.models) do
      if not exists(self:ref_path(model)) then
        problems[#problems + 1] = "missing reference set " .. self:ref_path(model) .. " (PED; --ref-name picks another)"
      end
    end
  end
  -- dedupe, keep order
  local seen, out = {}, {}
  for _, p in ipairs(problems) do if not seen[p] then seen[p] = true out[#out + 1] = p end end
  if #out > 0 then
    error(string.format("zoo %s: %d problem%s: %s", self.dir, #out, #out > 1 and "s" or "", table.concat(out, "; ")), 0)
  end
end

-- Models that have this task.
function Zoo:task_models(task)
  local out = {}
  for _, model in ipairs(self.models) do
    if exists(self:label_path(model, task)) then out[#out + 1] = model end
  end
  return out
end

function Zoo:dataset(model, task)
  local ds, err = core.dataset(self:feature_path(model, task), self:label_path(model, task))
  if not ds then error(err, 0) end
  return ds
end

-- Score every model of a task. metrics: array of {spec, name, opts, ped, key}. ped_settings:
-- PED settings (ref is filled per model from the zoo when absent and reference sets exist).
-- Returns scores[key][model], peds[model] = run (if PED was used).
function Zoo:score_task(task, metrics, ped_settings, on_model)
  local scores, runs = {}, {}
  for _, m in ipairs(metrics) do scores[m.key or m.spec] = {} end
  for _, model in ipairs(self:task_models(task)) do
    local ds = self:dataset(model, task)
    local moved
    for _, m in ipairs(metrics) do
      local target = ds
      if m.ped then
        if not moved then
          local s = {}
          for k, v in pairs(ped_settings or {}) do s[k] = v end
          if s.ref == nil and exists(self:ref_path(model)) then s.ref = self:ref_path(model) end
          local run
          moved, run = ped.run(ds, s)
          runs[model] = run
        end
        target = moved
      end
      scores[m.key or m.spec][model] = core.metrics.score(m.name, target, m.opts)
    end
    if on_model then on_model(model) end
    ds:close()
    if moved then moved:close() end
  end
  return scores, runs
end

-- Ranking measures of scores[model] against acc[model] (models present in both).
function M.evaluate(scores, acc)
  local x, y, names = {}, {}, {}
  for _, model in ipairs(sorted(scores)) do
    if acc and acc[model] then
      x[#x + 1], y[#y + 1], names[#names + 1] = scores[model], acc[model], model
    end
  end
  if #x < 2 then return nil end
  local r = core.rank
  return {
    weighted_tau = r.weighted_tau(x, y), kendall_tau = r.kendall_tau(x, y),
    pearson = r.pearson(x, y), spearman = r.spearman(x, y),
    rel_at_1 = r.rel_at_k(x, y, 1), regret_at_1 = r.regret_at_k(x, y, 1),
    recall_at_1 = r.recall_at_k(x, y, 1), n = #x,
  }
end

return M

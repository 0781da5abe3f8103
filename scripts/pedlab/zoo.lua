-- pedlab.zoo — model zoos in the PED/SFDA repositories' layout and their ground truth.
--
--   <dir>/<model>_<task>_feature.npy, <dir>/<model>_<task>_label.npy
--   <dir>/<model>_<ref>_feature.npy          reference set for PED's rescaling (ref "imagenet")
--   <dir>/zoo.json (optional): {"models": [...], "tasks": [...], "ref": "NAME", "gt": "gt.json"}
--   ground truth: {task: {model: accuracy}} (gt.json in the folder unless opts.gt names one)
-- The folder is listed from C (every name, dot files included) once, when it is opened: which
-- of its files exist is known from that listing (a name it lacks is not stat'ed; each listed
-- file's type is checked once per zoo). A .npy file whose name does not parse, and a
-- ground-truth model without files, are errors, never silently dropped.
local core = require "pedlab.core"

local M = {}
local Zoo = {}
Zoo.__index = Zoo

local function exists(path) return core.exists(path) == "file" end
M.exists = exists

local function sorted(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return t
end

-- A file name as it can be printed on one line.
local function shown(name)
  if name:find("[%c\"\\]") then return (string.format("%q", name):gsub("\\\n", "\\n")) end
  return name
end

-- A path from zoo.json: relative, inside the folder (no "..", not absolute).
local function inside(dir, field, v)
  if v:sub(1, 1) == "/" or v:find("%.%.") or v:find("%z") then
    error(string.format("%s/zoo.json: field '%s' = %s: expected a path inside the zoo folder "
      .. "(relative, without '..')", dir, field, shown(v)), 0)
  end
  return dir .. "/" .. v
end

local function check_manifest(dir, manifest)
  if type(manifest) ~= "table" then error(dir .. "/zoo.json: expected a JSON object", 0) end
  core.check_options(manifest, dir .. "/zoo.json", { "models", "tasks", "ref", "gt" })
  for _, k in ipairs({ "models", "tasks" }) do
    local v = manifest[k]
    if v ~= nil then
      local ok = type(v) == "table"
      if ok then
        for i, name in pairs(v) do
          if math.type(i) ~= "integer" or type(name) ~= "string" or name == ""
             or name:find("[_/%z]") then
            ok = false
          end
        end
      end
      if not ok then
        error(dir .. "/zoo.json: field '" .. k .. "' must be an array of names (non-empty strings "
          .. "without '_' or '/')", 0)
      end
    end
  end
  for _, k in ipairs({ "ref", "gt" }) do
    local v = manifest[k]
    if v ~= nil and (type(v) ~= "string" or v == "") then
      error(dir .. "/zoo.json: field '" .. k .. "' must be a non-empty string", 0)
    end
  end
  if manifest.ref and manifest.ref:find("[/%z]") then
    error(dir .. "/zoo.json: field 'ref' is a reference set's name in "
      .. "<model>_<ref>_feature.npy, without '/'", 0)
  end
end

local function load_gt(gt_path)
  local gt, err = core.load(gt_path)
  if gt == nil and err then error("zoo: ground truth: " .. err, 0) end
  local function bad_gt(why)
    error(gt_path .. ": expected {task: {model: accuracy}}; " .. why, 0)
  end
  if type(gt) ~= "table" then bad_gt("got " .. (gt == nil and "null" or type(gt))) end
  for task, accs in pairs(gt) do
    if type(accs) ~= "table" then bad_gt("task '" .. tostring(task) .. "' is a " .. type(accs)) end
    for model, a in pairs(accs) do
      if type(a) ~= "number" or a ~= a or a == math.huge or a == -math.huge then
        bad_gt(string.format("task '%s', model '%s' is %s, not a finite number", tostring(task),
          tostring(model), type(a) == "number" and tostring(a) or type(a)))
      end
    end
  end
  return gt
end

-- Every name in a folder (an error when it cannot be listed).
local function listing(dir)
  local names, err = core.listdir(dir)
  if not names then error("zoo: " .. tostring(err), 0) end
  return names
end

-- is_file(path) for a folder listed as names: whether path is a regular file, asked of the
-- system at most once per path; a name of this folder missing from the listing is not one.
local function file_test(dir, names)
  local listed, memo, prefix = {}, {}, dir .. "/"
  for _, n in ipairs(names) do listed[n] = true end
  return function(path)
    local v = memo[path]
    if v == nil then
      local name = path:sub(1, #prefix) == prefix and path:sub(#prefix + 1) or nil
      if name and not name:find("/", 1, true) and not listed[name] then
        v = false
      else
        v = exists(path)
      end
      memo[path] = v
    end
    return v
  end
end

-- The files of a folder's listing: label files and feature files by (model, set); .npy names
-- that do not parse are returned as problems.
local function scan(names)
  local labels, features, bad = {}, {}, {}
  for _, name in ipairs(names) do
    if name:match("%.npy$") then
      local model, set, kind = name:match("^([^_]+)_(.+)_(%a+)%.npy$")
      if model and kind == "label" then
        labels[#labels + 1] = { model = model, task = set }
      elseif model and kind == "feature" then
        features[model .. "\0" .. set] = true
      else
        bad[#bad + 1] = shown(name)
      end
    end
  end
  return labels, features, bad
end

-- Open a zoo folder. opts: ref_name, gt (path), models/tasks (arrays to restrict).
-- names: the folder's listing when the caller has it (M.from).
local function open(dir, opts, names)
  opts = core.check_options(opts or {}, "pl.zoo.open", { "ref_name", "gt", "models", "tasks" })
  if type(dir) ~= "string" then
    error("pl.zoo.open: expected a folder path, got a " .. type(dir), 0)
  end
  if not names and core.exists(dir) ~= "directory" then
    error("zoo: " .. dir .. " is not a folder", 0)
  end
  names = names or listing(dir)
  local z = setmetatable({ dir = dir, models = {}, tasks = {},
                           ref_name = opts.ref_name or "imagenet" }, Zoo)
  z.is_file = file_test(dir, names)
  local manifest
  if z.is_file(dir .. "/zoo.json") then
    manifest = core.load(dir .. "/zoo.json")
    check_manifest(dir, manifest)
    if manifest.ref and not opts.ref_name then z.ref_name = manifest.ref end
  end
  local labels, features, bad = scan(names)
  if #bad > 0 then
    error(string.format("zoo %s: %d .npy file%s not named <model>_<task>_feature.npy / _label.npy "
      .. "(model names hold no '_'): %s", dir, #bad, #bad > 1 and "s are" or " is",
      table.concat(bad, ", ")), 0)
  end
  local models, tasks = {}, {}
  for _, l in ipairs(labels) do
    models[l.model] = true
    tasks[l.task] = true
  end
  z.features = features
  z.models = (manifest and manifest.models) or sorted(models)
  z.tasks = (manifest and manifest.tasks) or sorted(tasks)
  if opts.tasks then z.tasks = opts.tasks end
  if opts.models then z.models = opts.models end
  local gt_path = opts.gt or (manifest and manifest.gt and inside(dir, "gt", manifest.gt))
  if not gt_path and z.is_file(dir .. "/gt.json") then gt_path = dir .. "/gt.json" end
  if gt_path then z.gt, z.gt_path = load_gt(gt_path), gt_path end
  -- JSON outputs must be UTF-8: a name that is not is written with U+FFFD there; say so once
  local odd = {}
  for _, list in ipairs({ z.models, z.tasks }) do
    for _, name in ipairs(list) do
      if type(name) == "string" and not utf8.len(name) then
        odd[#odd + 1] = require("pedlab.util").visible(name)
      end
    end
  end
  if #odd > 0 and core.mpi.rank() == 0 then
    io.stderr:write(string.format("pedlab: note: zoo %s: %s not UTF-8 (%s); JSON outputs write "
      .. "%s with U+FFFD in place of each stray byte\n", shown(dir),
      #odd > 1 and "names are" or "a name is", table.concat(odd, ", "),
      #odd > 1 and "them" or "it"))
  end
  if #z.models == 0 or #z.tasks == 0 then
    error("zoo: " .. dir .. " holds no <model>_<task>_feature.npy / _label.npy pairs", 0)
  end
  return z
end

function M.open(dir, opts) return open(dir, opts) end

-- The reference set's name of a listing (see M.guess_ref_name).
local function guess_ref(names)
  local labels, features = scan(names)
  local models, tasks, nmodels = {}, {}, 0
  for _, l in ipairs(labels) do
    if not models[l.model] then models[l.model], nmodels = true, nmodels + 1 end
    tasks[l.model .. "\0" .. l.task] = true
  end
  local count = {}
  for key in pairs(features) do
    local model, set = key:match("^(.-)%z(.*)$")
    if models[model] and not tasks[key] then count[set] = (count[set] or 0) + 1 end
  end
  if count.imagenet == nmodels then return "imagenet" end
  local found
  for set, c in pairs(count) do
    if c == nmodels then
      if found then return nil end
      found = set
    end
  end
  return found
end

-- The reference set's name of a zoo folder: "imagenet" when present, else the one name X
-- for which every model has <model>_X_feature.npy and no labels (nil if none or ambiguous).
function M.guess_ref_name(dir)
  if core.exists(dir) ~= "directory" then return nil end
  return guess_ref(listing(dir))
end

-- A zoo from a folder (the reference set's name guessed when not given) or an opened zoo.
-- The folder is listed once, for the guess and the zoo.
function M.from(zoo, gt, ref_name)
  if type(zoo) == "table" and getmetatable(zoo) == Zoo then return zoo end
  if type(zoo) ~= "string" then error("zoo must be a folder or a zoo from pl.zoo.open", 0) end
  if core.exists(zoo) ~= "directory" then return open(zoo, { gt = gt, ref_name = ref_name }) end
  local names = listing(zoo)
  if not ref_name and not file_test(zoo, names)(zoo .. "/zoo.json") then
    ref_name = guess_ref(names)
  end
  return open(zoo, { gt = gt, ref_name = ref_name }, names)
end

function Zoo:feature_path(model, task)
  return self.dir .. "/" .. model .. "_" .. task .. "_feature.npy"
end
function Zoo:label_path(model, task)
  return self.dir .. "/" .. model .. "_" .. task .. "_label.npy"
end
function Zoo:ref_path(model)
  return self.dir .. "/" .. model .. "_" .. self.ref_name .. "_feature.npy"
end
function Zoo:has_ref(model) return self.is_file(self:ref_path(model)) end
-- Whether a file of the folder (or any path) is a regular file, by the zoo's listing.
function Zoo:has_file(path) return self.is_file(path) end

-- The tasks a run asks for: nil or "all" (every task), "a,b" or a list; each known, once.
function Zoo:select_tasks(tasks, what)
  what = what or "tasks"
  if tasks == nil or tasks == "all" then return self.tasks end
  local list = tasks
  if type(tasks) == "string" then list = require("pedlab.util").name_list(tasks, what) end
  if type(list) ~= "table" or #list == 0 then
    error(what .. ": expected \"all\", a name or a list of names", 0)
  end
  local seen = {}
  for _, t in ipairs(list) do
    if type(t) ~= "string" then error(what .. ": task names must be strings", 0) end
    if seen[t] then error(string.format("%s: task '%s' is given twice", what, t), 0) end
    seen[t] = true
  end
  return list
end

-- Check that everything a run needs is there; one error listing every problem.
function Zoo:check(tasks, need_ref, need_gt)
  local problems = {}
  local function add(p) problems[#problems + 1] = p end
  if need_gt and not self.gt then
    add("no ground truth (give --gt FILE or put gt.json in the zoo)")
  end
  for _, task in ipairs(tasks) do
    local have = 0
    for _, model in ipairs(self.models) do
      local fp, lp = self:feature_path(model, task), self:label_path(model, task)
      if self.is_file(fp) or self.is_file(lp) then
        have = have + 1
        if not self.is_file(fp) then add("missing " .. fp) end
        if not self.is_file(lp) then add("missing " .. lp) end
        if need_gt and self.gt then
          if type(self.gt[task]) ~= "table" then
            add(string.format("%s: no task '%s'%s", self.gt_path, task, task:find("_") and
              (" (files are <model>_<task>_feature.npy, split at the first '_': a model "
               .. "name with '_' reads as part of the task; rename e.g. convnext_t to "
               .. "convnext-t)") or ""))
          elseif type(self.gt[task][model]) ~= "number" then
            add(string.format("%s: task '%s' has no accuracy for model '%s'", self.gt_path, task,
              model))
          end
        end
      end
    end
    if need_gt and self.gt and type(self.gt[task]) == "table" then
      for _, model in ipairs(sorted(self.gt[task])) do
        if not self.is_file(self:label_path(model, task)) then
          add(string.format("%s lists model '%s' for task '%s', but %s has no %s", self.gt_path,
            shown(model), task, self.dir, shown(model .. "_" .. task .. "_label.npy")))
        end
      end
    end
    if have == 0 then add(string.format("task '%s' has no models in %s", task, self.dir)) end
    if have == 1 then
      add(string.format("task '%s' has only one model; ranking needs two", task))
    end
  end
  if need_ref then
    for _, model in ipairs(self.models) do
      if not self:has_ref(model) then
        add("missing reference set " .. self:ref_path(model) .. " (PED; --ref-name picks another)")
      end
    end
  end
  local seen, out = {}, {}
  for _, p in ipairs(problems) do if not seen[p] then seen[p] = true out[#out + 1] = p end end
  if #out > 0 then
    error(string.format("zoo %s: %d problem%s: %s", self.dir, #out, #out > 1 and "s" or "",
      table.concat(out, "; ")), 0)
  end
end

-- Models that have this task.
function Zoo:task_models(task)
  local out = {}
  for _, model in ipairs(self.models) do
    if self.is_file(self:label_path(model, task)) then out[#out + 1] = model end
  end
  return out
end

function Zoo:dataset(model, task)
  local ds, err = core.dataset(self:feature_path(model, task), self:label_path(model, task))
  if not ds then error(err, 0) end
  return ds
end

-- The files a run on these tasks reads (outputs must not replace them).
function Zoo:inputs(tasks)
  local out = {}
  if self.gt_path then out[#out + 1] = self.gt_path end
  if self.is_file(self.dir .. "/zoo.json") then out[#out + 1] = self.dir .. "/zoo.json" end
  for _, task in ipairs(tasks) do
    for _, model in ipairs(self:task_models(task)) do
      out[#out + 1] = self:feature_path(model, task)
      out[#out + 1] = self:label_path(model, task)
      if self:has_ref(model) then out[#out + 1] = self:ref_path(model) end
    end
  end
  return out
end

-- Ranking measures of scores[model] against acc[model] (models present in both).
M.MEASURES = { "weighted_tau", "kendall_tau", "pearson", "spearman", "rel_at_1", "regret_at_1",
               "regret_at_3", "recall_at_1" }
M.MEASURE_NAMES = { weighted_tau = "weighted Kendall's tau", kendall_tau = "Kendall's tau-b",
                    pearson = "Pearson r", spearman = "Spearman rho", rel_at_1 = "rel@1",
                    regret_at_1 = "regret@1", regret_at_3 = "regret@3", recall_at_1 = "recall@1" }

-- A measure's name, checked (what: where it was given, for the message).
function M.check_measure(measure, what)
  if M.MEASURE_NAMES[measure] then return measure end
  error(string.format("%s: unknown measure '%s'; known: %s", what or "measure", tostring(measure),
    table.concat(M.MEASURES, ", ")), 0)
end

function M.evaluate(scores, acc)
  local x, y = {}, {}
  for _, model in ipairs(sorted(scores)) do
    if acc and acc[model] then x[#x + 1], y[#y + 1] = scores[model], acc[model] end
  end
  if #x < 2 then return nil end
  local r = core.rank
  return {
    weighted_tau = r.weighted_tau(x, y), kendall_tau = r.kendall_tau(x, y),
    pearson = r.pearson(x, y), spearman = r.spearman(x, y),
    rel_at_1 = r.rel_at_k(x, y, 1), regret_at_1 = r.regret_at_k(x, y, 1),
    -- accuracy lost by fine-tuning the best of the top three instead of the truly best model
    regret_at_3 = r.regret_at_k(x, y, math.min(3, #x)),
    recall_at_1 = r.recall_at_k(x, y, 1), n = #x,
  }
end

return M

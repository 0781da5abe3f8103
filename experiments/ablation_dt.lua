-- experiments/ablation_dt.lua — weighted tau of LogME and SFDA after PED against the time
-- step dt (the other settings at the official defaults), with the no-PED baseline.
--   pedlab experiments/ablation_dt.lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume]
--     [--plot DIR]
return require("pedlab.experiment").axis_experiment({ ... }, {
  name = "ablation_dt", setting = "dt", values = { 0.01, 0.05, 0.1, 0.2, 0.5, 1 },
  metrics = { "logme", "sfda" }, xscale = "log",
})

-- experiments/ablation_radius.lua — weighted tau of LogME and SFDA after PED against the radius
-- coefficient (the other settings at the official defaults), with the no-PED baseline.
--   pedlab experiments/ablation_radius.lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume]
--     [--plot DIR]
return require("pedlab.experiment").axis_experiment({ ... }, {
  name = "ablation_radius", setting = "radius", values = { 0.2, 0.4, 0.6, 0.8, 1.0, 1.5 },
  metrics = { "logme", "sfda" },
})

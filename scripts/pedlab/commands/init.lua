-- pedlab.commands — the commands of `pedlab COMMAND ...`, in the order usage lists them: each
-- is the module pedlab.commands.NAME, whose main(argv) runs it (pedlab.cli dispatches).
return {
  { name = "demo", summary = "rank the bundled demo zoo with and without PED (a first look)" },
  { name = "score", summary = "score one model's features for one task with one or more metrics" },
  { name = "rank", summary = "rank a zoo's models per task, with the top picks and (with ground "
    .. "truth) how well each metric ranked" },
  { name = "sweep", summary = "run the grid of settings a SPEC.lua describes (resumable, "
    .. "shardable)" },
  { name = "metrics", summary = "list every metric: what it needs, its options and its cost" },
}

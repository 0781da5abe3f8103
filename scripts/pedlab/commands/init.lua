-- pedlab.commands — pedlab's commands, written once, in the order `pedlab --help` shows them:
-- the host reads it to know a command (`pedlab NAME args`), to suggest the nearest to a
-- mistyped one and to print each with its summary; pedlab.cli runs NAME as the module
-- pedlab.commands.NAME (its main(argv)).
return {
  { name = "demo", summary = "rank the demo zoo with LogME, SFDA and GBC, with and without PED" },
  { name = "score", summary = "score one model's features for a task with one or more metrics" },
  { name = "rank", summary = "rank a zoo's models per task: the ones to fine-tune, and measures" },
  { name = "sweep", summary = "run a sweep spec file (resumable, shardable): tau per cell" },
  { name = "metrics", summary = "list every metric: name, inputs, options, summary" },
}

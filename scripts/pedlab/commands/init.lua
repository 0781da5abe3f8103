-- pedlab.commands — pedlab's commands, written once, in the order `pedlab --help` shows them:
-- the host reads it to know a command (`pedlab NAME args`), to suggest the nearest to a
-- mistyped one and to print each with its summary; the command line dispatches NAME from it.
return {
  { name = "demo", summary = "rank the demo zoo with LogME, SFDA and GBC, with and without PED" },
  { name = "score", summary = "score one model's features for a task with one or more metrics" },
  { name = "rank", summary = "rank a zoo's models on a task, measured against ground truth" },
  { name = "sweep", summary = "run a sweep spec file and print weighted tau per cell" },
  { name = "metrics", summary = "list every metric: name, inputs, options, summary" },
}

-- pedlab.cli_sweep — the `pedlab sweep SPEC.lua ...` command (found by cli.main as
-- pedlab.cli_<command>); the work is pedlab.sweep.cli_main.
return { main = function(argv) return require("pedlab.sweep").cli_main(argv) end }

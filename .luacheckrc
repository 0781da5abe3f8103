-- .luacheckrc — luacheck's settings for the project's Lua: scripts/, experiments/, tests/lua/
-- and bench/*.lua (`make lint` runs it through tools/lint.sh; docs/contributing.md lists the
-- rules). Every ignore below is narrow and says why.
std = "lua54"
max_line_length = 100
-- The host (bindings/lhost.c) adds no global beyond the standard ones and `arg`; it notes
-- where its scripts live in package.pedlab_scripts (cli.home finds pedlab's own files by it).
read_globals = { package = { fields = { "pedlab_scripts" } } }
-- W581 "'not (x <= y)' can be replaced by 'x > y'": the negated comparison is how a range
-- check makes NaN fail (every comparison with NaN is false), so it is never to be rewritten.
ignore = { "581" }

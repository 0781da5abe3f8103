-- LuaRocks: `luarocks --lua-version 5.4 make` in a checkout builds the C module with CMake and
-- installs pedlab/core.so and pedlab/*.lua into the tree (`--tree DIR` or the user's tree);
-- `luarocks --lua-version 5.4 test` scores a small dataset with it. See docs/install.md.
rockspec_format = "3.0"
package = "pedlab"
version = "scm-1"
source = {
  -- a checkout is built in place by `luarocks make`; `luarocks build` would clone this
  url = "git+https://example.invalid/pedlab.git",
}
description = {
  summary = "Transferability estimation (LogME, LEEP, SFDA, GBC, …) and PED for Lua 5.4",
  detailed = [[
    pedlab ranks pre-trained models for a downstream task without fine-tuning them: the
    transferability metrics of the literature and PED (Potential Energy Decline, ICCV 2023),
    with a C11 core (BLAS/LAPACK) and a Lua 5.4 API.
  ]],
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
-- the C libraries are found by CMake, which names the Debian package of any that is missing:
-- cmake make gcc liblua5.4-dev libopenblas-dev liblapacke-dev libcjson-dev libcsv-dev
-- libreadline-dev (tools/bootstrap.sh)
build = {
  type = "command",
  -- only the module's component of the CMake build: pedlab/core.so into $(LIBDIR), the Lua
  -- files into $(LUADIR)
  build_command = [[cmake -S . -B build.luarocks -DCMAKE_BUILD_TYPE=Release ]]
    .. [[-DLUA_INCLUDE="$(LUA_INCDIR)" -DPEDLAB_LUA_DIR="$(LUADIR)" -DPEDLAB_LUA_CDIR="$(LIBDIR)" ]]
    .. [[&& cmake --build build.luarocks --target pedlab_module]],
  install_command = [[cmake --install build.luarocks --component lua]],
}
test = {
  type = "command",
  script = "tests/lua/stock_lua.lua",
}

/* fuzz_json.c — JSON as pedlab reads it: cJSON's parser and the bindings' JSON → Lua
 * conversion (bindings/lio.c json_decode_text/push_json), run for real inside a Lua state
 * with the pedlab module, then the Lua → JSON encoder (add_json, exact numbers, sorted keys).
 * Properties: decoding never crashes and raises only Lua errors with a message naming the
 * input; a decoded value re-encodes, and encode(decode(encode(v))) == encode(v) (for input
 * that is not valid UTF-8, whose invalid bytes are written as U+FFFD, after one round). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fuzz_common.h"

int luaopen_pedlab_core(lua_State *L);

static lua_State *L;

static const char *PROPERTY =
    "local pl, text = ...\n"
    "local ok, v = pcall(pl.json_decode, text, 'fuzz.json')\n"
    "if not ok then\n"
    "  if type(v) ~= 'string' or not v:find('fuzz.json', 1, true) then\n"
    "    return 'decode error without the name: ' .. tostring(v)\n"
    "  end\n"
    "  return nil\n"
    "end\n"
    "local ok1, s1 = pcall(pl.json_encode, v)\n"
    "if not ok1 then return 'a decoded value does not re-encode: ' .. tostring(s1) end\n"
    "local ok2, w = pcall(pl.json_decode, s1, 'fuzz.json')\n"
    "if not ok2 then return 'pedlab cannot read its own JSON: ' .. tostring(w) .. ' in ' .. s1 end\n"
    "local s2 = pl.json_encode(w)\n"
    "if s1 ~= s2 then\n"
    "  -- invalid UTF-8 is written as U+FFFD: two keys differing only in invalid bytes become one\n"
    "  -- on the way back; then the second encoding must be a fixed point\n"
    "  if utf8.len(text) ~= nil then return 'round trip differs: ' .. s1 .. ' vs ' .. s2 end\n"
    "  if pl.json_encode(pl.json_decode(s2, 'fuzz.json')) ~= s2 then\n"
    "    return 'round trip of U+FFFD text differs: ' .. s2\n"
    "  end\n"
    "end\n"
    "local ok3, s3 = pcall(pl.json_encode, v, true)\n"
    "if not ok3 then return 'pretty encode failed: ' .. tostring(s3) end\n"
    "return nil\n";

static void setup(void) {
    L = luaL_newstate();
    if (!L) abort();
    luaL_openlibs(L);
    luaL_requiref(L, "pedlab.core", luaopen_pedlab_core, 0);
    lua_setglobal(L, "PL");
    if (luaL_loadstring(L, PROPERTY) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        abort();
    }
    lua_setglobal(L, "PROPERTY");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned long runs;
    if (!L) setup();
    lua_getglobal(L, "PROPERTY");
    lua_getglobal(L, "PL");
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        fprintf(stderr, "property raised: %s\n", lua_tostring(L, -1));
        abort();
    }
    if (!lua_isnil(L, -1)) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        if (!fuzz_lax() || strncmp(lua_tostring(L, -1), "decode error", 12) != 0) abort();
    }
    lua_settop(L, 0);
    if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

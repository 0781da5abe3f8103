/* fuzz_zoo.c — zoo manifests at the JSON level: the fuzzed input is zoo.json (up to the first
 * NUL byte) and gt.json (after it) of a small zoo folder; scripts/pedlab/zoo.lua opens the
 * folder (pl.load of both files, the manifest's checks) and runs Zoo:check (ground truth,
 * reference sets) exactly as `pedlab rank` does before scoring.
 *
 * Fuzzing through the pedlab executable would cost a process per input; this runs the real
 * zoo.lua in one Lua state instead, with io.popen (zoo.lua lists the folder with `ls`)
 * replaced by a fixed listing of the folder. Scoring is not fuzzed here (fuzz_npy/fuzz_csv
 * cover the readers and metrics): the feature files are empty placeholders.
 *
 * Property: opening and checking either succeeds or raises a Lua error whose message names the
 * zoo folder (all of zoo.lua's own messages do); a raw Lua error ("attempt to index ...")
 * means a manifest value was used without a type check. FUZZ_LAX=1 accepts those. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#ifndef PL_SOURCE_DIR
#error "compile with -DPL_SOURCE_DIR=\"/path/to/pedlab\""
#endif

int luaopen_pedlab_core(lua_State *L);

static lua_State *L;
static char dir[256];

static const char *const files[] = {
    "alpha_t1_feature.npy", "alpha_t1_label.npy", "beta_t1_feature.npy", "beta_t1_label.npy",
    "gamma_t1_feature.npy", "gamma_t1_label.npy", "alpha_t2_feature.npy", "alpha_t2_label.npy",
    "beta_t2_feature.npy", "beta_t2_label.npy", "alpha_imagenet_feature.npy",
    "beta_imagenet_feature.npy", NULL};

static const char *DRIVER =
    "local dir = ...\n"
    "local zoo = require 'pedlab.zoo'\n"
    "local ok, err = pcall(function()\n"
    "  local z = zoo.open(dir)\n"
    "  z:check(z.tasks, true, z.gt ~= nil)\n"
    "  for _, t in ipairs(z.tasks) do z:task_models(t) end\n"
    "end)\n"
    "if ok then return nil end\n"
    "return tostring(err)\n";

static void put(const char *name, const uint8_t *data, size_t size) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
}

static void cleanup(void) {
    char p[512];
    for (int i = 0; files[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        remove(p);
    }
    snprintf(p, sizeof p, "%s/zoo.json", dir);
    remove(p);
    snprintf(p, sizeof p, "%s/gt.json", dir);
    remove(p);
    rmdir(dir);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/fuzzzoo.XXXXXX");
    if (!mkdtemp(dir)) abort();
    atexit(cleanup);
    for (int i = 0; files[i]; i++) put(files[i], NULL, 0);
    L = luaL_newstate();
    if (!L) abort();
    luaL_openlibs(L);
    luaL_requiref(L, "pedlab.core", luaopen_pedlab_core, 0);
    lua_pop(L, 1);
    /* package.path: the source tree's scripts; io.popen: a fixed listing of the folder */
    luaL_dostring(L, "package.path = '" PL_SOURCE_DIR "/scripts/?.lua;" PL_SOURCE_DIR
                     "/scripts/?/init.lua;' .. package.path");
    lua_createtable(L, 0, 0);
    for (int i = 0; files[i]; i++) {
        lua_pushstring(L, files[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "LISTING");
    if (luaL_dostring(L, "io.popen = function() local i = 0\n"
                         "  return { lines = function() return function() i = i + 1 return LISTING[i] end end,\n"
                         "           close = function() return true end } end") != LUA_OK)
        abort();
    if (luaL_loadstring(L, DRIVER) != LUA_OK) abort();
    lua_setglobal(L, "DRIVER");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned long runs;
    if (!L) setup();
    const uint8_t *nul = memchr(data, 0, size);
    size_t zlen = nul ? (size_t)(nul - data) : size;
    char p[512];
    put("zoo.json", data, zlen);
    snprintf(p, sizeof p, "%s/gt.json", dir);
    if (nul) put("gt.json", nul + 1, size - zlen - 1);
    else remove(p);
    lua_getglobal(L, "DRIVER");
    lua_pushstring(L, dir);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "driver raised: %s\n", lua_tostring(L, -1));
        abort();
    }
    if (!lua_isnil(L, -1)) {
        const char *msg = lua_tostring(L, -1);
        /* every message of zoo.lua names the folder or a file in it (a "gt" field of zoo.json
         * is a path relative to the folder); zoo.lua's own chunk name ("zoo.lua:87:") does not
         * count */
        if (!fuzz_lax() && !strstr(msg, dir)) {
            fprintf(stderr, "zoo error without the zoo folder: %s\n", msg);
            abort();
        }
    }
    lua_settop(L, 0);
    if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

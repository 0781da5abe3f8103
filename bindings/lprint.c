/* lprint.c — the REPL's printer of results, readably: arrays, records with sorted keys, nested
 * to SHOW_DEPTH, long strings and tables cut, a value with its own __tostring by its first
 * line. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lprint.h"


#define SHOW_DEPTH 3     /* a table nested deeper prints as {…} */
#define SHOW_ITEMS 30    /* entries shown per table, then "… (N more)" */
#define SHOW_WIDTH 100   /* a record wider than this prints one entry per line */
#define SHOW_STRING 120  /* a string inside a table longer than this is cut */

/* indent < 0: on one line; else the column the value starts at, for one entry per line */
static void show(lua_State *L, int idx, int depth, int indent);

static int is_name(const char *s, size_t n) {
    static const char *const reserved[] = {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
        NULL};
    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '_') return 0;
    }
    for (int i = 0; reserved[i]; i++)
        if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0) return 0;
    return 1;
}

/* The string at idx quoted, escaped, cut after SHOW_STRING bytes (at a character boundary). */
static void push_quoted(lua_State *L, int idx) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    size_t keep = n;
    if (n > SHOW_STRING) {
        keep = SHOW_STRING - 20;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '"');
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"': luaL_addstring(&b, "\\\""); break;
        case '\\': luaL_addstring(&b, "\\\\"); break;
        case '\n': luaL_addstring(&b, "\\n"); break;
        case '\t': luaL_addstring(&b, "\\t"); break;
        case '\r': luaL_addstring(&b, "\\r"); break;
        default:
            if (c < 32 || c == 127) {
                snprintf(esc, sizeof esc, "\\%u", (unsigned)c);
                luaL_addstring(&b, esc);
            } else {
                luaL_addchar(&b, (char)c);
            }
        }
    }
    luaL_addchar(&b, '"');
    if (keep < n) {
        lua_pushfstring(L, "… (%I bytes)", (lua_Integer)n);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
}

/* __tostring or __name: the value describes itself (matrices, datasets, ball systems). */
static int has_own_text(lua_State *L, int idx) {
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        return 1;
    }
    if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

/* Key order: numbers, then strings, then booleans, each ascending; other keys last. */
static int key_rank(lua_State *L, int i) {
    switch (lua_type(L, i)) {
    case LUA_TNUMBER: return 0;
    case LUA_TSTRING: return 1;
    case LUA_TBOOLEAN: return 2;
    default: return 3;
    }
}

static int key_less(lua_State *L) {
    int ra = key_rank(L, 1), rb = key_rank(L, 2);
    if (ra != rb) lua_pushboolean(L, ra < rb);
    else if (ra <= 1) lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
    else if (ra == 2) lua_pushboolean(L, !lua_toboolean(L, 1) && lua_toboolean(L, 2));
    else lua_pushboolean(L, 0);
    return 1;
}

static void add_newline(luaL_Buffer *b, int indent) {
    luaL_addchar(b, '\n');
    for (int i = 0; i < indent; i++) luaL_addchar(b, ' ');
}

/* The length n of the table at t's array part, and its other keys, sorted, in a new table
 * pushed on the stack (their count in *nk); *nested when a value is a table. */
static lua_Integer collect_keys(lua_State *L, int t, lua_Integer *nk, int *nested) {
    lua_Integer n = 0;
    while (lua_rawgeti(L, t, n + 1) != LUA_TNIL) {
        lua_pop(L, 1);
        n++;
    }
    lua_pop(L, 1);
    lua_newtable(L);
    int keys = lua_gettop(L);
    *nk = 0;
    *nested = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -1) == LUA_TTABLE) *nested = 1;
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= n)
            continue;
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++*nk);
    }
    if (*nk > 1) {
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_getfield(L, -1, LUA_TABLIBNAME);
        lua_getfield(L, -1, "sort");
        lua_pushvalue(L, keys);
        lua_pushcfunction(L, key_less);
        lua_call(L, 2, 0);
        lua_pop(L, 2);
    }
    return n;
}

/* Add `KEY = ` for the j-th of the sorted keys: a name as it is, another key in brackets. */
static void add_key(lua_State *L, luaL_Buffer *b, int keys, lua_Integer j, int depth) {
    lua_rawgeti(L, keys, j);
    size_t kl;
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &kl) : NULL;
    if (k && is_name(k, kl)) {
        luaL_addvalue(b);
    } else {
        lua_pop(L, 1);
        luaL_addchar(b, '[');
        lua_rawgeti(L, keys, j);
        show(L, -1, depth + 1, -1);
        lua_remove(L, -2);
        luaL_addvalue(b);
        luaL_addchar(b, ']');
    }
    luaL_addstring(b, " = ");
}

/* Push the text of the table at t with n array entries and nk other keys (in the table at
 * keys): on one line (lines 0), or one entry per line indented two more than indent. */
static void render_table(lua_State *L, int t, int keys, lua_Integer n, lua_Integer nk,
                         int depth, int indent, int lines) {
    int inner = lines ? indent + 2 : -1;
    const char *sep = lines ? "," : ", ";
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '{');
    lua_Integer shown = 0;
    for (lua_Integer i = 1; i <= n + nk && shown < SHOW_ITEMS; i++, shown++) {
        if (shown) luaL_addstring(&b, sep);
        if (lines) add_newline(&b, inner);
        if (i <= n) {
            lua_rawgeti(L, t, i);
        } else {
            add_key(L, &b, keys, i - n, depth);
            lua_rawgeti(L, keys, i - n);
            lua_rawget(L, t);
        }
        show(L, -1, depth + 1, inner);
        lua_remove(L, -2);
        luaL_addvalue(&b);
    }
    if (n + nk > shown) {
        if (shown) luaL_addstring(&b, sep);
        if (lines) add_newline(&b, inner);
        lua_pushfstring(L, "… (%I more)", (lua_Integer)(n + nk - shown));
        luaL_addvalue(&b);
    }
    if (lines) add_newline(&b, indent);
    luaL_addchar(&b, '}');
    luaL_pushresult(&b);
}

/* Push the text of the table at t, `{1, 2, k = v}`: on one line when it fits in SHOW_WIDTH
 * from column `indent` (or indent < 0), else one entry per line, each indented two more. */
static void show_table(lua_State *L, int t, int depth, int indent) {
    if (depth > SHOW_DEPTH) {
        lua_pushliteral(L, "{…}");
        return;
    }
    luaL_checkstack(L, 10, "table nested too deep to print");
    lua_Integer nk;
    int nested;
    lua_Integer n = collect_keys(L, t, &nk, &nested);
    int keys = lua_gettop(L);
    /* one line first; a flat array stays on one line whatever its width */
    render_table(L, t, keys, n, nk, depth, indent, 0);
    if (indent >= 0 && (nk > 0 || nested) && lua_rawlen(L, -1) + (size_t)indent > SHOW_WIDTH) {
        lua_pop(L, 1);
        render_table(L, t, keys, n, nk, depth, indent, 1);
    }
    lua_remove(L, keys);
}

/* Push the text of the value at idx inside a table: strings quoted, a value with its own
 * __tostring by the first line of it. */
static void show(lua_State *L, int idx, int depth, int indent) {
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        push_quoted(L, idx);
    } else if (lua_type(L, idx) == LUA_TTABLE && !has_own_text(L, idx)) {
        show_table(L, idx, depth, indent);
    } else {
        size_t n;
        const char *s = luaL_tolstring(L, idx, &n);
        const char *nl = memchr(s, '\n', n);
        if (nl) {
            lua_pushlstring(L, s, (size_t)(nl - s));
            lua_remove(L, -2);
        }
    }
}

int lpl_show_results(lua_State *L) {
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        if (lua_type(L, i) == LUA_TTABLE && !has_own_text(L, i)) show_table(L, i, 1, 0);
        else luaL_tolstring(L, i, NULL);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (i > 1) fputc('\t', stdout);
        fwrite(s, 1, len, stdout);
        lua_pop(L, 1);
    }
    fputc('\n', stdout);
    fflush(stdout);
    return 0;
}

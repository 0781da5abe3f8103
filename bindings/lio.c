/* lio.c — pl.load / pl.save (.npy, .csv, .json by extension), JSON ⇄ Lua, and the file
 * functions the Lua layer uses instead of a shell: read_file, write_file, check_output,
 * note_input, mkdir, listdir, exists, journal.
 *
 * Missing files return nil, message (Lua's io convention); malformed files raise. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csvfile.h"
#include "io.h"
#include "linit.h"
#include "lpedlab.h"
#include "tensorfile.h"

static const char *ext(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    return (dot && (!slash || dot > slash)) ? dot + 1 : "";
}

/* ---------- JSON ---------- */
static void push_json(lua_State *L, const cJSON *j, int depth) {
    luaL_checkstack(L, 4, "JSON nesting too deep");
    if (depth > 200) luaL_error(L, "JSON nesting deeper than 200");
    if (cJSON_IsObject(j)) {
        lua_newtable(L);
        for (const cJSON *c = j->child; c; c = c->next) {
            push_json(L, c, depth + 1);
            lua_setfield(L, -2, c->string ? c->string : "");
        }
    } else if (cJSON_IsArray(j)) {
        lua_newtable(L);
        lua_Integer i = 1;
        for (const cJSON *c = j->child; c; c = c->next) {
            push_json(L, c, depth + 1);
            lua_seti(L, -2, i++);
        }
    } else if (cJSON_IsString(j)) {
        const char *s = j->valuestring;
        if (!strcmp(s, "nan")) lua_pushnumber(L, (lua_Number)NAN);
        else if (!strcmp(s, "inf")) lua_pushnumber(L, HUGE_VAL);
        else if (!strcmp(s, "-inf")) lua_pushnumber(L, -HUGE_VAL);
        else lua_pushstring(L, s);
    } else if (cJSON_IsNumber(j)) {
        lua_pushnumber(L, j->valuedouble);
    } else if (cJSON_IsBool(j)) {
        lua_pushboolean(L, cJSON_IsTrue(j));
    } else {
        lua_pushnil(L);
    }
}

static int push_json_protected(lua_State *L) {
    push_json(L, lua_touserdata(L, 1), 0);
    return 1;
}

/* Parse text and push the Lua value; the cJSON tree is freed even when pushing raises. */
static int json_decode_text(lua_State *L, const char *text, size_t len, const char *name) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        const char *at = end ? end : cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n') { line++; col = 1; } else col++;
        }
        return luaL_error(L, "%s: malformed JSON at line %d, column %d (byte %d)", name, line, col,
                          (int)off);
    }
    /* nothing but white space may follow the value */
    const char *rest = end ? end : text + len;
    while (rest < text + len && (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r'))
        rest++;
    if (rest < text + len) {
        size_t off = (size_t)(rest - text);
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n') { line++; col = 1; } else col++;
        }
        cJSON_Delete(root);
        return luaL_error(L, "%s: unexpected text after the JSON value at line %d, column %d", name,
                          line, col);
    }
    lua_pushcfunction(L, push_json_protected);
    lua_pushlightuserdata(L, root);
    int st = lua_pcall(L, 1, 1, 0);
    cJSON_Delete(root);
    if (st != LUA_OK) return lua_error(L);
    return 1;
}

static int is_array(lua_State *L, int idx, size_t *n) {
    size_t count = 0;
    lua_Integer max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
            lua_pop(L, 1);
            return 0;
        }
        if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
        count++;
    }
    *n = count;
    return (size_t)max == count;
}

static void sort_object(cJSON *o) {
    /* insertion sort of the child list by key */
    cJSON *sorted = NULL;
    for (cJSON *c = o->child; c;) {
        cJSON *next = c->next;
        cJSON **pp = &sorted;
        while (*pp && strcmp((*pp)->string, c->string) <= 0) pp = &(*pp)->next;
        c->next = *pp;
        *pp = c;
        c = next;
    }
    cJSON *prev = NULL;
    for (cJSON *c = sorted; c; c = c->next) {
        c->prev = prev;
        prev = c;
    }
    if (sorted) sorted->prev = prev; /* cJSON keeps the tail in child->prev */
    o->child = sorted;
}

/* cJSON's own printer accepts a round trip within DBL_EPSILON, losing the last bit; print the
 * shortest decimal that reads back to exactly the same double instead. */
static cJSON *exact_number(double v) {
    char buf[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return cJSON_CreateRaw(buf);
}

/* Attach item (NULL when cJSON could not allocate it) to parent; on any failure the item is
 * deleted and "json: out of memory" raised: the tree never holds a half-encoded value. */
static cJSON *attach(lua_State *L, cJSON *parent, const char *key, cJSON *item) {
    int ok = item && (key ? cJSON_AddItemToObject(parent, key, item)
                          : cJSON_AddItemToArray(parent, item));
    if (!ok) {
        cJSON_Delete(item);
        luaL_error(L, "json: out of memory");
    }
    return item;
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not one (stray or
 * truncated continuation bytes, overlong forms, surrogates, above U+10FFFF, NUL). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!len || c > 0xf4 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && s[1] < 0xa0) return 0;   /* overlong */
    if (c == 0xed && s[1] > 0x9f) return 0;   /* surrogates */
    if (c == 0xf0 && s[1] < 0x90) return 0;   /* overlong */
    if (c == 0xf4 && s[1] > 0x8f) return 0;   /* above U+10FFFF */
    return len;
}

/* The string at idx as valid UTF-8 for JSON: each byte that does not start a valid sequence
 * (and each NUL) becomes U+FFFD, so the document is valid whatever a file name holds. Returns
 * the string itself when it is valid, else a cleaned copy pushed on the stack. */
static const char *json_text(lua_State *L, int idx, int *pushed) {
    size_t n;
    const unsigned char *p = (const unsigned char *)lua_tolstring(L, idx, &n);
    size_t i = 0, k;
    while (i < n && (k = utf8_seq(p + i, n - i))) i += k;
    *pushed = 0;
    if (i == n) return (const char *)p;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (i = 0; i < n;) {
        k = utf8_seq(p + i, n - i);
        if (k) luaL_addlstring(&b, (const char *)p + i, k);
        else luaL_addstring(&b, "\xef\xbf\xbd");
        i += k ? k : 1;
    }
    luaL_pushresult(&b);
    *pushed = 1;
    return lua_tostring(L, -1);
}

/* Encode the Lua value at idx as a new child of parent. Every node is attached to the tree as
 * soon as it is created, so a raise part-way leaks nothing (the guard frees the tree). */
static void add_json(lua_State *L, int idx, int depth, cJSON *parent, const char *key) {
    idx = lua_absindex(L, idx);
    if (depth > 200) luaL_error(L, "json: nesting deeper than 200 (a cycle?)");
    switch (lua_type(L, idx)) {
    case LUA_TNIL: attach(L, parent, key, cJSON_CreateNull()); return;
    case LUA_TBOOLEAN: attach(L, parent, key, cJSON_CreateBool(lua_toboolean(L, idx))); return;
    case LUA_TNUMBER: {
        double v = lua_tonumber(L, idx);
        if (isnan(v)) attach(L, parent, key, cJSON_CreateString("nan"));
        else if (isinf(v)) attach(L, parent, key, cJSON_CreateString(v > 0 ? "inf" : "-inf"));
        else attach(L, parent, key, exact_number(v));
        return;
    }
    case LUA_TSTRING: {
        int pushed;
        const char *t = json_text(L, idx, &pushed);
        attach(L, parent, key, cJSON_CreateString(t));
        if (pushed) lua_pop(L, 1);
        return;
    }
    case LUA_TTABLE: {
        size_t n;
        luaL_checkstack(L, 6, "json: too deep");
        if (is_array(L, idx, &n) && n > 0) {
            cJSON *a = attach(L, parent, key, cJSON_CreateArray());
            for (size_t i = 1; i <= n; i++) {
                lua_geti(L, idx, (lua_Integer)i);
                add_json(L, -1, depth + 1, a, NULL);
                lua_pop(L, 1);
            }
            return;
        }
        cJSON *o = attach(L, parent, key, cJSON_CreateObject());
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER)
                luaL_error(L, "json: table key of type %s", luaL_typename(L, -2));
            lua_pushvalue(L, -2);
            lua_tostring(L, -1); /* converts the copy, not the key */
            int pushed;
            const char *k = json_text(L, -1, &pushed);
            add_json(L, pushed ? -3 : -2, depth + 1, o, k);
            lua_pop(L, pushed ? 3 : 2);
        }
        sort_object(o);
        return;
    }
    case LUA_TUSERDATA: {
        pl_mat *m = lpl_testmatrix(L, idx);
        if (m) {
            cJSON *a = attach(L, parent, key, cJSON_CreateArray());
            for (size_t i = 0; i < m->rows; i++) {
                cJSON *r = attach(L, a, NULL, cJSON_CreateArray());
                for (size_t j = 0; j < m->cols; j++) {
                    double x = PL_AT(m, i, j);
                    const char *nf = isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
                    attach(L, r, NULL, isfinite(x) ? exact_number(x) : cJSON_CreateString(nf));
                }
            }
            return;
        }
    }
    /* fallthrough */
    default: luaL_error(L, "json: cannot encode a %s", luaL_typename(L, idx));
    }
}

static void delete_tree(void *p) { cJSON_Delete(p); }

/* Encode the value at idx; returns a malloc'd string (pretty or compact), guarded on the stack
 * (*slot: free it, then clear the slot). Out of memory anywhere raises "json: out of memory"
 * with the tree freed: never a partial document. */
static char *encode(lua_State *L, int idx, int pretty, void ***slot) {
    idx = lua_absindex(L, idx);
    cJSON *root = cJSON_CreateArray();
    if (!root) luaL_error(L, "json: out of memory");
    void **tree = lpl_guard(L, root, delete_tree);
    add_json(L, idx, 0, root, NULL);
    char *s = pretty ? cJSON_Print(root->child) : cJSON_PrintUnformatted(root->child);
    cJSON_Delete(root);
    *tree = NULL;
    lua_pop(L, 1);
    if (!s) luaL_error(L, "json: out of memory");
    *slot = lpl_guard(L, s, free);
    return s;
}

/* pl.json_encode(value [, pretty]) → string */
static int l_json_encode(lua_State *L) {
    luaL_checkany(L, 1);
    void **slot;
    char *s = encode(L, 1, lua_toboolean(L, 2), &slot);
    lua_pushstring(L, s);
    free(s);
    *slot = NULL;
    return 1;
}

static int l_json_decode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    return json_decode_text(L, s, len, luaL_optstring(L, 2, "json"));
}

/* ---------- load / save ---------- */
typedef struct { char **names; size_t n; } name_list;

static void free_names(void *p) {
    name_list *l = p;
    pl_listdir_free(l->names, l->n);
    free(l);
}

/* names (n of them, each and the array malloc'd) guarded on the stack; freed when no guard can
 * be made (the error raised). */
static void **guard_names(lua_State *L, char **names, size_t n) {
    name_list *l = malloc(sizeof *l);
    if (!l) {
        pl_listdir_free(names, n);
        luaL_error(L, "out of memory");
    }
    l->names = names;
    l->n = n;
    return lpl_guard(L, l, free_names);
}

static int unknown_type(lua_State *L, const char *path, const char *e) {
    if (!*e)
        return luaL_error(L, "%s: no file extension; expected a name ending in .npy, .csv or "
                          ".json (the extension picks the format)", path);
    return luaL_error(L, "%s: unknown file type '.%s'; expected .npy, .csv or .json", path, e);
}

static int l_load(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *e = ext(path);
    pl_err err;
    if (!strcmp(e, "npy") || !strncmp(e, "npz", 3) || !strncmp(e, "safetensors", 11)) {
        pl_mat m;
        if (pl_npy_load_mat(path, &m, &err))
            return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
        void **slot = lpl_guard(L, m.data, free);
        lpl_pushmatrix_take(L, &m);
        *slot = NULL;
        return 1;
    }
    if (!strcmp(e, "csv")) {
        pl_mat m;
        char **hdr;
        if (pl_csv_load(path, &m, &hdr, &err))
            return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
        size_t cols = m.cols;
        void **mslot = lpl_guard(L, m.data, free);
        void **hslot = hdr ? guard_names(L, hdr, cols) : NULL;
        lpl_pushmatrix_take(L, &m);
        *mslot = NULL;
        if (!hdr) return 1;
        lua_createtable(L, (int)cols, 0);
        for (size_t j = 0; j < cols; j++) {
            lua_pushstring(L, hdr[j]);
            lua_seti(L, -2, (lua_Integer)j + 1);
        }
        free_names(*hslot);
        *hslot = NULL;
        return 2;
    }
    if (!strcmp(e, "json")) {
        char *text;
        size_t len;
        if (pl_read_file(path, &text, &len, &err))
            return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
        void **slot = lpl_guard(L, text, free); /* pushing may raise: the guard frees the text */
        lua_pushlstring(L, text, len);          /* Lua owns a copy from here */
        free(text);
        *slot = NULL;
        const char *t = lua_tolstring(L, -1, &len);
        return json_decode_text(L, t, len, path);
    }
    return unknown_type(L, path, e);
}

/* Raise err, prefixed with the option name when the core did not name it. */
static int raise_what(lua_State *L, pl_err *err, const char *what) {
    size_t n = what ? strlen(what) : 0;
    if (n && !(strncmp(err->msg, what, n) == 0 && err->msg[n] == ':'))
        pl_err_prefix(err, "%s", what);
    return lpl_raise(L, err);
}

/* pl.save(path, value [, header] [, what]): .json any value, .npy/.csv a matrix (csv: header
 * names). what names the option in messages ("--save-shift"). */
static int l_save(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *e = ext(path);
    pl_err err;
    luaL_checkany(L, 2);
    int hdr_idx = lua_istable(L, 3) ? 3 : 0;
    const char *what = lua_type(L, 3) == LUA_TSTRING ? lua_tostring(L, 3)
                     : luaL_optstring(L, 4, "pl.save");
    if (strcmp(e, "json") && strcmp(e, "npy") && strcmp(e, "csv")) return unknown_type(L, path, e);
    if (pl_output_check(path, what, &err)) return lpl_raise(L, &err);
    if (!strcmp(e, "json")) {
        void **slot;
        char *s = encode(L, 2, 1, &slot);
        size_t n = strlen(s);
        s[n] = '\n';
        int rc = pl_write_file_what(path, s, n + 1, what, &err);
        free(s);
        *slot = NULL;
        if (rc) return raise_what(L, &err, what);
        return 0;
    }
    pl_mat tmp;
    lpl_tomatrix(L, 2, &tmp);
    void **mslot = lpl_guard(L, tmp.data, free);
    int rc;
    if (!strcmp(e, "npy")) {
        rc = pl_npy_save_mat(path, &tmp, &err);
    } else {
        const char **hdr = NULL;
        void **hslot = NULL;
        if (hdr_idx) {
            hdr = calloc(tmp.cols ? tmp.cols : 1, sizeof *hdr);
            if (!hdr) return luaL_error(L, "out of memory");
            hslot = lpl_guard(L, hdr, free);
            /* a holder keeps every name alive, numbers converted to strings included (the
             * conversion happens on a copy the caller's table does not reference) */
            lua_createtable(L, (int)tmp.cols, 0);
            int holder = lua_gettop(L);
            for (size_t j = 0; j < tmp.cols; j++) {
                lua_geti(L, hdr_idx, (lua_Integer)j + 1);
                if (!lua_tostring(L, -1)) {
                    lua_pop(L, 1);
                    lua_pushliteral(L, "");
                }
                hdr[j] = lua_tostring(L, -1);
                lua_seti(L, holder, (lua_Integer)j + 1);
            }
        }
        rc = pl_csv_save(path, &tmp, hdr, &err);
        free(hdr);
        if (hslot) *hslot = NULL;
    }
    pl_mat_release(&tmp);
    *mslot = NULL;
    if (rc) return raise_what(L, &err, what);
    return 0;
}

/* pl.write_file(path, string [, what]): atomic text output for Lua-side writers. */
static int l_write_file(lua_State *L) {
    size_t len;
    const char *path = luaL_checkstring(L, 1);
    const char *s = luaL_checklstring(L, 2, &len);
    const char *what = luaL_optstring(L, 3, NULL);
    pl_err err;
    if (pl_write_file_what(path, s, len, what, &err)) return lpl_raise(L, &err);
    return 0;
}

/* pl.check_output(path [, what]) → true, or raises saying why path may not be written. */
static int l_check_output(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *what = luaL_optstring(L, 2, NULL);
    pl_err err;
    if (pl_output_check(path, what, &err)) return lpl_raise(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

/* pl.note_input(path) → true; nil, message when it does not exist. */
static int l_note_input(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    pl_err err;
    if (pl_input_note(path, &err))
        return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

/* pl.read_file(path) → string (noted as an input); nil, message when missing. */
static int l_read_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    char *text;
    size_t len;
    pl_err err;
    if (pl_read_file(path, &text, &len, &err))
        return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
    void **slot = lpl_guard(L, text, free); /* pushing may raise: the guard frees the text */
    lua_pushlstring(L, text, len);
    free(text);
    *slot = NULL;
    return 1;
}

/* pl.mkdir(path [, what]) → true: mkdir -p, from C. */
static int l_mkdir(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *what = luaL_optstring(L, 2, NULL);
    pl_err err;
    if (pl_mkdirs(path, &err)) return raise_what(L, &err, what);
    lua_pushboolean(L, 1);
    return 1;
}

static int list_gc(lua_State *L) {
    name_list *l = lua_touserdata(L, 1);
    pl_listdir_free(l->names, l->n);
    l->names = NULL;
    l->n = 0;
    return 0;
}

/* pl.listdir(path) → sorted array of every entry's name (dot files too); nil, message when the
 * folder does not exist. */
static int l_listdir(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    name_list *l = lua_newuserdatauv(L, sizeof *l, 0);
    l->names = NULL;
    l->n = 0;
    if (luaL_newmetatable(L, "pedlab.namelist")) {
        lua_pushcfunction(L, list_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    pl_err err;
    if (pl_listdir(path, &l->names, &l->n, &err))
        return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
    lua_createtable(L, l->n > INT_MAX ? 0 : (int)l->n, 0);
    for (size_t i = 0; i < l->n; i++) {
        lua_pushstring(L, l->names[i]);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    pl_listdir_free(l->names, l->n);
    l->names = NULL;
    l->n = 0;
    return 1;
}

/* pl.exists(path) → "file" | "directory" | "other" | nil (symbolic links followed). */
static int l_exists(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) != 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
    return 1;
}

/* pl.file_digest(path) → 16 hex digits of the file's bytes (XXH64); nil, message when missing. */
static int l_file_digest(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    char hex[17];
    pl_err err;
    if (pl_file_digest(path, hex, &err))
        return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
    lua_pushstring(L, hex);
    return 1;
}

/* pl.file_stamp(path) → "DEV:INO:SIZE:MTIME:CTIME", settled (see pl_file_stamp); nil, message
 * when missing. */
static int l_file_stamp(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    char buf[128];
    int settled;
    pl_err err;
    if (pl_file_stamp(path, buf, sizeof buf, &settled, &err))
        return err.code == PL_ENOENT ? lpl_fail(L, &err) : lpl_raise(L, &err);
    lua_pushstring(L, buf);
    lua_pushboolean(L, settled);
    return 2;
}

/* ---------- journals ---------- */
#define LPL_JOURNAL "pedlab.Journal"

typedef struct { pl_journal *j; } lpl_journal;

static pl_journal *check_journal(lua_State *L) {
    lpl_journal *u = luaL_checkudata(L, 1, LPL_JOURNAL);
    if (!u->j) luaL_error(L, "journal is closed");
    return u->j;
}

/* pl.journal(path [, what]) → Journal: append-only results file, locked against other runs. */
static int l_journal(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *what = luaL_optstring(L, 2, NULL);
    lpl_journal *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->j = NULL;
    luaL_setmetatable(L, LPL_JOURNAL);
    pl_err err;
    if (pl_journal_open(path, &u->j, &err)) return raise_what(L, &err, what);
    return 1;
}

/* j:append(line): one line (no newline inside), on the disk when this returns. */
static int j_append(lua_State *L) {
    pl_journal *j = check_journal(L);
    size_t len;
    const char *line = luaL_checklstring(L, 2, &len);
    pl_err err;
    if (pl_journal_append(j, line, len, &err)) return lpl_raise(L, &err);
    return 0;
}

/* j:read() → the journal's whole content (earlier runs' lines). */
static int j_read(lua_State *L) {
    pl_journal *j = check_journal(L);
    char *text;
    size_t len;
    pl_err err;
    if (pl_journal_read(j, &text, &len, &err)) return lpl_raise(L, &err);
    void **slot = lpl_guard(L, text, free);
    lua_pushlstring(L, text, len);
    free(text);
    *slot = NULL;
    return 1;
}

static int j_close(lua_State *L) {
    lpl_journal *u = luaL_checkudata(L, 1, LPL_JOURNAL);
    pl_journal_close(u->j);
    u->j = NULL;
    return 0;
}

static int j_tostring(lua_State *L) {
    lpl_journal *u = luaL_checkudata(L, 1, LPL_JOURNAL);
    lua_pushstring(L, u->j ? "Journal" : "Journal (closed)");
    return 1;
}

/* pl.inputs() → {{path=, size=, mtime=, state="same"|"changed"|"gone"}, ...}: every input this
 * process has read, in the order first read, as the files are now (size -1 when gone). */
static int l_inputs(lua_State *L) {
    static const char *const states[] = {"same", "changed", "gone"};
    size_t n = pl_input_count();
    lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        pl_input_desc d;
        pl_err err;
        if (pl_input_describe(i, &d, &err)) return lpl_raise(L, &err);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, d.path);
        lua_setfield(L, -2, "path");
        lua_pushinteger(L, (lua_Integer)d.size);
        lua_setfield(L, -2, "size");
        lua_pushinteger(L, (lua_Integer)d.mtime);
        lua_setfield(L, -2, "mtime");
        lua_pushstring(L, states[d.state]);
        lua_setfield(L, -2, "state");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static const luaL_Reg journal_methods[] = {
    {"append", j_append}, {"read", j_read}, {"close", j_close}, {NULL, NULL}};
static const luaL_Reg journal_meta[] = {
    {"__gc", j_close}, {"__close", j_close}, {"__tostring", j_tostring}, {NULL, NULL}};

static const luaL_Reg funcs[] = {
    {"load", l_load}, {"save", l_save}, {"json_encode", l_json_encode},
    {"json_decode", l_json_decode}, {"write_file", l_write_file},
    {"check_output", l_check_output}, {"note_input", l_note_input}, {"read_file", l_read_file},
    {"mkdir", l_mkdir}, {"listdir", l_listdir}, {"exists", l_exists}, {"journal", l_journal},
    {"inputs", l_inputs}, {"file_digest", l_file_digest}, {"file_stamp", l_file_stamp},
    {NULL, NULL}};

/* ---------- numbers under any locale ---------- */

/* os.setlocale, kept from changing how numbers are written: the original does its work, then
 * LC_NUMERIC goes back to "C", so JSON, CSV and every number pedlab (and Lua's tostring and
 * string.format) writes keep the decimal point whatever a script asks for. The other
 * categories (messages, collation, character classes) change as asked. */
static int l_setlocale_numeric_c(lua_State *L) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    setlocale(LC_NUMERIC, "C");
    return lua_gettop(L);
}

static void guard_locale(lua_State *L) {
    setlocale(LC_NUMERIC, "C");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "os") == LUA_TTABLE) {
        lua_getfield(L, -1, "setlocale");
        if (lua_tocfunction(L, -1) && lua_tocfunction(L, -1) != l_setlocale_numeric_c) {
            lua_pushcclosure(L, l_setlocale_numeric_c, 1);
            lua_setfield(L, -2, "setlocale");
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 2);
}

void lpl_open_io(lua_State *L) {
    guard_locale(L);
    luaL_newmetatable(L, LPL_JOURNAL);
    luaL_setfuncs(L, journal_meta, 0);
    luaL_newlib(L, journal_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}

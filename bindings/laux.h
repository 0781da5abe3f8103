/* laux.h — the helpers every binding calls (bindings/laux.c), as lauxlib.h is Lua's: raise a
 * core error, return nil and a message, guard a C resource across calls that may raise, check
 * an options table, find the nearest of a list of names.
 *
 * Binding order (docs/contributing.md, "Conventions"): check every argument, create the result
 * empty, call the core (which cannot raise), free temporaries, raise last with lpl_raise (the
 * message is never a format). */
#ifndef LAUX_H
#define LAUX_H

#include <stddef.h>

#include <lauxlib.h>
#include <lua.h>

#include "pl.h"

/* Raise err's message as a Lua error (never returns). */
int lpl_raise(lua_State *L, const pl_err *err);
/* Return nil, message (Lua io convention for environmental failures). */
int lpl_fail(lua_State *L, const pl_err *err);

/* A guard: a userdata on the stack whose __gc calls fn(p) unless the slot was cleared. It
 * makes a C resource safe across calls that may raise; clear *slot to take the resource back.
 * If the guard itself cannot be made (out of memory), fn(p) runs before the error is raised. */
void **lpl_guard(lua_State *L, void *p, void (*fn)(void *));

/* Check the options table at idx (nil/none is fine) against a NULL-terminated list of known
 * keys: a non-table, a non-string key or an unknown key raises "WHERE: unknown option 'KEY'
 * (did you mean ...?); known: ...". The one check every options table goes through (also
 * from Lua as pl.check_options(t, where, {keys...}), bindings/lbase.c). */
void lpl_check_options(lua_State *L, int idx, const char *where, const char *const *known);

/* Push an array of the strings of a NULL-terminated list. */
void lpl_pushstrings(lua_State *L, const char *const *list);

/* The name of the NULL-terminated list nearest to word within two edits (an edit: insert,
 * delete or change one byte, or swap two adjacent ones; "scroe" is one from "score"), the
 * first of the nearest on a tie; NULL when none is that near. For "did you mean". */
const char *lpl_nearest(const char *word, const char *const *names);

#endif

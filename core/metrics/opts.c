/* opts.c — typed lookups of metric options given as key=value strings. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metric.h"

static const char *find(const pl_opts *o, const char *key) {
    if (!o) return NULL;
    for (size_t i = o->n; i-- > 0;)
        if (strcmp(o->kv[i].key, key) == 0) return o->kv[i].val;
    return NULL;
}

int pl_opt_double(const pl_opts *o, const char *metric, const char *key, double def, double *out,
                  pl_err *err) {
    const char *v = find(o, key);
    *out = def;
    if (!v) return PL_OK;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x))
        return pl_err_set(err, PL_EINVAL, "%s: option %s=%s: expected a finite number", metric, key,
                          v);
    *out = x;
    return PL_OK;
}

int pl_opt_int(const pl_opts *o, const char *metric, const char *key, long def, long *out,
               pl_err *err) {
    const char *v = find(o, key);
    *out = def;
    if (!v) return PL_OK;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno)
        return pl_err_set(err, PL_EINVAL, "%s: option %s=%s: expected an integer", metric, key, v);
    *out = x;
    return PL_OK;
}

int pl_opt_bool(const pl_opts *o, const char *metric, const char *key, int def, int *out,
                pl_err *err) {
    const char *v = find(o, key);
    *out = def;
    if (!v) return PL_OK;
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) *out = 0;
    else return pl_err_set(err, PL_EINVAL, "%s: option %s=%s: expected true or false", metric, key,
                           v);
    return PL_OK;
}

int pl_opt_choice(const pl_opts *o, const char *metric, const char *key,
                  const char *const *choices, int def, int *out, pl_err *err) {
    const char *v = find(o, key);
    *out = def;
    if (!v) return PL_OK;
    for (int i = 0; choices[i]; i++)
        if (!strcmp(v, choices[i])) {
            *out = i;
            return PL_OK;
        }
    char list[256];
    pl_join(list, sizeof list, choices, ", ", "");
    return pl_err_set(err, PL_EINVAL, "%s: option %s=%s: expected one of %s", metric, key, v, list);
}

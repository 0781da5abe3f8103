/* safetensors.c — the header of a .safetensors file (see safetensors.h), parsed with cJSON. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

/* The format caps the header at 100 MB: a larger length is corrupt. */
#define ST_MAX_HEADER ((uint64_t)100 << 20)

static const struct {
    const char *name;
    pl_dtype t;
    size_t size;
} st_dtypes[] = {
    {"F64", PL_DT_F64, 8}, {"F32", PL_DT_F32, 4}, {"F16", PL_DT_F16, 2},
    {"BF16", PL_DT_BF16, 2}, {"I64", PL_DT_I64, 8}, {"I32", PL_DT_I32, 4},
    {"I16", PL_DT_I16, 2}, {"I8", PL_DT_I8, 1}, {"U64", PL_DT_U64, 8},
    {"U32", PL_DT_U32, 4}, {"U16", PL_DT_U16, 2}, {"U8", PL_DT_U8, 1},
    {"BOOL", PL_DT_BOOL, 1},
};

int pl_safetensors_magic(const unsigned char *b, size_t len) {
    if (len < 9 || b[8] != '{') return 0;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
    return n >= 2 && n <= ST_MAX_HEADER;
}

void pl_safetensors_close(pl_safetensors *st) {
    for (size_t i = 0; i < st->n; i++) free(st->names[i]);
    free(st->names);
    free(st->h);
    memset(st, 0, sizeof *st);
}

/* A JSON number that is a whole number in [0, 2^53). */
static int whole(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double v = j->valuedouble;
    if (!(v >= 0 && v < 9007199254740992.0) || v != floor(v)) return 0;
    *out = (uint64_t)v;
    return 1;
}

static int tensor(const cJSON *t, uint64_t base, uint64_t size, const char *path, pl_npy *h,
                  pl_err *err) {
    char nm[80];
    snprintf(nm, sizeof nm, "%s", t->string);
    pl_printable(nm);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
    if (!cJSON_IsObject(t) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of) ||
        cJSON_GetArraySize(of) != 2)
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt safetensors header: tensor '%s' needs "
                          "dtype, shape and data_offsets [begin, end]", path, nm);
    memset(h, 0, sizeof *h);
    size_t k = 0;
    for (; k < sizeof st_dtypes / sizeof st_dtypes[0]; k++)
        if (!strcmp(dt->valuestring, st_dtypes[k].name)) break;
    if (k == sizeof st_dtypes / sizeof st_dtypes[0])
        return pl_err_set(err, PL_EFORMAT, "%s:%s: unsupported safetensors dtype '%.32s'; "
                          "expected F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8 "
                          "or BOOL", path, nm, pl_printable(dt->valuestring));
    h->dtype = st_dtypes[k].t;
    h->itemsize = st_dtypes[k].size;
    const uint16_t one = 1;
    h->swap = h->itemsize > 1 && *(const unsigned char *)&one != 1;
    int nd = cJSON_GetArraySize(sh);
    if (nd > PL_NPY_MAXDIM)
        return pl_err_set(err, PL_EFORMAT, "%s:%s: %d dimensions; expected at most %d", path, nm,
                          nd, PL_NPY_MAXDIM);
    size_t count = 1;
    for (int i = 0; i < nd; i++) {
        uint64_t v;
        if (!whole(cJSON_GetArrayItem(sh, i), &v))
            return pl_err_set(err, PL_EFORMAT, "%s:%s: corrupt safetensors header: shape holds "
                              "something other than a size >= 0", path, nm);
        h->shape[i] = (size_t)v;
        if (pl_mul_overflows(count, (size_t)v, &count))
            return pl_err_set(err, PL_EFORMAT, "%s:%s: shape's element count overflows", path,
                              nm);
    }
    h->ndim = nd;
    h->count = count;
    uint64_t b, e;
    size_t bytes;
    if (!whole(cJSON_GetArrayItem(of, 0), &b) || !whole(cJSON_GetArrayItem(of, 1), &e) || e < b)
        return pl_err_set(err, PL_EFORMAT, "%s:%s: corrupt safetensors header: data_offsets "
                          "must be [begin, end] with 0 <= begin <= end", path, nm);
    if (pl_mul_overflows(count, h->itemsize, &bytes) || e - b != bytes)
        return pl_err_set(err, PL_EFORMAT, "%s:%s: corrupt safetensors header: data_offsets "
                          "span %llu bytes; the shape and dtype need %zu", path, nm,
                          (unsigned long long)(e - b), count * h->itemsize);
    if (e > size - base)
        return pl_err_set(err, PL_EFORMAT, "%s:%s: truncated: the tensor ends at byte %llu of "
                          "the data, the file holds %llu", path, nm, (unsigned long long)e,
                          (unsigned long long)(size - base));
    h->data_offset = (size_t)(base + b);
    h->file_size = (size_t)size;
    return PL_OK;
}

static int by_offset(const void *pa, const void *pb) {
    const pl_npy *a = *(const pl_npy *const *)pa, *b = *(const pl_npy *const *)pb;
    return a->data_offset < b->data_offset ? -1 : a->data_offset > b->data_offset;
}

/* The format forbids tensors whose bytes overlap (labels lying inside the features' bytes
 * would score garbage): sorted by start, each non-empty tensor must end before the next one
 * starts. */
static int check_overlap(const pl_safetensors *st, const char *path, pl_err *err) {
    if (st->n < 2) return PL_OK;
    const pl_npy **v = pl_alloc(st->n, sizeof *v, err);
    if (!v) return PL_ENOMEM;
    for (size_t i = 0; i < st->n; i++) v[i] = &st->h[i];
    qsort(v, st->n, sizeof *v, by_offset);
    int rc = PL_OK;
    const pl_npy *prev = NULL;
    for (size_t i = 0; i < st->n && !rc; i++) {
        size_t bytes = v[i]->count * v[i]->itemsize;
        if (!bytes) continue;
        if (prev && prev->data_offset + prev->count * prev->itemsize > v[i]->data_offset) {
            const char *a = st->names[prev - st->h], *b = st->names[v[i] - st->h];
            rc = pl_err_set(err, PL_EFORMAT, "%s: corrupt safetensors header: tensors '%s' and "
                            "'%s' overlap (their data_offsets share bytes; the format forbids "
                            "it)", path, a, b);
        }
        prev = v[i];
    }
    free(v);
    return rc;
}

int pl_safetensors_open(int fd, uint64_t size, const char *path, pl_safetensors *st,
                        pl_err *err) {
    memset(st, 0, sizeof *st);
    unsigned char len8[8];
    int rc;
    if (size < 8)
        return pl_err_set(err, PL_EFORMAT, "%s: truncated safetensors file", path);
    if ((rc = pl_pread_all(fd, len8, 8, 0, path, err))) return rc;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | len8[i];
    if (n > ST_MAX_HEADER || n > size - 8)
        return pl_err_set(err, PL_EFORMAT, "%s: truncated or corrupt safetensors file (header "
                          "of %llu bytes, file of %llu)", path, (unsigned long long)n,
                          (unsigned long long)size);
    char *text = malloc((size_t)n + 1);
    if (!text) return pl_err_set(err, PL_ENOMEM, "out of memory reading the header of %s", path);
    if ((rc = pl_pread_all(fd, text, (size_t)n, 8, path, err))) {
        free(text);
        return rc;
    }
    text[n] = 0;
    cJSON *j = cJSON_ParseWithLength(text, (size_t)n);
    size_t at = 0;
    if (!j && cJSON_GetErrorPtr()) {
        const char *e = cJSON_GetErrorPtr();
        if (e >= text && e <= text + n) at = (size_t)(e - text);
    }
    free(text);
    if (!j)
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt safetensors header: not valid JSON (at "
                          "byte %zu of %llu; nesting deeper than %d levels is refused too)",
                          path, at + 8, (unsigned long long)n + 8, CJSON_NESTING_LIMIT);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt safetensors header (not a JSON object)",
                          path);
    }
    size_t cap = (size_t)cJSON_GetArraySize(j);
    st->names = pl_alloc(cap ? cap : 1, sizeof *st->names, err);
    st->h = pl_alloc(cap ? cap : 1, sizeof *st->h, err);
    if (!st->names || !st->h) {
        rc = PL_ENOMEM;
        goto done;
    }
    for (const cJSON *t = j->child; t; t = t->next) {
        if (!t->string || !strcmp(t->string, "__metadata__")) continue;
        if ((rc = tensor(t, 8 + n, size, path, &st->h[st->n], err))) goto done;
        if (!(st->names[st->n] = pl_escaped_name(t->string))) {
            rc = pl_err_set(err, PL_ENOMEM, "out of memory reading the header of %s", path);
            goto done;
        }
        /* JSON allows a key twice; a tensor named twice is ambiguous (which one is meant?) */
        for (size_t i = 0; i < st->n; i++)
            if (!strcmp(st->names[i], st->names[st->n])) {
                rc = pl_err_set(err, PL_EFORMAT, "%s: corrupt safetensors header: tensor '%s' is "
                                "named twice", path, st->names[st->n]);
                free(st->names[st->n]);
                st->names[st->n] = NULL;
                goto done;
            }
        st->n++;
    }
    if (!rc) rc = check_overlap(st, path, err);
done:
    cJSON_Delete(j);
    if (rc) pl_safetensors_close(st);
    return rc;
}

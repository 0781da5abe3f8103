/* npy.c — NumPy .npy reader and writer (format 1.0, 2.0, 3.0; never unpickles).
 *
 * The header is a Python dict literal; we parse exactly the subset NumPy writes:
 * {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }. Everything is validated before
 * any allocation proportional to the declared shape. */
#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

static const struct {
    char kind;
    size_t size;
    pl_dtype t;
    const char *name;
} dtypes[] = {
    {'f', 4, PL_DT_F32, "float32"}, {'f', 8, PL_DT_F64, "float64"}, {'i', 1, PL_DT_I8, "int8"},
    {'i', 2, PL_DT_I16, "int16"},   {'i', 4, PL_DT_I32, "int32"},   {'i', 8, PL_DT_I64, "int64"},
    {'u', 1, PL_DT_U8, "uint8"},    {'u', 2, PL_DT_U16, "uint16"},  {'u', 4, PL_DT_U32, "uint32"},
    {'u', 8, PL_DT_U64, "uint64"},  {'b', 1, PL_DT_BOOL, "bool"},   {'f', 2, PL_DT_F16, "float16"},
    /* kind 0: no .npy spelling (bfloat16 comes from .safetensors); strings have any width */
    {0, 2, PL_DT_BF16, "bfloat16"}, {0, 0, PL_DT_STR_U, "str"}, {0, 0, PL_DT_STR_S, "bytes"},
};

const char *pl_dtype_name(pl_dtype t) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].t == t) return dtypes[i].name;
    return "?";
}

int pl_dtype_is_integer(pl_dtype t) {
    return t != PL_DT_F32 && t != PL_DT_F64 && t != PL_DT_F16 && t != PL_DT_BF16 &&
           !pl_dtype_is_string(t);
}

int pl_dtype_is_string(pl_dtype t) { return t == PL_DT_STR_U || t == PL_DT_STR_S; }

static int host_little(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* ---- header dict parsing ---- */
typedef struct {
    const char *p, *end, *path;
    pl_err *err;
} scan;

static void skip_ws(scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Header text quoted in a message: control bytes become '?' so a message stays one line. */
static const char *printable(char *s) {
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 32 || (unsigned char)*p == 127) *p = '?';
    return s;
}

static int bad(scan *s, const char *what) {
    return pl_err_set(s->err, PL_EFORMAT, "%s: corrupt .npy header: %s", s->path, what);
}

static int expect(scan *s, char c, const char *what) {
    skip_ws(s);
    if (s->p >= s->end || *s->p != c) return bad(s, what);
    s->p++;
    return PL_OK;
}

static int parse_str(scan *s, char *out, size_t cap) {
    skip_ws(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return bad(s, "expected a quoted string");
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (n + 1 >= cap) return bad(s, "string too long");
        out[n++] = *s->p++;
    }
    if (s->p >= s->end) return bad(s, "unterminated string");
    s->p++;
    out[n] = 0;
    return PL_OK;
}

void pl_npy_convert_hint(const char *name, char *buf, size_t cap) {
    const char *colon = strstr(name, ".npz:");
    if (colon) {
        char file[512];
        size_t fl = (size_t)(colon - name) + 4;
        snprintf(file, sizeof file, "%.*s", (int)(fl < sizeof file ? fl : sizeof file - 1), name);
        const char *f = pl_quotable(file, "F.npz"), *m = pl_quotable(colon + 5, "NAME");
        snprintf(buf, cap, "python3 -c \"import numpy as np; np.save('%.*s-%s.npy', "
                 "np.array(np.load('%s', allow_pickle=True)['%s'].tolist()))\"",
                 (int)strlen(f) - 4, f, m, f, m);
        return;
    }
    const char *f = pl_quotable(name, "F.npy");
    size_t l = strlen(f);
    int stem = (int)(l > 4 && !strcasecmp(f + l - 4, ".npy") ? l - 4 : l);
    snprintf(buf, cap, "python3 -c \"import numpy as np; np.save('%.*s-plain.npy', "
             "np.array(np.load('%s', allow_pickle=True).tolist()))\"", stem, f, f);
}

static int parse_descr(scan *s, pl_npy *h) {
    char d[64];
    skip_ws(s);
    if (s->p < s->end && *s->p == '[')
        return pl_err_set(s->err, PL_EFORMAT,
                          "%s: structured dtypes are not supported; expected a numeric array",
                          s->path);
    if (parse_str(s, d, sizeof d)) return s->err->code;
    const char *t = d;
    int little = host_little();
    char order = '|';
    if (*t == '<' || *t == '>' || *t == '|' || *t == '=') order = *t++;
    if (*t == 'O') {
        char hint[PL_ERR_MSG / 2];
        pl_npy_convert_hint(s->path, hint, sizeof hint);
        return pl_err_set(s->err, PL_EFORMAT,
                          "%s: object arrays (dtype '%s') are refused: pedlab never unpickles; "
                          "convert it once with: %s",
                          s->path, printable(d), hint);
    }
    char kind = *t ? *t++ : 0;
    if (kind == '?') kind = 'b';
    char *endp;
    long size = (kind == 'b' && !*t) ? 1 : strtol(t, &endp, 10);
    if (!(kind == 'b' && !*t) && (endp == t || *endp)) size = -1;
    if ((kind == 'U' || kind == 'S' || kind == 'a') && size > 0 && size <= (1L << 20)) {
        /* fixed-width strings (labels): U<n> is n UCS-4 code units, S<n> n bytes */
        h->dtype = kind == 'U' ? PL_DT_STR_U : PL_DT_STR_S;
        h->itemsize = (size_t)size * (kind == 'U' ? 4 : 1);
        h->swap = kind == 'U' && ((order == '<' && !little) || (order == '>' && little));
        return PL_OK;
    }
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (kind && dtypes[i].kind == kind && (long)dtypes[i].size == size) {
            h->dtype = dtypes[i].t;
            h->itemsize = dtypes[i].size;
            h->swap = (order == '<' && !little) || (order == '>' && little);
            if (h->itemsize == 1) h->swap = 0;
            return PL_OK;
        }
    return pl_err_set(s->err, PL_EFORMAT,
                      "%s: unsupported dtype '%s'; expected float16/32/64, int8-64, uint8-64, "
                      "bool, or (labels) str/bytes",
                      s->path, printable(d));
}

static int parse_bool(scan *s, int *out) {
    skip_ws(s);
    if (s->end - s->p >= 4 && !memcmp(s->p, "True", 4)) { *out = 1; s->p += 4; return PL_OK; }
    if (s->end - s->p >= 5 && !memcmp(s->p, "False", 5)) { *out = 0; s->p += 5; return PL_OK; }
    return bad(s, "fortran_order is not True or False");
}

static int parse_shape(scan *s, pl_npy *h) {
    if (expect(s, '(', "shape is not a tuple")) return s->err->code;
    h->ndim = 0;
    for (;;) {
        skip_ws(s);
        if (s->p < s->end && *s->p == ')') { s->p++; break; }
        if (s->p < s->end && *s->p == '-') {
            char num[32];
            size_t k = 0;
            for (const char *q = s->p;
                 q < s->end && k + 1 < sizeof num && (q == s->p || (*q >= '0' && *q <= '9')); q++)
                num[k++] = *q;
            num[k] = 0;
            return pl_err_set(s->err, PL_EFORMAT,
                              "%s: corrupt .npy header: shape holds a negative dimension (%s); "
                              "expected sizes >= 0",
                              s->path, num);
        }
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return bad(s, "shape holds something other than a whole number; expected sizes >= 0");
        size_t v = 0;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            if (v > (SIZE_MAX - 9) / 10) return bad(s, "shape dimension overflows");
            v = v * 10 + (size_t)(*s->p++ - '0');
        }
        if (s->p < s->end && *s->p == 'L') s->p++;
        if (h->ndim >= PL_NPY_MAXDIM) return bad(s, "too many dimensions");
        h->shape[h->ndim++] = v;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') s->p++;
    }
    return PL_OK;
}

int pl_npy_parse(const unsigned char *buf, size_t len, const char *path, pl_npy *h, pl_err *err) {
    memset(h, 0, sizeof *h);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return pl_err_set(err, PL_EFORMAT, "%s: not a .npy file (bad magic)", path);
    unsigned major = buf[6];
    size_t hlen, pre;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        pre = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return pl_err_set(err, PL_EFORMAT, "%s: truncated .npy header", path);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        pre = 12;
    } else {
        return pl_err_set(err, PL_EFORMAT,
                          "%s: unsupported .npy format version %u.%u; expected 1.0, 2.0 or 3.0",
                          path, major, buf[7]);
    }
    if (hlen > len - pre)
        return pl_err_set(err, PL_EFORMAT,
                          "%s: truncated .npy header (declares %zu bytes, file has %zu)", path,
                          hlen, len - pre);
    /* NumPy evaluates the header as Python source, which refuses a NUL byte anywhere */
    const unsigned char *nul = memchr(buf + pre, 0, hlen);
    if (nul)
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt .npy header: NUL byte at byte %zu; "
                          "expected text (NumPy refuses it too)", path, (size_t)(nul - buf));
    scan s = {(const char *)buf + pre, (const char *)buf + pre + hlen, path, err};
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (expect(&s, '{', "header is not a dict")) return err->code;
    for (;;) {
        skip_ws(&s);
        if (s.p < s.end && *s.p == '}') break;
        char key[32];
        if (parse_str(&s, key, sizeof key)) return err->code;
        if (expect(&s, ':', "expected ':' after a key")) return err->code;
        if (!strcmp(key, "descr")) {
            if (parse_descr(&s, h)) return err->code;
            have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            if (parse_bool(&s, &h->fortran)) return err->code;
            have_order = 1;
        } else if (!strcmp(key, "shape")) {
            if (parse_shape(&s, h)) return err->code;
            have_shape = 1;
        } else {
            return pl_err_set(err, PL_EFORMAT, "%s: corrupt .npy header: unknown key '%s'", path,
                              printable(key));
        }
        skip_ws(&s);
        if (s.p < s.end && *s.p == ',') s.p++;
    }
    if (!have_descr || !have_order || !have_shape)
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt .npy header: missing '%s'", path,
                          !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    size_t count = 1;
    for (int i = 0; i < h->ndim; i++)
        if (pl_mul_overflows(count, h->shape[i], &count))
            return pl_err_set(err, PL_EFORMAT, "%s: shape's element count overflows", path);
    size_t bytes;
    if (pl_mul_overflows(count, h->itemsize, &bytes) || bytes > SIZE_MAX - (pre + hlen))
        return pl_err_set(err, PL_EFORMAT, "%s: shape's byte size overflows", path);
    h->count = count;
    h->data_offset = pre + hlen;
    return PL_OK;
}

int pl_npy_read_header_at(int fd, size_t base, size_t size, const char *name, pl_npy *h,
                          pl_err *err) {
    unsigned char pre[12];
    size_t got = size < sizeof pre ? size : sizeof pre;
    int rc = pl_pread_all(fd, pre, got, base, name, err);
    if (rc) return rc;
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return pl_err_set(err, PL_EFORMAT, "%s: not a .npy file (bad magic)", name);
    if (pre[6] < 1 || pre[6] > 3)
        return pl_err_set(err, PL_EFORMAT,
                          "%s: unsupported .npy format version %u.%u; expected 1.0, 2.0 or 3.0",
                          name, pre[6], pre[7]);
    if (pre[6] > 1 && got < 12)
        return pl_err_set(err, PL_EFORMAT, "%s: truncated .npy header", name);
    size_t hlen = pre[6] == 1 ? ((size_t)pre[8] | (size_t)pre[9] << 8) + 10
                              : ((size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
                                 (size_t)pre[11] << 24) + 12;
    if (hlen > size)
        return pl_err_set(err, PL_EFORMAT,
                          "%s: truncated .npy header (declares %zu bytes, file has %zu)", name,
                          hlen, size);
    unsigned char *buf = malloc(hlen);
    if (!buf) return pl_err_set(err, PL_ENOMEM, "out of memory reading the header of %s", name);
    rc = pl_pread_all(fd, buf, hlen, base, name, err);
    if (!rc) rc = pl_npy_parse(buf, hlen, name, h, err);
    free(buf);
    if (rc) return rc;
    h->file_size = size;
    size_t need = h->count * h->itemsize;
    if (size - h->data_offset < need)
        return pl_err_set(err, PL_EFORMAT,
                          "%s: truncated: the header promises %zu bytes of %s data (shape "
                          "%zu×%zu), the file holds %zu",
                          name, need, pl_dtype_name(h->dtype), h->ndim > 0 ? h->shape[0] : 1,
                          h->ndim > 1 ? h->shape[1] : 1, size - h->data_offset);
    h->data_offset += base;
    return PL_OK;
}

static void swap_bytes(unsigned char *p, size_t size) {
    for (size_t i = 0; i < size / 2; i++) {
        unsigned char t = p[i];
        p[i] = p[size - 1 - i];
        p[size - 1 - i] = t;
    }
}

/* IEEE binary16 to double, exactly: a normal number's exponent is rebiased (15 → 1023) and
 * its mantissa shifted into place; subnormals are m·2⁻²⁴; inf and NaN stay what they are. */
static double half_to_double(uint16_t x) {
    uint64_t e = (x >> 10) & 0x1f, m = x & 0x3ff, s = (uint64_t)(x >> 15) << 63;
    double v;
    if (e == 0) {
        v = (double)m * 0x1p-24;
        return (x & 0x8000) ? -v : v;
    }
    uint64_t b = e == 31 ? s | (uint64_t)0x7ff << 52 | m << 42 : s | (e + 1008) << 52 | m << 42;
    memcpy(&v, &b, 8);
    return v;
}

/* bfloat16 is the top half of a float32. */
static double bf16_to_double(uint16_t x) {
    uint32_t u = (uint32_t)x << 16;
    float f;
    memcpy(&f, &u, 4);
    return (double)f;
}

void pl_npy_convert(const pl_npy *h, const void *raw, size_t count, double *out) {
    const unsigned char *p = raw;
    /* the common cases without a per-element switch: native float32 and float64 */
    if (!h->swap && h->dtype == PL_DT_F32) {
        for (size_t i = 0; i < count; i++) {
            float x;
            memcpy(&x, p + 4 * i, 4);
            out[i] = (double)x;
        }
        return;
    }
    if (!h->swap && h->dtype == PL_DT_F64) {
        memcpy(out, raw, count * 8);
        return;
    }
    if (!h->swap && h->dtype == PL_DT_F16) {
        for (size_t i = 0; i < count; i++) {
            uint16_t x;
            memcpy(&x, p + 2 * i, 2);
            out[i] = half_to_double(x);
        }
        return;
    }
    if (pl_dtype_is_string(h->dtype)) {   /* never numbers: callers refuse strings first */
        for (size_t i = 0; i < count; i++) out[i] = (double)NAN;
        return;
    }
    unsigned char tmp[8];
    for (size_t i = 0; i < count; i++, p += h->itemsize) {
        memcpy(tmp, p, h->itemsize);
        if (h->swap) swap_bytes(tmp, h->itemsize);
        double v;
        switch (h->dtype) {
        case PL_DT_F32: { float x; memcpy(&x, tmp, 4); v = (double)x; break; }
        case PL_DT_F64: memcpy(&v, tmp, 8); break;
        case PL_DT_I8: { int8_t x; memcpy(&x, tmp, 1); v = x; break; }
        case PL_DT_I16: { int16_t x; memcpy(&x, tmp, 2); v = x; break; }
        case PL_DT_I32: { int32_t x; memcpy(&x, tmp, 4); v = x; break; }
        case PL_DT_I64: { int64_t x; memcpy(&x, tmp, 8); v = (double)x; break; }
        case PL_DT_U8: v = tmp[0]; break;
        case PL_DT_U16: { uint16_t x; memcpy(&x, tmp, 2); v = x; break; }
        case PL_DT_U32: { uint32_t x; memcpy(&x, tmp, 4); v = x; break; }
        case PL_DT_U64: { uint64_t x; memcpy(&x, tmp, 8); v = (double)x; break; }
        case PL_DT_BOOL: v = tmp[0] ? 1.0 : 0.0; break;
        case PL_DT_F16: { uint16_t x; memcpy(&x, tmp, 2); v = half_to_double(x); break; }
        case PL_DT_BF16: { uint16_t x; memcpy(&x, tmp, 2); v = bf16_to_double(x); break; }
        default: v = (double)NAN;
        }
        out[i] = v;
    }
}

static int write_header(FILE *f, const char *descr, size_t rows, size_t cols) {
    char dict[256];
    int len = snprintf(dict, sizeof dict,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }", descr,
                       rows, cols);
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)len + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)len, f) != (size_t)len) return -1;
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    return 0;
}

int pl_npy_save_mat(const char *path, const pl_mat *m, pl_err *err) {
    pl_atomic a;
    int rc = pl_atomic_begin(&a, path, err);
    if (rc) return rc;
    write_header(a.f, host_little() ? "<f8" : ">f8", m->rows, m->cols);
    for (size_t i = 0; i < m->rows; i++) fwrite(m->data + i * m->ld, sizeof(double), m->cols, a.f);
    return pl_atomic_commit(&a, err);
}

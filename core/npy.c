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
    {'u', 8, PL_DT_U64, "uint64"},  {'b', 1, PL_DT_BOOL, "bool"},
};

const char *pl_dtype_name(pl_dtype t) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].t == t) return dtypes[i].name;
    return "?";
}

int pl_dtype_is_integer(pl_dtype t) { return t != PL_DT_F32 && t != PL_DT_F64; }

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
    if (*t == 'O')
        return pl_err_set(s->err, PL_EFORMAT,
                          "%s: object arrays (dtype '%s') are refused: pedlab never unpickles",
                          s->path, printable(d));
    char kind = *t ? *t++ : 0;
    if (kind == '?') kind = 'b';
    char *endp;
    long size = (kind == 'b' && !*t) ? 1 : strtol(t, &endp, 10);
    if (!(kind == 'b' && !*t) && (endp == t || *endp)) size = -1;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].kind == kind && (long)dtypes[i].size == size) {
            h->dtype = dtypes[i].t;
            h->itemsize = dtypes[i].size;
            h->swap = (order == '<' && !little) || (order == '>' && little);
            if (h->itemsize == 1) h->swap = 0;
            return PL_OK;
        }
    return pl_err_set(s->err, PL_EFORMAT,
                      "%s: unsupported dtype '%s'; expected float32/64, int8-64, uint8-64 or bool",
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

int pl_npy_read_header(FILE *f, const char *path, pl_npy *h, pl_err *err) {
    unsigned char pre[12];
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return pl_err_set(err, PL_EIO, "cannot read %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return pl_err_set(err, PL_EIO, "%s is a directory; expected a .npy file", path);
    if (!S_ISREG(st.st_mode))
        return pl_err_set(err, PL_EIO, "%s is not a regular file; expected a .npy file", path);
    pl_input_note_fd(fileno(f), path);
    if (fseek(f, 0, SEEK_END) != 0) return pl_err_set(err, PL_EIO, "%s: cannot seek", path);
    long fsz = ftell(f);
    if (fsz < 0 || fseek(f, 0, SEEK_SET) != 0)
        return pl_err_set(err, PL_EIO, "%s: cannot seek", path);
    size_t got = fread(pre, 1, sizeof pre, f);
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return pl_err_set(err, PL_EFORMAT, "%s: not a .npy file (bad magic)", path);
    if (pre[6] < 1 || pre[6] > 3)
        return pl_err_set(err, PL_EFORMAT,
                          "%s: unsupported .npy format version %u.%u; expected 1.0, 2.0 or 3.0",
                          path, pre[6], pre[7]);
    if (pre[6] > 1 && got < 12)
        return pl_err_set(err, PL_EFORMAT, "%s: truncated .npy header", path);
    size_t hlen = pre[6] == 1 ? ((size_t)pre[8] | (size_t)pre[9] << 8) + 10
                              : ((size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
                                 (size_t)pre[11] << 24) + 12;
    if (hlen > (size_t)fsz)
        return pl_err_set(err, PL_EFORMAT,
                          "%s: truncated .npy header (declares %zu bytes, file has %ld)", path,
                          hlen, fsz);
    unsigned char *buf = malloc(hlen);
    if (!buf) return pl_err_set(err, PL_ENOMEM, "out of memory reading the header of %s", path);
    int rc = PL_OK;
    if (fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, hlen, f) != hlen)
        rc = pl_err_set(err, PL_EIO, "%s: cannot read header", path);
    else
        rc = pl_npy_parse(buf, hlen, path, h, err);
    free(buf);
    if (rc) return rc;
    h->file_size = (size_t)fsz;
    size_t need = h->count * h->itemsize;
    if (h->file_size - h->data_offset < need)
        return pl_err_set(err, PL_EFORMAT,
                          "%s: truncated: the header promises %zu bytes of %s data (shape "
                          "%zu×%zu), the file holds %zu",
                          path, need, pl_dtype_name(h->dtype), h->ndim > 0 ? h->shape[0] : 1,
                          h->ndim > 1 ? h->shape[1] : 1, h->file_size - h->data_offset);
    if (fseek(f, (long)h->data_offset, SEEK_SET) != 0)
        return pl_err_set(err, PL_EIO, "%s: cannot seek", path);
    return PL_OK;
}

static void swap_bytes(unsigned char *p, size_t size) {
    for (size_t i = 0; i < size / 2; i++) {
        unsigned char t = p[i];
        p[i] = p[size - 1 - i];
        p[size - 1 - i] = t;
    }
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
        default: v = NAN;
        }
        out[i] = v;
    }
}

static int open_npy(const char *path, FILE **f, pl_npy *h, pl_err *err) {
    int fd;
    int rc = pl_input_open_kind(path, "a .npy file", &fd, err);
    if (rc) {
        *f = NULL;
        return rc;
    }
    *f = fdopen(fd, "rb");
    if (!*f) {
        close(fd);
        return pl_err_set(err, PL_ENOMEM, "out of memory opening %s", path);
    }
    rc = pl_npy_read_header(*f, path, h, err);
    if (rc) {
        fclose(*f);
        *f = NULL;
    }
    return rc;
}

/* Read all elements in file order as doubles into out (count). */
static int read_all(FILE *f, const char *path, const pl_npy *h, double *out, pl_err *err) {
    enum { CHUNK = 1 << 16 };
    unsigned char *raw = malloc(CHUNK * 8);
    if (!raw) return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", path);
    size_t done = 0;
    while (done < h->count) {
        size_t n = h->count - done < CHUNK ? h->count - done : CHUNK;
        if (fread(raw, h->itemsize, n, f) != n) {
            free(raw);
            return pl_err_set(err, PL_EIO, "%s: read failed at element %zu", path, done);
        }
        pl_npy_convert(h, raw, n, out + done);
        done += n;
    }
    free(raw);
    return PL_OK;
}

int pl_npy_load_mat(const char *path, pl_mat *out, pl_err *err) {
    FILE *f;
    pl_npy h;
    int rc = open_npy(path, &f, &h, err);
    out->data = NULL;
    out->rows = out->cols = out->ld = 0;
    out->owned = 0;
    if (rc) return rc;
    size_t rows, cols;
    if (h.ndim == 0) rows = cols = 1;
    else if (h.ndim == 1) { rows = h.shape[0]; cols = 1; }
    else if (h.ndim == 2) { rows = h.shape[0]; cols = h.shape[1]; }
    else {
        fclose(f);
        return pl_err_set(err, PL_EFORMAT, "%s: array has %d dimensions; expected 1 or 2", path,
                          h.ndim);
    }
    if ((rc = pl_mat_init(out, rows, cols, err))) {
        fclose(f);
        return pl_err_prefix(err, "%s (%zu×%zu %s)", path, rows, cols, pl_dtype_name(h.dtype));
    }
    rc = read_all(f, path, &h, out->data, err);
    fclose(f);
    if (rc) { pl_mat_release(out); return rc; }
    if (h.fortran && rows > 1 && cols > 1) {
        pl_mat t;
        if ((rc = pl_mat_init(&t, rows, cols, err))) { pl_mat_release(out); return rc; }
        for (size_t j = 0; j < cols; j++)
            for (size_t i = 0; i < rows; i++) PL_AT(&t, i, j) = out->data[j * rows + i];
        pl_mat_release(out);
        *out = t;
    }
    return PL_OK;
}

int pl_npy_load_ints(const char *path, int64_t **out, size_t *n, pl_err *err) {
    FILE *f;
    pl_npy h;
    *out = NULL;
    *n = 0;
    int rc = open_npy(path, &f, &h, err);
    if (rc) return rc;
    if (!(h.ndim == 1 || (h.ndim == 2 && (h.shape[0] == 1 || h.shape[1] == 1)))) {
        fclose(f);
        return pl_err_set(err, PL_EFORMAT, "%s: labels must be a 1-D array; got %d dimensions",
                          path, h.ndim);
    }
    double *v = pl_alloc(h.count ? h.count : 1, sizeof *v, err);
    int64_t *r = pl_alloc(h.count ? h.count : 1, sizeof *r, err);
    if (!v || !r) { rc = pl_err_prefix(err, "%s", path); goto cleanup; }
    if ((rc = read_all(f, path, &h, v, err))) goto cleanup;
    for (size_t i = 0; i < h.count; i++) {
        if (!pl_dtype_is_integer(h.dtype) && (!isfinite(v[i]) || v[i] != floor(v[i]))) {
            rc = pl_err_set(err, PL_EFORMAT, "%s: row %zu holds %g; labels must be whole numbers",
                            path, i + 1, v[i]);
            goto cleanup;
        }
        /* from 2^53 on, float64 no longer holds every whole number: two ids may have merged */
        if (!pl_dtype_is_integer(h.dtype) && fabs(v[i]) >= 9007199254740992.0) {
            rc = pl_err_set(err, PL_EFORMAT,
                            "%s: row %zu holds %.17g, a %s label beyond 2^53 where distinct ids "
                            "may have been rounded together; store labels as int64",
                            path, i + 1, v[i], pl_dtype_name(h.dtype));
            goto cleanup;
        }
        if (h.dtype == PL_DT_U64 || h.dtype == PL_DT_I64) {
            /* re-read exactly: doubles lose integers beyond 2^53 */
            continue;
        }
        r[i] = (int64_t)v[i];
    }
    if (h.dtype == PL_DT_U64 || h.dtype == PL_DT_I64) {
        unsigned char *raw = malloc(h.count * 8 + 1);
        if (!raw) {
            rc = pl_err_set(err, PL_ENOMEM, "out of memory reading the labels of %s", path);
            goto cleanup;
        }
        if (fseek(f, (long)h.data_offset, SEEK_SET) != 0 || fread(raw, 8, h.count, f) != h.count) {
            free(raw);
            rc = pl_err_set(err, PL_EIO, "%s: read failed", path);
            goto cleanup;
        }
        for (size_t i = 0; i < h.count; i++) {
            unsigned char *p = raw + 8 * i;
            if (h.swap) swap_bytes(p, 8);
            uint64_t u;
            memcpy(&u, p, 8);
            if (h.dtype == PL_DT_U64 && u > (uint64_t)INT64_MAX) {
                free(raw);
                rc = pl_err_set(err, PL_EFORMAT, "%s: row %zu holds %llu, too large for a label",
                                path, i + 1, (unsigned long long)u);
                goto cleanup;
            }
            memcpy(&r[i], &u, 8);
        }
        free(raw);
    }
    *out = r;
    *n = h.count;
    r = NULL;
cleanup:
    fclose(f);
    free(v);
    free(r);
    return rc;
}

static int write_header(FILE *f, const char *descr, size_t rows, size_t cols, int two_d) {
    char dict[256];
    int len =
        two_d ? snprintf(dict, sizeof dict,
                         "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }", descr,
                         rows, cols)
              : snprintf(dict, sizeof dict,
                         "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }", descr, rows);
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
    write_header(a.f, host_little() ? "<f8" : ">f8", m->rows, m->cols, 1);
    for (size_t i = 0; i < m->rows; i++) fwrite(m->data + i * m->ld, sizeof(double), m->cols, a.f);
    return pl_atomic_commit(&a, err);
}

int pl_npy_save_ints(const char *path, const int64_t *v, size_t n, pl_err *err) {
    pl_atomic a;
    int rc = pl_atomic_begin(&a, path, err);
    if (rc) return rc;
    write_header(a.f, host_little() ? "<i8" : ">i8", n, 0, 0);
    if (n) fwrite(v, sizeof *v, n, a.f);
    return pl_atomic_commit(&a, err);
}

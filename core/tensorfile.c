/* tensorfile.c — input arrays: a path resolved to an open file, a dtype, a shape and the
 * offset of the data (see tensorfile.h). */
#include "tensorfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "io.h"
#include "safetensors.h"
#include "zip.h"

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static const char *ext_of(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static int ext_is(const char *path, const char *e) { return !strcasecmp(ext_of(path), e); }

/* ---- the one line of Python for files pedlab will not read ---- */

static int refuse_pickle(const char *path, int torch, pl_err *err) {
    const char *f = pl_quotable(path, torch ? "F.pt" : "F.pkl");
    const char *e = ext_of(f);
    int stem = (int)(strlen(f) - (*e ? strlen(e) + 1 : 0));
    if (torch)
        return pl_err_set(err, PL_EFORMAT, "%s is a PyTorch file (a pickle): pedlab never "
                          "unpickles; convert the tensor once with: python3 -c \"import torch, "
                          "numpy as np; t = torch.load('%s', map_location='cpu'); "
                          "t = t['KEY'] if isinstance(t, dict) else t; "
                          "np.save('%.*s.npy', t.float().numpy())\" (a checkpoint saved as a "
                          "dict: KEY is the tensor's key, from print(list(torch.load('%s')))",
                          path, f, stem, f, f);
    return pl_err_set(err, PL_EFORMAT, "%s is a Python pickle: pedlab never unpickles; convert "
                      "it once with: python3 -c \"import pickle, numpy as np; np.save('%.*s.npy', "
                      "np.asarray(pickle.load(open('%s', 'rb'))))\"", path, stem, f, f);
}

/* ---- picking an archive's array ---- */

static const char *const features_names[] = {"features", "x", "X", "feats", NULL};
static const char *const labels_names[] = {"labels", "y", NULL};

/* names[i] (n of them) as the user writes them (an .npz member without .npy), comma-separated
 * into buf, at most 12. */
static void list_names(char *const *names, size_t n, int npz, char *buf, size_t cap) {
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && at + 1 < cap; i++) {
        size_t l = strlen(names[i]);
        if (npz && l > 4 && !strcmp(names[i] + l - 4, ".npy")) l -= 4;
        int w = i >= 12 ? snprintf(buf + at, cap - at, ", … (%zu in all)", n)
                        : snprintf(buf + at, cap - at, "%s%.*s", i ? ", " : "", (int)l, names[i]);
        if (w < 0) break;
        at += (size_t)w;
        if (i >= 12) break;
    }
}

static int name_is(const char *stored, const char *want, int npz) {
    if (!strcmp(stored, want)) return 1;
    size_t l = strlen(want);
    return npz && !strncmp(stored, want, l) && !strcmp(stored + l, ".npy");
}

/* The index of the array to read among names[0..n-1]: member when given, else by role. */
static int pick(char *const *names, size_t n, const char *file, const char *member, int role,
                int npz, size_t *out, pl_err *err) {
    char list[600];
    list_names(names, n, npz, list, sizeof list);
    if (member) {
        for (size_t i = n; i-- > 0;)  /* the last of a name, as Python's zipfile */
            if (name_is(names[i], member, npz)) { *out = i; return PL_OK; }
        return pl_err_set(err, PL_EINVAL, "%s holds no array named '%s'; it holds: %s", file,
                          member, n ? list : "nothing");
    }
    int r = role & 0xff;
    const char *const *want = r == PL_ARRAY_FEATURES ? features_names
                              : r == PL_ARRAY_LABELS ? labels_names : NULL;
    const char *found = NULL;
    for (size_t k = 0; want && want[k]; k++)
        for (size_t i = n; i-- > 0;)
            if (name_is(names[i], want[k], npz)) {
                if (found && strcmp(found, want[k]))
                    return pl_err_set(err, PL_EINVAL, "%s holds both '%s' and '%s'; name the "
                                      "%s: %s:%s", file, found, want[k],
                                      r == PL_ARRAY_FEATURES ? "features" : "labels", file, found);
                if (!found) *out = i;
                found = want[k];
                break;
            }
    if (found) return PL_OK;
    if (n == 1 && !(role & PL_ARRAY_BY_NAME)) { *out = 0; return PL_OK; }
    if (want)
        return pl_err_set(err, PL_EINVAL, "%s holds no %s array (looked for %s); it holds: %s; "
                          "name one as %s:NAME", file,
                          r == PL_ARRAY_FEATURES ? "features" : "labels",
                          r == PL_ARRAY_FEATURES ? "features, x, X, feats" : "labels, y",
                          n ? list : "nothing", file);
    return pl_err_set(err, PL_EINVAL, "%s holds %zu arrays (%s); name one as %s:NAME", file, n,
                      list, file);
}

/* ---- opening ---- */

/* An unlinked temporary file for an inflated member: nothing to clean up, ever. */
static int scratch_fd(const char *name, int *fd, pl_err *err) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    size_t l = strlen(dir) + 32;
    char *p = malloc(l);
    if (!p) return pl_err_set(err, PL_ENOMEM, "out of memory inflating %s", name);
    snprintf(p, l, "%s/pedlab-inflate-XXXXXX", dir);
    *fd = mkstemp(p);
    int e = errno;
    if (*fd >= 0) {
        unlink(p);
        fcntl(*fd, F_SETFD, FD_CLOEXEC);
    }
    free(p);
    if (*fd < 0)
        return pl_err_set(err, PL_EIO, "%s: cannot create a temporary file in %s to inflate it: "
                          "%s (TMPDIR names another folder)", name, dir, strerror(e));
    return PL_OK;
}

static int set_name(pl_array *a, const char *file, const char *member, int npz, pl_err *err) {
    size_t fl = strlen(file), ml = member ? strlen(member) : 0;
    if (npz && ml > 4 && !strcmp(member + ml - 4, ".npy")) ml -= 4;
    a->name = malloc(fl + ml + 2);
    if (!a->name) return pl_err_set(err, PL_ENOMEM, "out of memory opening %s", file);
    memcpy(a->name, file, fl);
    a->name[fl] = 0;
    if (member) {
        a->name[fl] = ':';
        memcpy(a->name + fl + 1, member, ml);
        a->name[fl + 1 + ml] = 0;
    }
    return PL_OK;
}

static int open_npz(pl_array *a, const char *file, const char *member, int role, pl_err *err) {
    pl_zip z;
    int rc = pl_zip_open(a->fd, file, &z, err);
    if (rc) return rc;
    for (size_t i = 0; i < z.n; i++) {
        size_t l = strlen(z.m[i].name);
        if (l >= 8 && !strcmp(z.m[i].name + l - 8, "data.pkl") &&
            (l == 8 || z.m[i].name[l - 9] == '/')) {
            pl_zip_close(&z);
            return refuse_pickle(file, 1, err);
        }
    }
    char **names = pl_alloc(z.n ? z.n : 1, sizeof *names, err);
    if (!names) { pl_zip_close(&z); return PL_ENOMEM; }
    for (size_t i = 0; i < z.n; i++) names[i] = z.m[i].name;
    size_t k = 0;
    rc = pick(names, z.n, file, member, role, 1, &k, err);
    free(names);
    const pl_zip_member *m = rc ? NULL : &z.m[k];
    uint64_t off = 0;
    if (!rc) rc = set_name(a, file, m->name, 1, err);
    if (!rc) rc = pl_zip_data_offset(&z, m, &off, err);
    if (!rc && m->method == 0) {
        /* stored: the member is a byte range of the archive, read in place */
        rc = pl_npy_read_header_at(a->fd, (size_t)off, (size_t)m->usize, a->name, &a->h, err);
        if (!rc) {
            uint32_t c = 0;
            rc = pl_zip_crc_range(a->fd, off, a->h.data_offset - off, &c, a->name, err);
            a->crc_on = 1;
            a->crc = c;
            a->crc_want = m->crc;
            a->crc_pos = a->h.data_offset;
            a->data_end = a->h.data_offset + a->h.count * a->h.itemsize;
            a->member_end = off + m->usize;
            if (!rc && a->h.count == 0) rc = pl_array_read_raw(a, 0, 0, NULL, err);
        }
    } else if (!rc) {
        int t = -1;
        if (!(rc = scratch_fd(a->name, &t, err))) {
            rc = pl_zip_inflate(&z, m, t, err);
            close(a->fd);
            a->fd = t;
            if (!rc) rc = pl_npy_read_header_at(t, 0, (size_t)m->usize, a->name, &a->h, err);
        }
    }
    pl_zip_close(&z);
    return rc;
}

static int open_safetensors(pl_array *a, const char *file, uint64_t size, const char *member,
                            int role, pl_err *err) {
    pl_safetensors st;
    int rc = pl_safetensors_open(a->fd, size, file, &st, err);
    if (rc) return rc;
    size_t k = 0;
    rc = pick(st.names, st.n, file, member, role, 0, &k, err);
    if (!rc) rc = set_name(a, file, st.names[k], 0, err);
    if (!rc) a->h = st.h[k];
    pl_safetensors_close(&st);
    return rc;
}

/* What the extension promises, for "X is a directory; expected KIND" and mismatches. */
static const char *kind_of(const char *file) {
    return ext_is(file, "npy") ? "a .npy file" : ext_is(file, "npz") ? "a .npz file"
         : ext_is(file, "safetensors") ? "a .safetensors file" : "an array file";
}

int pl_array_open(const char *spec, int role, pl_array *a, pl_err *err) {
    memset(a, 0, sizeof *a);
    a->fd = -1;
    /* F.npz:NAME / F.safetensors:NAME */
    const char *sep = NULL;
    static const char *const seps[] = {".npz:", ".safetensors:", ".npy:"};
    for (size_t i = 0; i < 3; i++) {
        const char *p = strstr(spec, seps[i]);
        if (p && (!sep || p + strlen(seps[i]) - 1 < sep)) sep = p + strlen(seps[i]) - 1;
    }
    if (sep && access(spec, F_OK) == 0) sep = NULL;  /* a file really named so */
    char *file = sep ? malloc((size_t)(sep - spec) + 1) : dup_str(spec);
    if (!file) return pl_err_set(err, PL_ENOMEM, "out of memory opening %s", spec);
    if (sep) {
        memcpy(file, spec, (size_t)(sep - spec));
        file[sep - spec] = 0;
    }
    const char *member = sep && !(role & PL_ARRAY_SIBLING) ? sep + 1 : NULL;
    int rc;
    if (role & PL_ARRAY_SIBLING) role |= PL_ARRAY_BY_NAME;
    if (member && !*member) {
        rc = pl_err_set(err, PL_EINVAL, "%s: an empty array name after ':'", spec);
        goto fail;
    }
    if ((rc = pl_input_open_kind(file, kind_of(file), &a->fd, err))) goto fail;
    off_t size = lseek(a->fd, 0, SEEK_END);
    unsigned char head[16] = {0};
    size_t hn = size < 0 ? 0 : (size_t)size < sizeof head ? (size_t)size : sizeof head;
    if (size < 0) {
        rc = pl_err_set(err, PL_EIO, "%s: cannot seek: %s", file, strerror(errno));
        goto fail;
    }
    if ((rc = pl_pread_all(a->fd, head, hn, 0, file, err))) goto fail;
    int is_npy = hn >= 6 && !memcmp(head, "\x93NUMPY", 6);
    int is_zip = pl_zip_magic(head, hn);
    int is_st = pl_safetensors_magic(head, hn);
    int is_pickle = hn >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
    if (is_pickle) {
        rc = refuse_pickle(file, ext_is(file, "pt") || ext_is(file, "pth"), err);
    } else if (is_zip && !ext_is(file, "npy") && !ext_is(file, "safetensors")) {
        rc = open_npz(a, file, member, role, err);
    } else if (is_st && !ext_is(file, "npy") && !ext_is(file, "npz")) {
        rc = open_safetensors(a, file, (uint64_t)size, member, role, err);
    } else if (is_npy && !ext_is(file, "npz") && !ext_is(file, "safetensors")) {
        if (member)
            rc = pl_err_set(err, PL_EINVAL, "%s is a .npy file, a single array: drop ':%s'",
                            file, member);
        else if (role & PL_ARRAY_SIBLING)
            rc = pl_err_set(err, PL_EINVAL, "%s is a .npy file holding one array: give the "
                            "%s separately", file, (role & 0xff) == PL_ARRAY_LABELS ? "labels"
                                                                              : "features");
        else if (!(rc = set_name(a, file, NULL, 0, err)))
            rc = pl_npy_read_header_at(a->fd, 0, (size_t)size, file, &a->h, err);
    } else if (ext_is(file, "npz")) {
        rc = pl_err_set(err, PL_EFORMAT, "%s: not a .npz file (it is not a zip archive, as "
                        "np.savez writes)", file);
    } else if (ext_is(file, "safetensors")) {
        rc = pl_err_set(err, PL_EFORMAT, "%s: not a .safetensors file (no JSON header after "
                        "its 8-byte length)", file);
    } else if (ext_is(file, "npy") || is_npy || is_zip || is_st) {
        rc = pl_err_set(err, PL_EFORMAT, "%s: not a .npy file (bad magic)%s", file,
                        is_zip ? "; it is a zip archive: an .npz file is named .npz"
                        : is_st ? "; it is a .safetensors file: name it .safetensors" : "");
    } else {
        rc = pl_err_set(err, PL_EFORMAT, "%s: not a .npy, .npz or .safetensors file (bad "
                        "magic); pedlab reads those and .csv", file);
    }
    if (rc) goto fail;
    free(file);
    return PL_OK;
fail:
    free(file);
    pl_array_close(a);
    return rc;
}

void pl_array_close(pl_array *a) {
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    free(a->name);
    a->name = NULL;
}

int pl_array_read_raw(pl_array *a, size_t first, size_t count, void *raw, pl_err *err) {
    size_t len = count * a->h.itemsize;
    uint64_t off = a->h.data_offset + (uint64_t)first * a->h.itemsize;
    int rc = len ? pl_pread_all(a->fd, raw, len, off, a->name, err) : PL_OK;
    if (rc || !a->crc_on || off != a->crc_pos) return rc;
    /* the bytes continue the member in order: fold them into its CRC-32 */
    if (len) a->crc = (uint32_t)crc32(a->crc, raw, (uInt)len);
    a->crc_pos += len;
    if (a->crc_pos < a->data_end) return PL_OK;
    a->crc_on = 0;
    uint32_t c = a->crc;
    if ((rc = pl_zip_crc_range(a->fd, a->data_end, a->member_end - a->data_end, &c, a->name,
                               err)))
        return rc;
    if (c != a->crc_want)
        return pl_err_set(err, PL_EFORMAT, "%s: CRC-32 mismatch (%08x, the archive's directory "
                          "says %08x): the archive is corrupt", a->name, (unsigned)c,
                          (unsigned)a->crc_want);
    return PL_OK;
}

/* ---- whole arrays ---- */

/* All of a's elements as doubles, in file order. */
static int read_all(pl_array *a, double *out, pl_err *err) {
    enum { CHUNK = 1 << 16 };
    unsigned char *raw = malloc(CHUNK * 8);
    if (!raw) return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", a->name);
    int rc = PL_OK;
    for (size_t done = 0; done < a->h.count && !rc; done += CHUNK) {
        size_t n = a->h.count - done < CHUNK ? a->h.count - done : CHUNK;
        if (!(rc = pl_array_read_raw(a, done, n, raw, err)))
            pl_npy_convert(&a->h, raw, n, out + done);
    }
    free(raw);
    return rc;
}

static int refuse_strings(const pl_array *a, pl_err *err) {
    return pl_err_set(err, PL_EFORMAT, "%s holds %s strings (dtype %s%zu); expected numbers "
                      "(strings are read as labels only)", a->name, pl_dtype_name(a->h.dtype),
                      a->h.dtype == PL_DT_STR_U ? "U" : "S",
                      a->h.dtype == PL_DT_STR_U ? a->h.itemsize / 4 : a->h.itemsize);
}

int pl_array_load_mat(const char *spec, int role, pl_mat *out, pl_err *err) {
    pl_array a;
    memset(out, 0, sizeof *out);
    int rc = pl_array_open(spec, role, &a, err);
    if (rc) return rc;
    size_t rows, cols;
    const pl_npy *h = &a.h;
    if (h->ndim == 0) rows = cols = 1;
    else if (h->ndim == 1) { rows = h->shape[0]; cols = 1; }
    else if (h->ndim == 2) { rows = h->shape[0]; cols = h->shape[1]; }
    else {
        rc = pl_err_set(err, PL_EFORMAT, "%s: array has %d dimensions; expected 1 or 2", a.name,
                        h->ndim);
        goto done;
    }
    if (pl_dtype_is_string(h->dtype)) { rc = refuse_strings(&a, err); goto done; }
    if ((rc = pl_mat_init(out, rows, cols, err))) {
        pl_err_prefix(err, "%s (%zu×%zu %s)", a.name, rows, cols, pl_dtype_name(h->dtype));
        goto done;
    }
    if ((rc = read_all(&a, out->data, err))) { pl_mat_release(out); goto done; }
    if (h->fortran && rows > 1 && cols > 1) {
        pl_mat t;
        if ((rc = pl_mat_init(&t, rows, cols, err))) { pl_mat_release(out); goto done; }
        for (size_t j = 0; j < cols; j++)
            for (size_t i = 0; i < rows; i++) PL_AT(&t, i, j) = out->data[j * rows + i];
        pl_mat_release(out);
        *out = t;
    }
done:
    pl_array_close(&a);
    return rc;
}

void pl_array_free_names(char **names, size_t n) {
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

/* An unsigned integer of size bytes (4 or 8) in the file's byte order. */
static uint64_t load_u(const unsigned char *p, size_t size, int swap) {
    unsigned char b[8];
    for (size_t i = 0; i < size; i++) b[i] = swap ? p[size - 1 - i] : p[i];
    if (size == 4) {
        uint32_t u;
        memcpy(&u, b, 4);
        return u;
    }
    uint64_t u;
    memcpy(&u, b, 8);
    return u;
}

typedef struct {
    const unsigned char *p;
    size_t len, row;
} str_key;

static int cmp_key(const void *x, const void *y) {
    const str_key *a = x, *b = y;
    size_t l = a->len < b->len ? a->len : b->len;
    int c = l ? memcmp(a->p, b->p, l) : 0;
    if (c) return c;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* UTF-8 of the code point u into o (at most 4 bytes); 0 when u is not a character. */
static size_t utf8(uint32_t u, unsigned char *o) {
    if (u < 0x80) { o[0] = (unsigned char)u; return 1; }
    if (u < 0x800) {
        o[0] = (unsigned char)(0xc0 | u >> 6);
        o[1] = (unsigned char)(0x80 | (u & 0x3f));
        return 2;
    }
    if (u >= 0xd800 && u < 0xe000) return 0;
    if (u < 0x10000) {
        o[0] = (unsigned char)(0xe0 | u >> 12);
        o[1] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
        o[2] = (unsigned char)(0x80 | (u & 0x3f));
        return 3;
    }
    if (u > 0x10ffff) return 0;
    o[0] = (unsigned char)(0xf0 | u >> 18);
    o[1] = (unsigned char)(0x80 | (u >> 12 & 0x3f));
    o[2] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
    o[3] = (unsigned char)(0x80 | (u & 0x3f));
    return 4;
}

/* String labels: each row's text (trailing NULs dropped, as NumPy does; U as UTF-8, whose
 * byte order is code-point order), sorted, numbered 0..K-1. raw is rewritten in place. */
static int string_labels(const pl_array *a, unsigned char *raw, int64_t *ids, char ***names,
                         size_t *nnames, pl_err *err) {
    size_t N = a->h.count, w = a->h.itemsize;
    str_key *k = pl_alloc(N ? N : 1, sizeof *k, err);
    if (!k) return PL_ENOMEM;
    int rc = PL_OK;
    for (size_t i = 0; i < N && !rc; i++) {
        unsigned char *p = raw + i * w;
        size_t len = w;
        if (a->h.dtype == PL_DT_STR_U) {
            /* UTF-8 takes at most 4 bytes per 4-byte code unit: encode in place */
            size_t units = w / 4, o = 0;
            while (units > 0) {
                uint32_t u;
                memcpy(&u, p + 4 * (units - 1), 4);
                if (u) break;
                units--;
            }
            for (size_t j = 0; j < units; j++) {
                unsigned char e[4];
                uint32_t u = (uint32_t)load_u(p + 4 * j, 4, a->h.swap);
                size_t el = utf8(u, e);
                if (!el || !u) {
                    rc = pl_err_set(err, PL_EFORMAT, "%s: row %zu holds %s (code point U+%04X); "
                                    "expected text", a->name, i + 1,
                                    u ? "something that is not a character" : "a NUL character",
                                    (unsigned)u);
                    break;
                }
                memcpy(p + o, e, el);
                o += el;
            }
            len = o;
        } else {
            while (len > 0 && p[len - 1] == 0) len--;
            if (memchr(p, 0, len))
                rc = pl_err_set(err, PL_EFORMAT, "%s: row %zu holds a NUL byte inside a label; "
                                "expected text", a->name, i + 1);
        }
        k[i] = (str_key){p, len, i};
    }
    if (rc) { free(k); return rc; }
    qsort(k, N, sizeof *k, cmp_key);
    size_t K = 0;
    for (size_t i = 0; i < N; i++) {
        if (i > 0 && (k[i].len != k[i - 1].len || memcmp(k[i].p, k[i - 1].p, k[i].len))) K++;
        ids[k[i].row] = (int64_t)K;
    }
    K = N ? K + 1 : 0;
    char **nm = pl_alloc(K ? K : 1, sizeof *nm, err);
    if (!nm) { free(k); return PL_ENOMEM; }
    for (size_t i = 0, c = 0; i < N; i++) {
        if (i > 0 && ids[k[i].row] == ids[k[i - 1].row]) continue;
        if (!(nm[c] = malloc(k[i].len + 1))) {
            pl_array_free_names(nm, c);
            free(k);
            return pl_err_set(err, PL_ENOMEM, "out of memory reading the labels of %s", a->name);
        }
        memcpy(nm[c], k[i].p, k[i].len);
        nm[c][k[i].len] = 0;
        c++;
    }
    free(k);
    *names = nm;
    *nnames = K;
    return PL_OK;
}

/* The shortest text that reads back as x (2.0000001, never "2"), into buf. */
static void shortest_text(double x, char *buf, size_t cap) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

int pl_array_load_labels(const char *spec, int role, int64_t **out, size_t *n, char ***names,
                         size_t *nnames, pl_err *err) {
    pl_array a;
    *out = NULL;
    *n = 0;
    if (names) { *names = NULL; *nnames = 0; }
    int rc = pl_array_open(spec, role, &a, err);
    if (rc) return rc;
    const pl_npy *h = &a.h;
    unsigned char *raw = NULL;
    int64_t *r = NULL;
    double *v = NULL;
    if (!(h->ndim == 1 || (h->ndim == 2 && (h->shape[0] == 1 || h->shape[1] == 1)))) {
        rc = pl_err_set(err, PL_EFORMAT, "%s: labels must be a 1-D array; got %d dimensions",
                        a.name, h->ndim);
        goto done;
    }
    if (pl_dtype_is_string(h->dtype) && !names) {
        rc = pl_err_set(err, PL_EFORMAT, "%s holds string labels; this reader takes integer "
                        "labels only", a.name);
        goto done;
    }
    size_t N = h->count;
    raw = pl_alloc(N ? N : 1, h->itemsize, err);
    r = pl_alloc(N ? N : 1, sizeof *r, err);
    if (!raw || !r) { rc = pl_err_prefix(err, "%s", a.name); goto done; }
    if ((rc = pl_array_read_raw(&a, 0, N, raw, err))) goto done;
    if (pl_dtype_is_string(h->dtype)) {
        rc = string_labels(&a, raw, r, names, nnames, err);
        goto done;
    }
    if (h->dtype == PL_DT_I64 || h->dtype == PL_DT_U64) {
        /* exactly: doubles lose integers beyond 2^53 */
        for (size_t i = 0; i < N; i++) {
            uint64_t u = load_u(raw + 8 * i, 8, h->swap);
            if (h->dtype == PL_DT_U64 && u > (uint64_t)INT64_MAX) {
                rc = pl_err_set(err, PL_EFORMAT, "%s: row %zu holds %llu, too large for a label",
                                a.name, i + 1, (unsigned long long)u);
                goto done;
            }
            memcpy(&r[i], &u, 8);
        }
        goto done;
    }
    if (!(v = pl_alloc(N ? N : 1, sizeof *v, err))) {
        rc = pl_err_prefix(err, "%s", a.name);
        goto done;
    }
    pl_npy_convert(h, raw, N, v);
    for (size_t i = 0; i < N; i++) {
        if (!pl_dtype_is_integer(h->dtype) && (!isfinite(v[i]) || v[i] != floor(v[i]))) {
            char num[32];
            shortest_text(v[i], num, sizeof num);
            rc = pl_err_set(err, PL_EFORMAT, "%s: row %zu holds %s; labels must be whole numbers",
                            a.name, i + 1, num);
            goto done;
        }
        /* from 2^53 on, float64 no longer holds every whole number: two ids may have merged */
        if (!pl_dtype_is_integer(h->dtype) && fabs(v[i]) >= 9007199254740992.0) {
            rc = pl_err_set(err, PL_EFORMAT,
                            "%s: row %zu holds %.17g, a %s label beyond 2^53 where distinct ids "
                            "may have been rounded together; store labels as int64",
                            a.name, i + 1, v[i], pl_dtype_name(h->dtype));
            goto done;
        }
        r[i] = (int64_t)v[i];
    }
done:
    if (!rc) {
        *out = r;
        *n = h->count;
        r = NULL;
    }
    free(raw);
    free(r);
    free(v);
    pl_array_close(&a);
    return rc;
}

int pl_npy_load_mat(const char *path, pl_mat *out, pl_err *err) {
    return pl_array_load_mat(path, PL_ARRAY_ANY, out, err);
}

int pl_npy_load_ints(const char *path, int64_t **out, size_t *n, pl_err *err) {
    return pl_array_load_labels(path, PL_ARRAY_LABELS, out, n, NULL, NULL, err);
}

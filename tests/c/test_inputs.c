/* Tests of the input kinds behind one array path: .npz archives (stored, deflated, zip64,
 * member picking, corrupt archives), float16 and bfloat16, string labels, .safetensors, and
 * the files pedlab refuses (pickles, PyTorch, object arrays). Archives are built here, byte
 * by byte, so every directory field can be set as a test needs. Each test's body runs from a
 * wrapper that removes its files whatever the outcome; the builders survive a failed
 * allocation (the test then fails, as under pl_ctest --fail-alloc). */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "../../core/data.h"
#include "../../core/npy.h"
#include "../../core/tensorfile.h"
#include "test.h"

/* ---- building files ---- */

typedef struct {
    unsigned char *b;
    size_t n, cap;
} tbuf;

static void put(tbuf *t, const void *p, size_t n) {
    if (n == 0) return;
    if (t->n + n > t->cap) {
        unsigned char *b = realloc(t->b, (t->n + n) * 2 + 256);
        if (!b) return;   /* out of memory: the file comes out short, and the test fails */
        t->b = b;
        t->cap = (t->n + n) * 2 + 256;
    }
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

static void put16(tbuf *t, unsigned v) {
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(t, b, 2);
}

static void put32(tbuf *t, uint32_t v) {
    put16(t, v & 0xffff);
    put16(t, v >> 16);
}

static void put64(tbuf *t, uint64_t v) {
    put32(t, (uint32_t)v);
    put32(t, (uint32_t)(v >> 32));
}

static void npy_bytes(tbuf *t, const char *descr, const char *shape, const void *data,
                      size_t len) {
    char dict[256];
    int l = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr, shape);
    size_t hlen = (size_t)l + 1, pad = (64 - (10 + hlen) % 64) % 64;
    hlen += pad;
    put(t, "\x93NUMPY\x01\x00", 8);
    put16(t, (unsigned)hlen);
    put(t, dict, (size_t)l);
    for (size_t i = 0; i < pad; i++) put(t, " ", 1);
    put(t, "\n", 1);
    put(t, data, len);
}

typedef struct {
    const char *name;
    tbuf data;
    int deflate;
    unsigned flags;     /* general purpose flags (1: encrypted) */
    int method;         /* overrides the method field when nonzero */
    int64_t usize;      /* overrides the directory's uncompressed size when >= 0 */
    int bad_crc;        /* directory CRC off by one */
} zmember;

/* A zip archive of the members; zip64 puts every size and offset in zip64 records. */
static void build_zip(tbuf *z, zmember *m, int n, int zip64) {
    uint64_t *offs = calloc((size_t)n, sizeof *offs);
    tbuf *comp = calloc((size_t)n, sizeof *comp);
    uint32_t *crc = calloc((size_t)n, sizeof *crc);
    if (!offs || !comp || !crc) {
        free(offs);
        free(comp);
        free(crc);
        return;
    }
    for (int i = 0; i < n; i++) {
        crc[i] = (uint32_t)crc32(0, m[i].data.b, (uInt)m[i].data.n) + (m[i].bad_crc ? 1 : 0);
        if (m[i].deflate) {
            z_stream s;
            memset(&s, 0, sizeof s);
            if (deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) continue;
            uLong bound = deflateBound(&s, m[i].data.n);
            comp[i].b = malloc(bound);
            if (comp[i].b) {
                s.next_in = m[i].data.b;
                s.avail_in = (uInt)m[i].data.n;
                s.next_out = comp[i].b;
                s.avail_out = (uInt)bound;
                if (deflate(&s, Z_FINISH) == Z_STREAM_END) comp[i].n = s.total_out;
            }
            deflateEnd(&s);
        } else {
            put(&comp[i], m[i].data.b, m[i].data.n);
        }
        uint64_t us = m[i].usize >= 0 ? (uint64_t)m[i].usize : m[i].data.n;
        unsigned method = m[i].method ? (unsigned)m[i].method : m[i].deflate ? 8 : 0;
        offs[i] = z->n;
        put32(z, 0x04034b50u);
        put16(z, zip64 ? 45 : 20);
        put16(z, m[i].flags);
        put16(z, method);
        put16(z, 0);
        put16(z, 0x21);
        put32(z, crc[i]);
        put32(z, zip64 ? 0xffffffffu : (uint32_t)comp[i].n);
        put32(z, zip64 ? 0xffffffffu : (uint32_t)us);
        put16(z, (unsigned)strlen(m[i].name));
        put16(z, zip64 ? 20 : 0);
        put(z, m[i].name, strlen(m[i].name));
        if (zip64) {
            put16(z, 1);
            put16(z, 16);
            put64(z, us);
            put64(z, comp[i].n);
        }
        put(z, comp[i].b, comp[i].n);
    }
    uint64_t cd = z->n;
    for (int i = 0; i < n; i++) {
        uint64_t us = m[i].usize >= 0 ? (uint64_t)m[i].usize : m[i].data.n;
        unsigned method = m[i].method ? (unsigned)m[i].method : m[i].deflate ? 8 : 0;
        put32(z, 0x02014b50u);
        put16(z, 45);
        put16(z, zip64 ? 45 : 20);
        put16(z, m[i].flags);
        put16(z, method);
        put16(z, 0);
        put16(z, 0x21);
        put32(z, crc[i]);
        put32(z, zip64 ? 0xffffffffu : (uint32_t)comp[i].n);
        put32(z, zip64 ? 0xffffffffu : (uint32_t)us);
        put16(z, (unsigned)strlen(m[i].name));
        put16(z, zip64 ? 28 : 0);
        put16(z, 0);
        put16(z, 0);
        put16(z, 0);
        put32(z, 0);
        put32(z, zip64 ? 0xffffffffu : (uint32_t)offs[i]);
        put(z, m[i].name, strlen(m[i].name));
        if (zip64) {
            put16(z, 1);
            put16(z, 24);
            put64(z, us);
            put64(z, comp[i].n);
            put64(z, offs[i]);
        }
    }
    uint64_t cdsize = z->n - cd;
    if (zip64) {
        uint64_t rec = z->n;
        put32(z, 0x06064b50u);
        put64(z, 44);
        put16(z, 45);
        put16(z, 45);
        put32(z, 0);
        put32(z, 0);
        put64(z, (uint64_t)n);
        put64(z, (uint64_t)n);
        put64(z, cdsize);
        put64(z, cd);
        put32(z, 0x07064b50u);
        put32(z, 0);
        put64(z, rec);
        put32(z, 1);
    }
    put32(z, 0x06054b50u);
    put16(z, 0);
    put16(z, 0);
    put16(z, zip64 ? 0xffff : (unsigned)n);
    put16(z, zip64 ? 0xffff : (unsigned)n);
    put32(z, zip64 ? 0xffffffffu : (uint32_t)cdsize);
    put32(z, zip64 ? 0xffffffffu : (uint32_t)cd);
    put16(z, 0);
    for (int i = 0; i < n; i++) free(comp[i].b);
    free(comp);
    free(offs);
    free(crc);
}

static char tdir[64];
static void tidy(void);

static const char *tpath(const char *name) {
    static char bufs[4][256];
    static int k;
    if (!tdir[0]) {
        snprintf(tdir, sizeof tdir, "/tmp/pl_test_inputsXXXXXX");
        if (!mkdtemp(tdir)) abort();
    }
    char *b = bufs[k++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tdir, name);
    return b;
}

static char saved[64][256];
static int nsaved;

static void save(const char *name, const tbuf *t) {
    FILE *f = fopen(tpath(name), "wb");
    if (!f) return;
    if (t->n) fwrite(t->b, 1, t->n, f);
    fclose(f);
    for (int i = 0; i < nsaved; i++)
        if (!strcmp(saved[i], tpath(name))) return;
    if (nsaved < 64) snprintf(saved[nsaved++], sizeof saved[0], "%s", tpath(name));
}

/* Remove the files written so far and their folder. */
static void tidy(void) {
    for (int i = 0; i < nsaved; i++) remove(saved[i]);
    nsaved = 0;
    if (tdir[0]) rmdir(tdir);
    tdir[0] = 0;
}

/* 6×3 float32 features (row i: i, 10i, -i/4) and labels 0 1 2 0 1 2 */
static void feature_members(zmember m[2], int deflate) {
    float x[18];
    int64_t y[6];
    for (int i = 0; i < 6; i++) {
        x[3 * i] = (float)i;
        x[3 * i + 1] = 10.0f * (float)i;
        x[3 * i + 2] = -(float)i / 4;
        y[i] = i % 3;
    }
    memset(m, 0, 2 * sizeof *m);
    m[0].name = "features.npy";
    m[1].name = "labels.npy";
    npy_bytes(&m[0].data, "<f4", "(6, 3)", x, sizeof x);
    npy_bytes(&m[1].data, "<i8", "(6,)", y, sizeof y);
    for (int i = 0; i < 2; i++) {
        m[i].deflate = deflate;
        m[i].usize = -1;
    }
}

static void free_members(zmember *m, int n) {
    for (int i = 0; i < n; i++) free(m[i].data.b);
}

/* Reads every row of spec as features and its labels; checks the values above. */
static void check_dataset(const char *spec, const char *labels) {
    pl_err err;
    pl_source *s;
    ASSERT_OK(pl_source_open_array(spec, &s, &err), &err);
    ASSERT(pl_source_rows(s) == 6 && pl_source_cols(s) == 3);
    double x[18];
    ASSERT_OK(pl_source_read(s, 0, 6, x, &err), &err);
    for (int i = 0; i < 6; i++)
        ASSERT(x[3 * i] == i && x[3 * i + 1] == 10.0 * i && x[3 * i + 2] == -i / 4.0);
    pl_source_release(s);
    int64_t *y;
    size_t n;
    ASSERT_OK(pl_npy_load_ints(labels, &y, &n, &err), &err);
    ASSERT(n == 6);
    for (int i = 0; i < 6; i++) ASSERT(y[i] == i % 3);
    free(y);
}

static void body_npz_members(void);
TEST(inputs_npz_members) {
    body_npz_members();
    tidy();
}
static void body_npz_members(void) {
    for (int variant = 0; variant < 4; variant++) {
        zmember m[2];
        tbuf z = {0};
        feature_members(m, variant & 1);
        build_zip(&z, m, 2, variant >> 1);
        save("f.npz", &z);
        check_dataset(tpath("f.npz"), tpath("f.npz"));
        char f[300], l[300];
        snprintf(f, sizeof f, "%s:features", tpath("f.npz"));
        snprintf(l, sizeof l, "%s:labels.npy", tpath("f.npz"));
        check_dataset(f, l);
        free(z.b);
        free_members(m, 2);
        if (tf_failed) return;
    }
}

static void body_npz_default_names(void);
TEST(inputs_npz_default_names) {
    body_npz_default_names();
    tidy();
}
static void body_npz_default_names(void) {
    pl_err err;
    zmember m[3];
    tbuf z = {0};
    feature_members(m, 0);
    m[0].name = "X.npy";
    m[1].name = "y.npy";
    build_zip(&z, m, 2, 0);
    save("xy.npz", &z);
    check_dataset(tpath("xy.npz"), tpath("xy.npz"));
    /* features and x both present: which one is meant is not guessed */
    m[1].name = "features.npy";
    z.n = 0;
    build_zip(&z, m, 2, 0);
    save("both.npz", &z);
    pl_source *s;
    ASSERT_FAILS(pl_source_open_array(tpath("both.npz"), &s, &err), &err, "holds both");
    /* other names: the list of members and how to name one */
    m[0].name = "a.npy";
    m[1].name = "b.npy";
    z.n = 0;
    build_zip(&z, m, 2, 0);
    save("ab.npz", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("ab.npz"), &s, &err), &err,
                 "holds no features array (looked for features, x, X, feats); it holds: a, b");
    char spec[300];
    snprintf(spec, sizeof spec, "%s:zz", tpath("ab.npz"));
    ASSERT_FAILS(pl_source_open_array(spec, &s, &err), &err, "holds no array named 'zz'; it holds: a, b");
    pl_mat mat;
    ASSERT_FAILS(pl_npy_load_mat(tpath("ab.npz"), &mat, &err), &err, "holds 2 arrays (a, b)");
    /* a single array (np.savez(f, x) names it arr_0) serves any role */
    m[0].name = "arr_0.npy";
    z.n = 0;
    build_zip(&z, m, 1, 0);
    save("one.npz", &z);
    ASSERT_OK(pl_source_open_array(tpath("one.npz"), &s, &err), &err);
    ASSERT(strstr(pl_source_name(s), "one.npz:arr_0") != NULL);
    pl_source_release(s);
    pl_array a;
    ASSERT_FAILS(pl_array_open(tpath("one.npz"), PL_ARRAY_LABELS | PL_ARRAY_BY_NAME, &a, &err),
                 &err, "holds no labels array");
    free(z.b);
    free_members(m, 2);
}

/* A stored member whose bytes do not match its CRC: the first full pass fails. */
static void body_npz_corrupt(void);
TEST(inputs_npz_corrupt) {
    body_npz_corrupt();
    tidy();
}
static void body_npz_corrupt(void) {
    pl_err err;
    pl_source *s;
    pl_mat mat;
    zmember m[2];
    tbuf z = {0};
    feature_members(m, 0);
    m[0].bad_crc = 1;
    build_zip(&z, m, 2, 0);
    save("crc.npz", &z);
    ASSERT_OK(pl_source_open_array(tpath("crc.npz"), &s, &err), &err);
    double x[18];
    ASSERT_OK(pl_source_read(s, 0, 3, x, &err), &err);
    ASSERT_FAILS(pl_source_read(s, 3, 3, x, &err), &err, "crc.npz:features: CRC-32 mismatch");
    pl_source_release(s);
    char spec[300];
    snprintf(spec, sizeof spec, "%s:features", tpath("crc.npz"));
    ASSERT_FAILS(pl_npy_load_mat(spec, &mat, &err), &err, "CRC-32 mismatch");
    /* the same deflated: found while inflating */
    m[0].deflate = 1;
    z.n = 0;
    build_zip(&z, m, 2, 0);
    save("crc.npz", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("crc.npz"), &s, &err), &err,
                 "member features.npy: CRC-32 mismatch");
    /* truncated: the directory at the end is gone */
    m[0].bad_crc = 0;
    z.n = 0;
    build_zip(&z, m, 2, 0);
    tbuf half = {z.b, z.n / 2, z.cap};
    save("cut.npz", &half);
    ASSERT_FAILS(pl_source_open_array(tpath("cut.npz"), &s, &err), &err, "cut.npz: truncated zip archive");
    /* a corrupt deflate stream */
    z.b[60] ^= 0x55;
    save("flip.npz", &z);
    int rc = pl_source_open_array(tpath("flip.npz"), &s, &err);
    ASSERT(rc != PL_OK && strstr(err.msg, "flip.npz"));
    /* encrypted, an unsupported method */
    m[0].flags = 1;
    z.n = 0;
    build_zip(&z, m, 2, 0);
    save("enc.npz", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("enc.npz"), &s, &err), &err, "member features.npy is encrypted");
    m[0].flags = 0;
    m[0].method = 14;
    z.n = 0;
    build_zip(&z, m, 2, 0);
    save("lzma.npz", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("lzma.npz"), &s, &err), &err, "compression method 14");
    /* zip bombs: a declared size deflate cannot reach, and a stream longer than declared */
    m[0].method = 0;
    m[0].usize = (int64_t)1 << 40;
    z.n = 0;
    build_zip(&z, m, 2, 1);
    save("bomb.npz", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("bomb.npz"), &s, &err), &err, "more than deflate can produce");
    m[0].usize = 100;
    z.n = 0;
    build_zip(&z, m, 2, 0);
    save("long.npz", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("long.npz"), &s, &err), &err, "inflates to more than the 100 bytes");
    /* a PyTorch checkpoint is a zip too */
    m[0].usize = -1;
    m[0].name = "archive/data.pkl";
    z.n = 0;
    build_zip(&z, m, 1, 0);
    save("model.pt", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("model.pt"), &s, &err), &err, "torch.load(");
    /* a checkpoint saved as a dict: the hint takes the tensor by its key */
    ASSERT(strstr(err.msg, "t = t['KEY'] if isinstance(t, dict) else t") != NULL);
    ASSERT(strstr(err.msg, "t.float().numpy()") != NULL);
    /* a zip named .npy is not read as one */
    save("zip.npy", &z);
    ASSERT_FAILS(pl_source_open_array(tpath("zip.npy"), &s, &err), &err, "zip.npy: not a .npy file");
    free(z.b);
    free_members(m, 2);
}

static void body_float16(void);
TEST(inputs_float16) {
    body_float16();
    tidy();
}
static void body_float16(void) {
    pl_err err;
    /* 0, smallest subnormal, largest subnormal, 1, -2.5, largest normal, -0 */
    uint16_t le[7] = {0x0000, 0x0001, 0x03ff, 0x3c00, 0xc100, 0x7bff, 0x8000};
    double want[7] = {0, 0x1p-24, 1023 * 0x1p-24, 1, -2.5, 65504, -0.0};
    unsigned char be[14];
    for (int i = 0; i < 7; i++) {
        be[2 * i] = (unsigned char)(le[i] >> 8);
        be[2 * i + 1] = (unsigned char)le[i];
    }
    for (int order = 0; order < 2; order++) {
        tbuf t = {0};
        npy_bytes(&t, order ? ">f2" : "<f2", "(7, 1)", order ? (const void *)be : (const void *)le, 14);
        save("h.npy", &t);
        free(t.b);
        pl_source *s;
        ASSERT_OK(pl_source_open_array(tpath("h.npy"), &s, &err), &err);
        double x[7];
        ASSERT_OK(pl_source_read(s, 0, 7, x, &err), &err);
        for (int i = 0; i < 7; i++) ASSERT(x[i] == want[i] && signbit(x[i]) == signbit(want[i]));
        pl_source_release(s);
    }
    uint16_t bad[2] = {0x3c00, 0x7c00};
    tbuf t = {0};
    npy_bytes(&t, "<f2", "(2, 1)", bad, 4);
    save("inf.npy", &t);
    pl_source *s;
    ASSERT_OK(pl_source_open_array(tpath("inf.npy"), &s, &err), &err);
    double x[2];
    ASSERT_FAILS(pl_source_read(s, 0, 2, x, &err), &err, "row 2, column 1 is infinite");
    pl_source_release(s);
    bad[1] = 0x7e00;
    t.n = 0;
    npy_bytes(&t, "<f2", "(2, 1)", bad, 4);
    save("nan.npy", &t);
    ASSERT_OK(pl_source_open_array(tpath("nan.npy"), &s, &err), &err);
    ASSERT_FAILS(pl_source_read(s, 0, 2, x, &err), &err, "row 2, column 1 is NaN");
    pl_source_release(s);
    free(t.b);
}

static void check_names(char **names, size_t k, const char *const *want) {
    for (size_t i = 0; i < k; i++)
        if (strcmp(names[i], want[i])) TF_FAIL("name %zu is '%s', expected '%s'", i, names[i], want[i]);
}

static void body_string_labels(void);
TEST(inputs_string_labels) {
    body_string_labels();
    tidy();
}
static void body_string_labels(void) {
    pl_err err;
    /* np.array(['b', 'a', 'é', 'ab', 'b', '😀']): np.unique gives a, ab, b, é, 😀 */
    uint32_t u[6][2] = {{'b', 0}, {'a', 0}, {0xe9, 0}, {'a', 'b'}, {'b', 0}, {0x1f600, 0}};
    tbuf t = {0};
    npy_bytes(&t, "<U2", "(6,)", u, sizeof u);
    save("u.npy", &t);
    int64_t *y;
    size_t n, k;
    char **names;
    ASSERT_OK(pl_array_load_labels(tpath("u.npy"), PL_ARRAY_LABELS, &y, &n, &names, &k, &err), &err);
    const int64_t want[6] = {2, 0, 3, 1, 2, 4};
    const char *const wn[5] = {"a", "ab", "b", "\xc3\xa9", "\xf0\x9f\x98\x80"};
    ASSERT(n == 6 && k == 5);
    for (int i = 0; i < 6; i++) ASSERT(y[i] == want[i]);
    check_names(names, k, wn);
    free(y);
    pl_array_free_names(names, k);
    /* big-endian */
    unsigned char be[6][8];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 2; j++)
            for (int b = 0; b < 4; b++) be[i][4 * j + b] = (unsigned char)(u[i][j] >> (24 - 8 * b));
    t.n = 0;
    npy_bytes(&t, ">U2", "(6,)", be, sizeof be);
    save("ube.npy", &t);
    ASSERT_OK(pl_array_load_labels(tpath("ube.npy"), PL_ARRAY_LABELS, &y, &n, &names, &k, &err), &err);
    for (int i = 0; i < 6; i++) ASSERT(y[i] == want[i]);
    check_names(names, k, wn);
    free(y);
    pl_array_free_names(names, k);
    /* bytes sort by byte: 'Z' < 'a' < '\xff' */
    const char s[4][2] = {{'a', 0}, {(char)0xff, 0}, {'Z', 'z'}, {'a', 0}};
    t.n = 0;
    npy_bytes(&t, "|S2", "(4,)", s, sizeof s);
    save("s.npy", &t);
    ASSERT_OK(pl_array_load_labels(tpath("s.npy"), PL_ARRAY_LABELS, &y, &n, &names, &k, &err), &err);
    ASSERT(k == 3 && y[0] == 1 && y[1] == 2 && y[2] == 0 && y[3] == 1);
    ASSERT(!strcmp(names[0], "Zz") && !strcmp(names[1], "a"));
    free(y);
    pl_array_free_names(names, k);
    /* integer readers and features refuse strings */
    ASSERT_FAILS(pl_npy_load_ints(tpath("s.npy"), &y, &n, &err), &err, "string labels");
    pl_mat m;
    ASSERT_FAILS(pl_npy_load_mat(tpath("s.npy"), &m, &err), &err, "expected numbers");
    /* a lone surrogate is not text */
    uint32_t bad[2] = {'a', 0xd800};
    t.n = 0;
    npy_bytes(&t, "<U1", "(2,)", bad, sizeof bad);
    save("sur.npy", &t);
    ASSERT_FAILS(pl_array_load_labels(tpath("sur.npy"), PL_ARRAY_LABELS, &y, &n, &names, &k, &err),
                 &err, "row 2 holds something that is not a character");
    free(t.b);
}

static void body_data_open(void);
TEST(inputs_data_open) {
    body_data_open();
    tidy();
}
/* pl_data_open: an .npz holding both arrays (labels NULL), two files, string labels named by
 * their strings, and a missing file (PL_ENOENT, nothing returned). */
static void body_data_open(void) {
    pl_err err;
    pl_data *d;
    zmember m[2];
    tbuf z = {0};
    feature_members(m, 1);
    build_zip(&z, m, 2, 0);
    save("both.npz", &z);
    ASSERT_OK(pl_data_open(tpath("both.npz"), NULL, &d, &err), &err);
    ASSERT(pl_data_rows(d) == 6 && pl_data_dim(d) == 3 && pl_data_classes(d) == 3);
    ASSERT(pl_data_class_names(d) == NULL);
    pl_data_release(d);
    save("x.npy", &m[0].data);
    const char s[6][1] = {{'b'}, {'a'}, {'c'}, {'b'}, {'a'}, {'c'}};
    tbuf t = {0};
    npy_bytes(&t, "|S1", "(6,)", s, sizeof s);
    save("y.npy", &t);
    ASSERT_OK(pl_data_open(tpath("x.npy"), tpath("y.npy"), &d, &err), &err);
    const char *const *names = pl_data_class_names(d);
    ASSERT(pl_data_classes(d) == 3 && names && !strcmp(names[0], "a") && !strcmp(names[2], "c"));
    ASSERT(pl_data_y(d)[0] == 1 && pl_data_y(d)[2] == 2);
    pl_data_release(d);
    d = (pl_data *)&err;
    ASSERT(pl_data_open(tpath("none.npy"), tpath("y.npy"), &d, &err) == PL_ENOENT && !d);
    ASSERT_FAILS(pl_data_open(tpath("x.npy"), NULL, &d, &err), &err, "x.npy");
    ASSERT(!d);
    free(t.b);
    free(z.b);
    free_members(m, 2);
}

static void safetensors_file(tbuf *t, const char *json, const void *data, size_t len) {
    t->n = 0;
    put64(t, strlen(json));
    put(t, json, strlen(json));
    put(t, data, len);
}

static void body_safetensors(void);
TEST(inputs_safetensors) {
    body_safetensors();
    tidy();
}
static void body_safetensors(void) {
    pl_err err;
    /* features: F16 3×2 = [[1, 2], [3, 4], [0.5, -1]], labels: I64 [7, 9, 7] */
    unsigned char data[12 + 24];
    uint16_t h[6] = {0x3c00, 0x4000, 0x4200, 0x4400, 0x3800, 0xbc00};
    int64_t y[3] = {7, 9, 7};
    for (int i = 0; i < 6; i++) {
        data[2 * i] = (unsigned char)h[i];
        data[2 * i + 1] = (unsigned char)(h[i] >> 8);
    }
    for (int i = 0; i < 24; i++) data[12 + i] = (unsigned char)((uint64_t)y[i / 8] >> (8 * (i % 8)));
    tbuf t = {0};
    safetensors_file(&t, "{\"__metadata__\":{\"format\":\"pt\"},"
                         "\"labels\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[12,36]},"
                         "\"features\":{\"dtype\":\"F16\",\"shape\":[3,2],\"data_offsets\":[0,12]}}",
                     data, sizeof data);
    save("m.safetensors", &t);
    pl_source *s;
    ASSERT_OK(pl_source_open_array(tpath("m.safetensors"), &s, &err), &err);
    double x[6];
    ASSERT_OK(pl_source_read(s, 0, 3, x, &err), &err);
    ASSERT(x[0] == 1 && x[1] == 2 && x[2] == 3 && x[3] == 4 && x[4] == 0.5 && x[5] == -1);
    pl_source_release(s);
    int64_t *yy;
    size_t n;
    char spec[300];
    snprintf(spec, sizeof spec, "%s:labels", tpath("m.safetensors"));
    ASSERT_OK(pl_npy_load_ints(spec, &yy, &n, &err), &err);
    ASSERT(n == 3 && yy[0] == 7 && yy[1] == 9 && yy[2] == 7);
    free(yy);
    snprintf(spec, sizeof spec, "%s:nope", tpath("m.safetensors"));
    ASSERT_FAILS(pl_source_open_array(spec, &s, &err), &err, "holds no array named 'nope'; it holds: labels, features");
    /* bfloat16: the top half of a float32 (1.5 = 0x3fc0) */
    uint16_t bf[2] = {0x3fc0, 0xc000};
    safetensors_file(&t, "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[0,4]}}", bf, 4);
    save("bf.safetensors", &t);
    ASSERT_OK(pl_source_open_array(tpath("bf.safetensors"), &s, &err), &err);
    ASSERT_OK(pl_source_read(s, 0, 2, x, &err), &err);
    ASSERT(x[0] == 1.5 && x[1] == -2);
    pl_source_release(s);
    /* offsets that disagree with the shape, a tensor beyond the end */
    safetensors_file(&t, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,4]}}", bf, 4);
    save("bad.safetensors", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("bad.safetensors"), &s, &err), &err, "the shape and dtype need 8");
    safetensors_file(&t, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]}}", bf, 4);
    save("short.safetensors", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("short.safetensors"), &s, &err), &err, "truncated");
    safetensors_file(&t, "{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", bf, 4);
    save("c.safetensors", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("c.safetensors"), &s, &err), &err, "unsupported safetensors dtype 'C64'");
    free(t.b);
}

static void body_safetensors_overlap(void);
TEST(inputs_safetensors_overlap) {
    body_safetensors_overlap();
    tidy();
}
static void body_safetensors_overlap(void) {
    pl_err err;
    pl_source *s;
    tbuf t = {0};
    unsigned char data[48] = {0};
    /* labels lying inside the features' bytes: the format forbids overlapping tensors */
    safetensors_file(&t, "{\"features\":{\"dtype\":\"F64\",\"shape\":[3,2],\"data_offsets\":[0,48]},"
                         "\"labels\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[16,40]}}",
                     data, sizeof data);
    save("ov.safetensors", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("ov.safetensors"), &s, &err), &err,
                 "tensors 'features' and 'labels' overlap");
    /* touching is fine, an empty tensor anywhere too */
    safetensors_file(&t, "{\"features\":{\"dtype\":\"F64\",\"shape\":[3,1],\"data_offsets\":[0,24]},"
                         "\"e\":{\"dtype\":\"F64\",\"shape\":[0],\"data_offsets\":[8,8]},"
                         "\"labels\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[24,48]}}",
                     data, sizeof data);
    save("ok.safetensors", &t);
    ASSERT_OK(pl_source_open_array(tpath("ok.safetensors"), &s, &err), &err);
    pl_source_release(s);
    /* a header nested deeper than cJSON parses: said so, with where */
    size_t deep = 50000;
    char *j = malloc(2 * deep + 64);
    ASSERT(j != NULL);
    size_t k = 0;
    k += (size_t)sprintf(j, "{\"__metadata__\":");
    for (size_t i = 0; i < deep; i++) j[k++] = '[';
    for (size_t i = 0; i < deep; i++) j[k++] = ']';
    j[k++] = '}';
    j[k] = 0;
    safetensors_file(&t, j, data, 0);
    free(j);
    save("deep.safetensors", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("deep.safetensors"), &s, &err), &err,
                 "not valid JSON (at byte");
    free(t.b);
}

static void body_refused(void);
TEST(inputs_refused) {
    body_refused();
    tidy();
}
static void body_refused(void) {
    pl_err err;
    pl_source *s;
    tbuf t = {0};
    put(&t, "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}q\x00.", 15);
    save("d.pkl", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("d.pkl"), &s, &err), &err, "pickle.load(open(");
    save("old.pth", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("old.pth"), &s, &err), &err, "never unpickles; convert the tensor once with: python3 -c");
    t.n = 0;
    npy_bytes(&t, "|O", "(2,)", "\x80\x02]q\x00.\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 16);
    save("obj.npy", &t);
    int64_t *y;
    size_t n;
    ASSERT_FAILS(pl_npy_load_ints(tpath("obj.npy"), &y, &n, &err), &err, "obj-plain.npy', np.array(np.load(");
    t.n = 0;
    put(&t, "hello, world", 12);
    save("text.bin", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("text.bin"), &s, &err), &err, "not a .npy, .npz or .safetensors file");
    save("text.npz", &t);
    ASSERT_FAILS(pl_source_open_array(tpath("text.npz"), &s, &err), &err, "text.npz: not a .npz file");
    char spec[300];
    snprintf(spec, sizeof spec, "%s:x", tf_path("blobs_small", "features.npy"));
    ASSERT(pl_source_open_array(spec, &s, &err) != PL_OK);
    free(t.b);
}

/* Every one of the 65536 float16 values against the definition (−1)^s · 2^(e−15) · (1 + m/1024),
 * subnormals 2^−14 · m/1024, in both byte orders. */
static void body_float16_all_values(void);
TEST(inputs_float16_all_values) {
    body_float16_all_values();
    tidy();
}
static void body_float16_all_values(void) {
    uint16_t *v = malloc(65536 * sizeof *v);
    unsigned char *be = malloc(2 * 65536);
    double *out = malloc(65536 * sizeof *out);
    ASSERT(v && be && out);
    for (unsigned i = 0; i < 65536; i++) {
        v[i] = (uint16_t)i;
        be[2 * i] = (unsigned char)(i >> 8);
        be[2 * i + 1] = (unsigned char)i;
    }
    pl_npy h;
    memset(&h, 0, sizeof h);
    h.dtype = PL_DT_F16;
    h.itemsize = 2;
    const uint16_t one = 1;
    int little = *(const unsigned char *)&one == 1;
    for (int order = 0; order < 2; order++) {
        h.swap = order ? little : !little;
        pl_npy_convert(&h, order ? (const void *)be : (const void *)v, 65536, out);
        for (unsigned i = 0; i < 65536; i++) {
            unsigned e = (i >> 10) & 0x1f, m = i & 0x3ff;
            double want = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? (double)NAN : (double)INFINITY)
                                                           : ldexp(1024 + m, (int)e - 25);
            if (i & 0x8000) want = -want;
            if (isnan(want) ? !isnan(out[i]) : (out[i] != want || signbit(out[i]) != signbit(want)))
                TF_FAIL("float16 0x%04x: %.17g, expected %.17g (order %d)", i, out[i], want, order);
        }
    }
    free(v);
    free(be);
    free(out);
}

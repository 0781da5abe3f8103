/* fuzz_npy.c — the input-array readers: pl_npy_parse on the raw bytes, then the same bytes as
 * a file through pl_npy_load_mat, pl_npy_load_ints, the string-label reader and the streamed
 * pl_source (every row read), and fuzzed labels through pl_data_new (the np.unique-like
 * remapping). The file has no extension, so its content picks the reader: .npy, .npz (the zip
 * directory, inflation, CRC checks) and .safetensors (seeds of each in corpus/npy). */
#include <math.h>
#include <string.h>

#include "data.h"
#include "fuzz_common.h"
#include "npy.h"
#include "tensorfile.h"

/* Elements a valid input of size bytes can hold: deflate expands at most 1032:1. */
static size_t max_elements(const uint8_t *data, size_t size) {
    return size >= 2 && data[0] == 'P' && data[1] == 'K' ? size * 1032 : size;
}

static void check_labels(const int64_t *y, size_t n) {
    /* any n integer ids: a dataset of n rows; >= 2 distinct ids must work, 1 must be refused */
    pl_err err;
    pl_mat m;
    if (n == 0 || n > 1 << 16) return;
    if (pl_mat_init(&m, n, 1, &err)) abort();
    for (size_t i = 0; i < n; i++) m.data[i] = (double)i;
    pl_source *src;
    if (pl_source_from_mat(&m, "<x>", &src, &err)) abort();
    pl_mat_release(&m);
    pl_data *d;
    int rc = pl_data_new(src, y, n, "<labels>", &d, &err);
    fuzz_check_err(rc, &err, "pl_data_new");
    int distinct = 0;
    for (size_t i = 1; i < n && !distinct; i++) distinct = y[i] != y[0];
    if ((rc == PL_OK) != distinct) {
        fprintf(stderr, "pl_data_new: rc %d with %s ids\n", rc, distinct ? "distinct" : "equal");
        abort();
    }
    if (rc == PL_OK) {
        size_t C = pl_data_classes(d), total = 0;
        const int *yy = pl_data_y(d);
        const int64_t *ids = pl_data_class_ids(d);
        for (size_t c = 0; c < C; c++) {
            total += pl_data_counts(d)[c];
            if (pl_data_counts(d)[c] == 0 || (c > 0 && ids[c] <= ids[c - 1])) abort();
        }
        if (total != n) abort();
        for (size_t i = 0; i < n; i++)
            if (yy[i] < 0 || (size_t)yy[i] >= C || ids[yy[i]] != y[i]) abort();
        const pl_stats *st;
        rc = pl_data_stats(d, 1, &st, &err);
        fuzz_check_err(rc, &err, "pl_data_stats");
        pl_data_release(d);
    }
    pl_source_release(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pl_err err;
    pl_npy h;
    int rc = pl_npy_parse(data, size, "fuzz.npy", &h, &err);
    fuzz_check_err(rc, &err, "pl_npy_parse");
    if (rc == PL_OK && (h.data_offset > size || h.ndim > PL_NPY_MAXDIM)) abort();
    /* NumPy refuses a header holding a NUL byte: so must we */
    if (rc == PL_OK && memchr(data + (data[6] == 1 ? 10 : 12), 0,
                              h.data_offset - (data[6] == 1 ? 10 : 12)))
        abort();

    const char *path = fuzz_file(data, size);
    pl_mat m;
    rc = pl_npy_load_mat(path, &m, &err);
    fuzz_check_err(rc, &err, "pl_npy_load_mat");
    if (rc == PL_OK) {
        /* the data had to be in the file: rows·cols elements of at least one byte */
        if (m.rows * m.cols > max_elements(data, size)) abort();
        pl_mat_release(&m);
    }

    int64_t *y;
    size_t n;
    rc = pl_npy_load_ints(path, &y, &n, &err);
    fuzz_check_err(rc, &err, "pl_npy_load_ints");
    if (rc == PL_OK) {
        check_labels(y, n);
        free(y);
    }

    char **names;
    size_t k;
    rc = pl_array_load_labels(path, PL_ARRAY_LABELS, &y, &n, &names, &k, &err);
    fuzz_check_err(rc, &err, "pl_array_load_labels");
    if (rc == PL_OK) {
        /* ids 0..k-1, every one used, names strictly ascending (np.unique's order) */
        for (size_t i = 0; names && i < n; i++)
            if (y[i] < 0 || (size_t)y[i] >= k) abort();
        for (size_t c = 1; names && c < k; c++)
            if (strcmp(names[c - 1], names[c]) >= 0) abort();
        free(y);
        pl_array_free_names(names, k);
    }

    pl_source *s;
    rc = pl_source_open_array(path, &s, &err);
    fuzz_check_err(rc, &err, "pl_source_open_array");
    if (rc == PL_OK) {
        size_t N = pl_source_rows(s), D = pl_source_cols(s);
        if (N * D > max_elements(data, size)) abort();
        if (N > 0 && D > 0) {
            size_t B = 7; /* odd block size: exercises partial blocks */
            double *buf = calloc(B * D, sizeof *buf);
            if (!buf) abort();
            for (size_t r0 = 0; r0 < N; r0 += B) {
                size_t nr = N - r0 < B ? N - r0 : B;
                rc = pl_source_read(s, r0, nr, buf, &err);
                fuzz_check_err(rc, &err, "pl_source_read");
                if (rc) break;
                for (size_t i = 0; i < nr * D; i++)
                    if (!isfinite(buf[i])) abort(); /* non-finite values must be refused */
            }
            free(buf);
        }
        pl_source_release(s);
    }
    return 0;
}

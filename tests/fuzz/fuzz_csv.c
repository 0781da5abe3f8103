/* fuzz_csv.c — the CSV reader (pl_csv_load through libcsv), then, when the table is numeric
 * and small, a dataset from it (column 1 = labels, the rest = features) scored by every
 * feature metric: each must give a finite score or an error with a message. */
#include <math.h>

#include "csvfile.h"
#include "data.h"
#include "fuzz_common.h"
#include "metrics/metric.h"

static void score_all(const pl_mat *t) {
    pl_err err;
    size_t N = t->rows, D = t->cols - 1;
    int64_t *y = malloc(N * sizeof *y);
    pl_mat x;
    if (!y || pl_mat_init(&x, N, D, &err)) abort();
    for (size_t i = 0; i < N; i++) {
        double v = PL_AT(t, i, 0);
        if (!isfinite(v) || v != floor(v) || fabs(v) > 9e15) { free(y); pl_mat_release(&x); return; }
        y[i] = (int64_t)v;
        for (size_t j = 0; j < D; j++) PL_AT(&x, i, j) = PL_AT(t, i, j + 1);
    }
    pl_source *src;
    if (pl_source_from_mat(&x, "<csv>", &src, &err)) abort();
    pl_mat_release(&x);
    pl_data *d;
    int rc = pl_data_new(src, y, N, "<labels>", &d, &err);
    fuzz_check_err(rc, &err, "pl_data_new");
    pl_source_release(src);
    free(y);
    if (rc) return;
    static const pl_kv parc_dims[] = {{"dims", "2"}}, nleep_ratio[] = {{"ratio", "1"}},
                       gbc_sph[] = {{"type", "spherical"}}, gbc_pca[] = {{"pca", "2"}};
    static const struct { const char *name; const pl_kv *kv; size_t n; } runs[] = {
        {"logme", NULL, 0}, {"logme_icml", NULL, 0}, {"sfda", NULL, 0}, {"gbc", NULL, 0},
        {"gbc", gbc_sph, 1}, {"gbc", gbc_pca, 1}, {"nleep", nleep_ratio, 1}, {"hscore", NULL, 0},
        {"hscore_reg", NULL, 0}, {"transrate", NULL, 0}, {"parc", parc_dims, 1},
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        pl_opts o = {runs[k].kv, runs[k].n, 0};
        double v;
        rc = pl_metric_score(runs[k].name, d, &o, &v, &err);
        fuzz_check_err(rc, &err, runs[k].name);
        if (rc == PL_OK && !isfinite(v)) abort();
        if (rc && !fuzz_lax() && !strstr(err.msg, runs[k].name) && !strstr(err.msg, "<csv>") &&
            !strstr(err.msg, "<labels>")) {
            fprintf(stderr, "%s: the message names neither the metric nor the data: %s\n", runs[k].name, err.msg);
            abort();
        }
    }
    pl_data_release(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    pl_err err;
    pl_mat m;
    char **hdr = NULL;
    int rc = pl_csv_load(path, &m, &hdr, &err);
    fuzz_check_err(rc, &err, "pl_csv_load");
    if (rc) {
        if (!fuzz_lax() && !strstr(err.msg, path) && err.code != PL_ENOMEM) {
            fprintf(stderr, "pl_csv_load: the message does not name the file: %s\n", err.msg);
            abort();
        }
        return 0;
    }
    if (hdr) {
        for (size_t j = 0; j < m.cols; j++)
            if (!hdr[j]) abort();
        pl_csv_free_header(hdr, m.cols);
    }
    if (m.rows >= 2 && m.cols >= 2 && m.rows * m.cols <= 4096) score_all(&m);
    pl_mat_release(&m);
    return 0;
}

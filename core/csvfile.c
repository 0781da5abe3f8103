/* csvfile.c — numeric CSV through libcsv (the parser: quoting, CRLF, embedded separators). */
#include "csvfile.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

typedef struct {
    const char *path;
    pl_err *err;
    int rc;
    size_t row, col, cols;        /* row: 0-based record index */
    int has_header;
    char **header;
    double *vals;
    size_t nvals, cap;
    char **first;                 /* first record's fields, to decide header or data */
    size_t nfirst;
} reader;

static int parse_num(const char *s, size_t n, double *out) {
    char buf[128];
    if (memchr(s, 0, n)) return 0; /* a NUL byte: binary data, never a number */
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno == ERANGE) return 0;
    *out = v;
    return 1;
}

static int push_val(reader *r, double v) {
    if (r->nvals == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 1024;
        double *nv = realloc(r->vals, nc * sizeof *nv);
        if (!nv) return pl_err_set(r->err, PL_ENOMEM, "out of memory reading %s", r->path);
        r->vals = nv;
        r->cap = nc;
    }
    r->vals[r->nvals++] = v;
    return PL_OK;
}

static void on_field(void *s, size_t n, void *ud) {
    reader *r = ud;
    if (r->rc) return;
    if (memchr(s, 0, n)) {
        r->rc = pl_err_set(r->err, PL_EFORMAT, "%s: row %zu, column %zu holds a NUL byte; expected "
                           "text (is it a binary file?)",
                           r->path, r->row + 1, r->col + 1);
        return;
    }
    if (r->row == 0) {
        char **nf = realloc(r->first, (r->nfirst + 1) * sizeof *nf);
        char *copy = malloc(n + 1);
        if (!nf || !copy) {
            free(copy);
            if (nf) r->first = nf;
            r->rc = pl_err_set(r->err, PL_ENOMEM, "out of memory reading %s", r->path);
            return;
        }
        r->first = nf;
        memcpy(copy, s, n);
        copy[n] = 0;
        r->first[r->nfirst++] = copy;
        r->col++;
        return;
    }
    double v;
    if (!parse_num(s, n, &v)) {
        char shown[48];
        size_t k = 0;
        for (size_t i = 0; i < n && k < 40; i++) {
            unsigned char ch = ((const unsigned char *)s)[i];
            shown[k++] = (ch < 32 || ch == 127) ? '?' : (char)ch; /* one line, printable */
        }
        shown[k] = 0;
        r->rc = pl_err_set(r->err, PL_EFORMAT, "%s: row %zu, column %zu: '%s%s' is not a number",
                           r->path, r->row + 1, r->col + 1, shown, n > 40 ? "..." : "");
        return;
    }
    if (r->col >= r->cols) {
        r->rc = pl_err_set(r->err, PL_EFORMAT, "%s: row %zu has more than %zu columns", r->path,
                           r->row + 1, r->cols);
        return;
    }
    r->rc = push_val(r, v);
    r->col++;
}

static void on_row(int c, void *ud) {
    reader *r = ud;
    (void)c;
    if (r->rc) return;
    if (r->row == 0) {
        r->cols = r->nfirst;
        int numeric = 1;
        double v;
        for (size_t i = 0; i < r->nfirst; i++)
            if (!parse_num(r->first[i], strlen(r->first[i]), &v)) numeric = 0;
        if (numeric) {
            for (size_t i = 0; i < r->nfirst && !r->rc; i++) {
                parse_num(r->first[i], strlen(r->first[i]), &v);
                r->rc = push_val(r, v);
            }
        } else {
            r->has_header = 1;
        }
    } else if (r->col != r->cols) {
        r->rc = pl_err_set(r->err, PL_EFORMAT, "%s: row %zu has %zu columns; expected %zu "
                           "(ragged CSV)",
                           r->path, r->row + 1, r->col, r->cols);
        return;
    }
    r->row++;
    r->col = 0;
}

void pl_csv_free_header(char **header, size_t cols) {
    if (!header) return;
    for (size_t i = 0; i < cols; i++) free(header[i]);
    free(header);
}

int pl_csv_load(const char *path, pl_mat *out, char ***header, pl_err *err) {
    memset(out, 0, sizeof *out);
    if (header) *header = NULL;
    char *text;
    size_t len;
    int rc = pl_read_file(path, &text, &len, err);
    if (rc) return rc;
    struct csv_parser p;
    reader r = {path, err, PL_OK, 0, 0, 0, 0, NULL, NULL, 0, 0, NULL, 0};
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        free(text);
        return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", path);
    }
    if (csv_parse(&p, text, len, on_field, on_row, &r) != len && !r.rc)
        r.rc = pl_err_set(err, PL_EFORMAT, "%s: %s", path, csv_strerror(csv_error(&p)));
    if (!r.rc) csv_fini(&p, on_field, on_row, &r);
    csv_free(&p);
    free(text);
    rc = r.rc;
    size_t data_rows = r.row - (size_t)r.has_header;
    if (!rc && (r.row == 0 || r.cols == 0)) rc = pl_err_set(err, PL_EFORMAT, "%s: no data", path);
    if (!rc) rc = pl_mat_init(out, data_rows, r.cols, err);
    if (!rc) {
        if (data_rows) memcpy(out->data, r.vals, data_rows * r.cols * sizeof(double));
        if (header && r.has_header) {
            *header = r.first;
            r.first = NULL;
        }
    }
    pl_csv_free_header(r.first, r.nfirst);
    free(r.vals);
    return rc;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double: 96.907, not
 * 96.906999999999996 (exact either way). */
static void put_number(FILE *f, double v) {
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v || v != v) break;
    }
    fputs(buf, f);
}

/* A text field: quoted when it holds a comma, quote or line break; one starting with = + - @,
 * tab or CR gets a ' before it, quoted (a spreadsheet would run it as a formula: OWASP's rule,
 * as util.csv_field for the report tables). */
static void put_field(FILE *f, const char *s) {
    int formula = *s && strchr("=+-@\t\r", *s);
    if (!formula && !strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula) fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int pl_csv_save(const char *path, const pl_mat *m, const char *const *header, pl_err *err) {
    pl_atomic a;
    int rc = pl_atomic_begin(&a, path, err);
    if (rc) return rc;
    if (header) {
        for (size_t j = 0; j < m->cols; j++) {
            if (j) fputc(',', a.f);
            put_field(a.f, header[j]);
        }
        fputc('\n', a.f);
    }
    for (size_t i = 0; i < m->rows; i++) {
        for (size_t j = 0; j < m->cols; j++) {
            if (j) fputc(',', a.f);
            put_number(a.f, PL_AT(m, i, j));
        }
        fputc('\n', a.f);
    }
    return pl_atomic_commit(&a, err);
}

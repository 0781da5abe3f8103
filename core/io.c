/* io.c — atomic writes (temp file + fsync + rename) and whole-file reads. */
#include "io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int pl_atomic_begin(pl_atomic *a, const char *path, pl_err *err) {
    a->f = NULL;
    a->path = dup_str(path);
    size_t n = strlen(path) + 16;
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        pl_atomic_abort(a);
        return pl_err_set(err, PL_ENOMEM, "out of memory");
    }
    snprintf(a->tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        free(a->tmp);
        a->tmp = NULL;
        pl_atomic_abort(a);
        return pl_err_set(err, PL_EIO, "cannot write %s: %s", path, strerror(e));
    }
    /* mkstemp creates the file 0600; give the result the mode a plain fopen would */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) { /* not fatal: the content is still right */ }
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        close(fd);
        pl_atomic_abort(a);
        return pl_err_set(err, PL_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    return PL_OK;
}

int pl_atomic_commit(pl_atomic *a, pl_err *err) {
    int bad = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int e = errno;
    if (fclose(a->f) != 0 && !bad) { bad = 1; e = errno; }
    a->f = NULL;
    if (bad) {
        int rc = pl_err_set(err, PL_EIO, "cannot write %s: %s", a->path, strerror(e));
        pl_atomic_abort(a);
        return rc;
    }
    if (rename(a->tmp, a->path) != 0) {
        int rc = pl_err_set(err, PL_EIO, "cannot replace %s: %s", a->path, strerror(errno));
        pl_atomic_abort(a);
        return rc;
    }
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
    return PL_OK;
}

void pl_atomic_abort(pl_atomic *a) {
    if (a->f) fclose(a->f);
    if (a->tmp) remove(a->tmp);
    free(a->tmp);
    free(a->path);
    a->f = NULL;
    a->tmp = a->path = NULL;
}

int pl_write_file_atomic(const char *path, const void *data, size_t len, pl_err *err) {
    pl_atomic a;
    int rc = pl_atomic_begin(&a, path, err);
    if (rc) return rc;
    if (len && fwrite(data, 1, len, a.f) != len) {
        rc = pl_err_set(err, PL_EIO, "cannot write %s: %s", path, strerror(errno));
        pl_atomic_abort(&a);
        return rc;
    }
    return pl_atomic_commit(&a, err);
}

int pl_read_file(const char *path, char **out, size_t *len, pl_err *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return pl_err_set(err, errno == ENOENT ? PL_ENOENT : PL_EIO, "cannot open %s: %s", path,
                          strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", path);
    if (bad) {
        free(buf);
        return pl_err_set(err, PL_EIO, "cannot read %s", path);
    }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return PL_OK;
}

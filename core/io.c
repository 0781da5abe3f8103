/* io.c — inputs (non-blocking, noted), outputs (checked, atomic or streamed), folders and
 * journals. */
#include "io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* "WHAT: " or "" */
#define WHAT_FMT "%s%s"
#define WHAT_ARGS(w) (w) ? (w) : "", (w) ? ": " : ""

/* A write past the file size limit (ulimit -f) would kill the process by SIGXFSZ, leaving a
 * torn journal or a temporary file; ignored, the write fails with EFBIG and is reported and
 * undone like a full disk. Set once, from the first use of this file's functions, and only
 * when the signal is at its default (a program that handles it keeps its handler). */
static void ignore_file_size_signal(void) {
    static int done;
    if (done) return;
    done = 1;
    struct sigaction sa;
    if (sigaction(SIGXFSZ, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGXFSZ, &sa, NULL);
    }
}

/* ---------- inputs ---------- */

/* Every input of the process, by device + inode. The list only grows: a process reads tens of
 * files, and an input stays protected after it is closed (its data may still be in use). The
 * change time is kept too: once an input is deleted its inode number may be reused by a new
 * file (an output of this run, often), which must not be mistaken for the input. */
typedef struct {
    dev_t dev;
    ino_t ino;
    struct timespec ctime;
    char *name;
} noted_input;

static noted_input *inputs;
static size_t n_inputs, cap_inputs;

static const noted_input *find_input(const struct stat *st) {
    for (size_t i = 0; i < n_inputs; i++)
        if (inputs[i].dev == st->st_dev && inputs[i].ino == st->st_ino &&
            inputs[i].ctime.tv_sec == st->st_ctim.tv_sec &&
            inputs[i].ctime.tv_nsec == st->st_ctim.tv_nsec)
            return &inputs[i];
    return NULL;
}

static void note_stat(const struct stat *st, const char *path) {
    if (!S_ISREG(st->st_mode) || find_input(st)) return;
    for (size_t i = 0; i < n_inputs; i++)
        if (inputs[i].dev == st->st_dev && inputs[i].ino == st->st_ino) {
            /* the same inode changed or reused since: it is this input now (one entry per
             * inode, so a process rereading a rewritten file does not grow the list) */
            char *name = dup_str(path);
            if (name) {
                free(inputs[i].name);
                inputs[i].name = name;
            }
            inputs[i].ctime = st->st_ctim;
            return;
        }
    if (n_inputs == cap_inputs) {
        size_t nc = cap_inputs ? cap_inputs * 2 : 16;
        noted_input *ni = realloc(inputs, nc * sizeof *ni);
        if (!ni) return;
        inputs = ni;
        cap_inputs = nc;
    }
    char *name = dup_str(path);
    if (!name) return;
    inputs[n_inputs].dev = st->st_dev;
    inputs[n_inputs].ino = st->st_ino;
    inputs[n_inputs].ctime = st->st_ctim;
    inputs[n_inputs].name = name;
    n_inputs++;
}

int pl_input_note(const char *path, pl_err *err) {
    struct stat st;
    if (stat(path, &st) != 0)
        return pl_err_set(err, errno == ENOENT ? PL_ENOENT : PL_EIO, "cannot open %s: %s", path,
                          strerror(errno));
    note_stat(&st, path);
    return PL_OK;
}

static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int pl_input_open_kind(const char *path, const char *kind, int *fd, pl_err *err) {
    ignore_file_size_signal();
    *fd = -1;
    if (!*path)
        return pl_err_set(err, PL_EINVAL, "empty file name; expected %s", kind ? kind : "a file");
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0)
        return pl_err_set(err, errno == ENOENT ? PL_ENOENT : PL_EIO, "cannot open %s: %s", path,
                          strerror(errno));
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return pl_err_set(err, PL_EIO, "cannot open %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return pl_err_set(err, PL_EIO, "%s is %s; expected %s", path, file_kind(st.st_mode),
                          kind ? kind : S_ISDIR(st.st_mode) ? "a file" : "a regular file");
    }
    int fl = fcntl(f, F_GETFL);
    if (fl == -1 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) == -1) {
        int e = errno;
        close(f);
        return pl_err_set(err, PL_EIO, "cannot open %s: %s", path, strerror(e));
    }
    note_stat(&st, path);
    *fd = f;
    return PL_OK;
}

int pl_input_open(const char *path, int *fd, pl_err *err) {
    return pl_input_open_kind(path, NULL, fd, err);
}

/* The whole content of the regular file fd (read from offset 0 with pread) into a
 * NUL-terminated malloc'd buffer; path names it in messages. */
static int read_whole(int fd, const char *path, char **out, size_t *len, pl_err *err) {
    size_t cap = 1 << 12, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        ssize_t got = pread(fd, buf + n, cap - n, (off_t)n);
        if (got < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            return pl_err_set(err, PL_EIO, "cannot read %s: %s", path, strerror(e));
        }
        if (got == 0) break;
        n += (size_t)got;
        if (n < cap) continue;
        char *nb = cap <= SIZE_MAX / 4 ? realloc(buf, cap * 2 + 1) : NULL;
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    if (!buf) return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", path);
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return PL_OK;
}

int pl_read_file(const char *path, char **out, size_t *len, pl_err *err) {
    *out = NULL;
    if (len) *len = 0;
    int fd;
    int rc = pl_input_open(path, &fd, err);
    if (rc) return rc;
    rc = read_whole(fd, path, out, len, err);
    close(fd);
    return rc;
}

/* ---------- outputs ---------- */

/* The folder part of path ("." when there is none), malloc'd. */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return dup_str(".");
    if (slash == path) return dup_str("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

/* Follow symbolic links at path (also a dangling one) to the file that will be replaced.
 * *out is malloc'd. */
static int resolve_links(const char *path, char **out, pl_err *err) {
    char *p = dup_str(path);
    if (!p) return pl_err_set(err, PL_ENOMEM, "out of memory resolving links of %s", path);
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode)) break;
        if (hops == 40) {
            free(p);
            return pl_err_set(err, PL_EIO, "cannot write %s: %s", path, strerror(ELOOP));
        }
        char target[PATH_MAX];
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n < 0) {
            int e = errno;
            free(p);
            return pl_err_set(err, PL_EIO, "cannot write %s: %s", path, strerror(e));
        }
        target[n] = 0;
        char *next;
        if (target[0] == '/') {
            next = dup_str(target);
        } else {
            char *dir = folder_of(p);
            size_t len = dir ? strlen(dir) + 1 + (size_t)n + 1 : 0;
            next = dir ? malloc(len) : NULL;
            if (next) snprintf(next, len, "%s/%s", dir, target);
            free(dir);
        }
        free(p);
        if (!next) return pl_err_set(err, PL_ENOMEM, "out of memory resolving links of %s", path);
        p = next;
    }
    *out = p;
    return PL_OK;
}

/* Check the resolved destination dest (path as given is used in messages). */
static int check_dest(const char *path, const char *dest, const char *what, pl_err *err) {
    struct stat st;
    if (stat(dest, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return pl_err_set(err, PL_EINVAL, WHAT_FMT "%s is a directory; expected a file path",
                              WHAT_ARGS(what), path);
        if (S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))
            return pl_err_set(err, PL_EINVAL, WHAT_FMT "%s is %s; expected a regular file",
                              WHAT_ARGS(what), path, file_kind(st.st_mode));
        const noted_input *in = find_input(&st);
        if (in) {
            if (strcmp(in->name, path) == 0)
                return pl_err_set(err, PL_EINVAL, WHAT_FMT "%s is an input of this run; refusing "
                                  "to overwrite it (choose another output path)", WHAT_ARGS(what),
                                  path);
            return pl_err_set(err, PL_EINVAL, WHAT_FMT "%s is the input %s of this run; refusing "
                              "to overwrite it (choose another output path)", WHAT_ARGS(what),
                              path, in->name);
        }
        return PL_OK;
    }
    if (errno != ENOENT && errno != ENOTDIR)
        return pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s", WHAT_ARGS(what), path,
                          strerror(errno));
    char *dir = folder_of(dest);
    if (!dir) return pl_err_set(err, PL_ENOMEM, "out of memory checking the folder of %s", path);
    int rc = PL_OK;
    if (stat(dir, &st) != 0)
        rc = pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: folder %s %s", WHAT_ARGS(what),
                        path, dir, errno == ENOENT ? "does not exist" : strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        rc = pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s is not a folder",
                        WHAT_ARGS(what), path, dir);
    free(dir);
    return rc;
}

/* The descriptor a name stands for: /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N
 * (written through a duplicate of it, at its current offset, like a shell redirection); -1
 * for any other name. */
static int fd_of_name(const char *path) {
    if (!strcmp(path, "/dev/stdout")) return 1;
    if (!strcmp(path, "/dev/stderr")) return 2;
    const char *p = !strncmp(path, "/dev/fd/", 8) ? path + 8
                  : !strncmp(path, "/proc/self/fd/", 14) ? path + 14 : NULL;
    if (!p || *p < '0' || *p > '9') return -1;
    char *end;
    long v = strtol(p, &end, 10);
    return *end || v > INT_MAX ? -1 : (int)v;
}

static int check_fd_output(const char *path, int fd, const char *what, pl_err *err) {
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1 || (fl & O_ACCMODE) == O_RDONLY)
        return pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s", WHAT_ARGS(what), path,
                          fl == -1 ? strerror(errno) : "not open for writing");
    return PL_OK;
}

int pl_output_check(const char *path, const char *what, pl_err *err) {
    ignore_file_size_signal();
    if (!path || !*path)
        return pl_err_set(err, PL_EINVAL, WHAT_FMT "empty output path; expected a file name",
                          WHAT_ARGS(what));
    int fd = fd_of_name(path);
    if (fd >= 0) return check_fd_output(path, fd, what, err);
    char *dest;
    int rc = resolve_links(path, &dest, err);
    if (rc) return rc;
    rc = check_dest(path, dest, what, err);
    free(dest);
    return rc;
}

static void atomic_clear(pl_atomic *a) {
    free(a->path);
    free(a->dest);
    free(a->tmp);
    a->f = NULL;
    a->path = a->dest = a->tmp = NULL;
}

/* a->f on fd (a device, FIFO or descriptor of this process): written in place, never
 * replaced. fd < 0: the error of the open (errno). */
static int open_stream(pl_atomic *a, int fd, pl_err *err) {
    int e = errno;
    a->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!a->f) {
        if (fd >= 0) {
            e = errno;
            close(fd);
        }
        int rc = pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s", WHAT_ARGS(a->what),
                            a->path, strerror(e));
        atomic_clear(a);
        return rc;
    }
    return PL_OK;
}

int pl_atomic_begin_what(pl_atomic *a, const char *path, const char *what, pl_err *err) {
    ignore_file_size_signal();
    memset(a, 0, sizeof *a);
    a->what = what;
    if (!path || !*path) return pl_output_check(path, what, err);
    a->path = dup_str(path);
    if (!a->path) return pl_err_set(err, PL_ENOMEM, "out of memory opening %s for writing", path);
    int own = fd_of_name(path);
    if (own >= 0) {
        int rc = check_fd_output(path, own, what, err);
        if (rc) {
            atomic_clear(a);
            return rc;
        }
        if (own == 1) fflush(stdout); /* keep the order of what was printed before */
        if (own == 2) fflush(stderr);
        return open_stream(a, fcntl(own, F_DUPFD_CLOEXEC, 3), err);
    }
    int rc = resolve_links(path, &a->dest, err);
    if (!rc) rc = check_dest(path, a->dest, what, err);
    if (rc) {
        atomic_clear(a);
        return rc;
    }
    struct stat st;
    if (stat(a->dest, &st) == 0 && S_ISCHR(st.st_mode))
        return open_stream(a, open(a->dest, O_WRONLY | O_CLOEXEC), err);
    if (stat(a->dest, &st) == 0 && S_ISFIFO(st.st_mode)) {
        /* open(2) of a FIFO blocks until a reader comes: wait a little for one, never forever */
        int fd = -1;
        for (int tries = 0; tries < 250; tries++) {
            fd = open(a->dest, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0 || errno != ENXIO) break;
            nanosleep(&(struct timespec){0, 20000000}, NULL);
        }
        if (fd < 0 && errno == ENXIO) {
            atomic_clear(a);
            return pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: a FIFO with no reader "
                              "(waited 5 s); start the reader first", WHAT_ARGS(what), path);
        }
        int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
        if (fl != -1) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        return open_stream(a, fd, err);
    }
    size_t n = strlen(a->dest) + 16;
    a->tmp = malloc(n);
    if (!a->tmp) {
        atomic_clear(a);
        return pl_err_set(err, PL_ENOMEM, "out of memory opening %s for writing", path);
    }
    snprintf(a->tmp, n, "%s.tmpXXXXXX", a->dest);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        atomic_clear(a);
        return pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s", WHAT_ARGS(what), path,
                          strerror(e));
    }
    /* mkstemp creates the file 0600; give the result the mode a plain fopen would */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) { /* not fatal: the content is still right */ }
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        pl_atomic_abort(a);
        return pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s", WHAT_ARGS(what), path,
                          strerror(e));
    }
    return PL_OK;
}

int pl_atomic_begin(pl_atomic *a, const char *path, pl_err *err) {
    return pl_atomic_begin_what(a, path, NULL, err);
}

int pl_atomic_commit(pl_atomic *a, pl_err *err) {
    const char *what = a->what;
    if (!a->f) {
        pl_atomic_abort(a);
        return pl_err_set(err, PL_EIO, "cannot write: the output was not opened");
    }
    int e = 0;
    if (ferror(a->f)) e = errno ? errno : EIO;
    if (!e && fflush(a->f) != 0) e = errno;
    /* a device or FIFO cannot be synced (EINVAL): its writes were checked by the flush */
    if (!e && fsync(fileno(a->f)) != 0 && !(a->tmp == NULL && (errno == EINVAL || errno == EROFS)))
        e = errno;
    if (fclose(a->f) != 0 && !e) e = errno;
    a->f = NULL;
    if (e) {
        int rc = pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s", WHAT_ARGS(what),
                            a->path, strerror(e));
        pl_atomic_abort(a);
        return rc;
    }
    if (a->tmp && rename(a->tmp, a->dest) != 0) {
        int rc = pl_err_set(err, PL_EIO, WHAT_FMT "cannot replace %s: %s", WHAT_ARGS(what),
                            a->path, strerror(errno));
        pl_atomic_abort(a);
        return rc;
    }
    atomic_clear(a);
    return PL_OK;
}

void pl_atomic_abort(pl_atomic *a) {
    if (a->f) fclose(a->f);
    if (a->tmp) remove(a->tmp);
    atomic_clear(a);
}

int pl_write_file_what(const char *path, const void *data, size_t len, const char *what,
                       pl_err *err) {
    pl_atomic a;
    int rc = pl_atomic_begin_what(&a, path, what, err);
    if (rc) return rc;
    if (len && fwrite(data, 1, len, a.f) != len) {
        rc = pl_err_set(err, PL_EIO, WHAT_FMT "cannot write %s: %s", WHAT_ARGS(what), path,
                        strerror(errno));
        pl_atomic_abort(&a);
        return rc;
    }
    return pl_atomic_commit(&a, err);
}

/* ---------- folders ---------- */

int pl_mkdirs(const char *path, pl_err *err) {
    if (!path || !*path) return pl_err_set(err, PL_EINVAL, "empty folder name");
    char *p = dup_str(path);
    if (!p) return pl_err_set(err, PL_ENOMEM, "out of memory creating folder %s", path);
    int rc = PL_OK;
    size_t n = strlen(p);
    for (size_t i = 1; i <= n && !rc; i++) {
        if (i < n && p[i] != '/') continue;
        if (p[i - 1] == '/') continue; /* "a//b" or a trailing slash */
        char c = p[i];
        p[i] = 0;
        struct stat st;
        if (mkdir(p, 0777) != 0) {
            int e = errno;
            if (stat(p, &st) == 0) {
                if (!S_ISDIR(st.st_mode))
                    rc = pl_err_set(err, PL_EIO, "cannot create folder %s: %s exists and is not "
                                    "a folder", path, p);
            } else {
                rc = pl_err_set(err, PL_EIO, "cannot create folder %s: %s", path, strerror(e));
            }
        }
        p[i] = c;
    }
    free(p);
    return rc;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void pl_listdir_free(char **names, size_t n) {
    if (!names) return;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

int pl_listdir(const char *path, char ***names, size_t *n, pl_err *err) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d)
        return pl_err_set(err, errno == ENOENT ? PL_ENOENT : PL_EIO, "cannot open folder %s: %s",
                          path, strerror(errno));
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = PL_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) rc = pl_err_set(err, PL_EIO, "cannot list %s: %s", path, strerror(errno));
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) { rc = pl_err_set(err, PL_ENOMEM, "out of memory listing %s", path); break; }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = dup_str(e->d_name))) {
            rc = pl_err_set(err, PL_ENOMEM, "out of memory listing %s", path);
            break;
        }
        cnt++;
    }
    closedir(d);
    if (rc) {
        pl_listdir_free(v, cnt);
        return rc;
    }
    if (cnt) qsort(v, cnt, sizeof *v, cmp_names);
    *names = v;
    *n = cnt;
    return PL_OK;
}

/* ---------- content identity ---------- */

/* XXH64 (Yann Collet's public algorithm), written from its specification: four lanes of
 * multiply-rotate rounds over 32-byte stripes, then a merge and an avalanche. Little-endian
 * loads are spelt out so the digest is the same on every host. */
static const uint64_t P1 = 11400714785074694791ULL, P2 = 14029467366897019727ULL,
                      P3 = 1609587929392839161ULL, P4 = 9650029242287828579ULL,
                      P5 = 2870177450012600261ULL;

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t load64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint32_t load32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t xx_round(uint64_t acc, uint64_t in) {
    return rotl64(acc + in * P2, 31) * P1;
}
static uint64_t xx_merge(uint64_t acc, uint64_t v) {
    return (acc ^ xx_round(0, v)) * P1 + P4;
}

typedef struct {
    uint64_t v[4], total;
    unsigned char buf[32];
    size_t fill;
} xx_state;

static void xx_init(xx_state *s) {
    s->v[0] = P1 + P2;
    s->v[1] = P2;
    s->v[2] = 0;
    s->v[3] = 0 - P1;
    s->total = 0;
    s->fill = 0;
}

static void xx_stripe(xx_state *s, const unsigned char *p) {
    for (int i = 0; i < 4; i++) s->v[i] = xx_round(s->v[i], load64(p + 8 * i));
}

static void xx_update(xx_state *s, const unsigned char *p, size_t n) {
    s->total += n;
    if (s->fill) {
        size_t take = 32 - s->fill < n ? 32 - s->fill : n;
        memcpy(s->buf + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 32) return;
        xx_stripe(s, s->buf);
        s->fill = 0;
    }
    for (; n >= 32; p += 32, n -= 32) xx_stripe(s, p);
    memcpy(s->buf, p, n);
    s->fill = n;
}

static uint64_t xx_final(const xx_state *s) {
    uint64_t h;
    if (s->total >= 32) {
        h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) + rotl64(s->v[3], 18);
        for (int i = 0; i < 4; i++) h = xx_merge(h, s->v[i]);
    } else {
        h = s->v[2] + P5;
    }
    h += s->total;
    const unsigned char *p = s->buf;
    size_t n = s->fill;
    for (; n >= 8; p += 8, n -= 8) h = rotl64(h ^ xx_round(0, load64(p)), 27) * P1 + P4;
    if (n >= 4) {
        h = rotl64(h ^ (uint64_t)load32(p) * P1, 23) * P2 + P3;
        p += 4;
        n -= 4;
    }
    for (; n; p++, n--) h = rotl64(h ^ (uint64_t)*p * P5, 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

int pl_file_digest(const char *path, char hex[17], pl_err *err) {
    hex[0] = '\0';
    int fd;
    int rc = pl_input_open(path, &fd, err);
    if (rc) return rc;
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", path);
    }
    xx_state s;
    xx_init(&s);
    for (;;) {
        ssize_t got = read(fd, buf, CHUNK);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            rc = pl_err_set(err, PL_EIO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (got == 0) break;
        xx_update(&s, buf, (size_t)got);
    }
    free(buf);
    close(fd);
    if (!rc) snprintf(hex, 17, "%016llx", (unsigned long long)xx_final(&s));
    return rc;
}

int pl_file_stamp(const char *path, char *buf, size_t cap, int *settled, pl_err *err) {
    struct stat st;
    *settled = 0;
    if (cap) buf[0] = '\0';
    if (stat(path, &st) != 0)
        return pl_err_set(err, errno == ENOENT ? PL_ENOENT : PL_EIO, "cannot open %s: %s", path,
                          strerror(errno));
    if (!S_ISREG(st.st_mode))
        return pl_err_set(err, PL_EINVAL, "%s is not a regular file", path);
    snprintf(buf, cap, "%llu:%llu:%lld:%lld%09ld:%lld%09ld", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
             st.st_ctim.tv_nsec);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    *settled = now.tv_sec - st.st_mtim.tv_sec > PL_STAMP_SETTLE_S &&
               now.tv_sec - st.st_ctim.tv_sec > PL_STAMP_SETTLE_S;
    return PL_OK;
}

/* ---------- journals ---------- */

struct pl_journal {
    int fd;
    int torn; /* the file ends without '\n' (a run killed mid-line): start on a new line */
    char *path;
};

int pl_journal_open(const char *path, pl_journal **out, pl_err *err) {
    ignore_file_size_signal();
    *out = NULL;
    int rc = pl_output_check(path, NULL, err);
    if (rc) return rc;
    pl_journal *j = malloc(sizeof *j);
    char *p = dup_str(path);
    if (!j || !p) {
        free(j);
        free(p);
        return pl_err_set(err, PL_ENOMEM, "out of memory opening journal %s", path);
    }
    j->path = p;
    j->torn = 0;
    /* never through a link (a planted OUT.part -> victim would have the run append to the
     * victim), never a FIFO or device, never another user's file */
    j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0666);
    if (j->fd < 0) {
        rc = errno == ELOOP
                 ? pl_err_set(err, PL_EINVAL, "%s is a symbolic link; a journal must be a "
                              "regular file (remove it)", path)
                 : pl_err_set(err, PL_EIO, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(j->fd, &st) != 0) {
        rc = pl_err_set(err, PL_EIO, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pl_err_set(err, PL_EINVAL, "%s is %s; a journal must be a regular file", path,
                        S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a device"
                                                                               : "not a file");
        goto fail;
    }
    if (st.st_uid != geteuid()) {
        rc = pl_err_set(err, PL_EINVAL, "%s belongs to another user; a journal must be this "
                        "user's own file (remove it)", path);
        goto fail;
    }
    int fl = fcntl(j->fd, F_GETFL);
    if (fl != -1) fcntl(j->fd, F_SETFL, fl & ~O_NONBLOCK);
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK
                 ? pl_err_set(err, PL_EIO, "%s is in use by another pedlab run", path)
                 : pl_err_set(err, PL_EIO, "cannot lock %s: %s", path, strerror(errno));
        goto fail;
    }
    char last;
    if (fstat(j->fd, &st) == 0 && st.st_size > 0 &&
        pread(j->fd, &last, 1, st.st_size - 1) == 1)
        j->torn = last != '\n';
    *out = j;
    return PL_OK;
fail:
    pl_journal_close(j);
    return rc;
}

int pl_journal_append(pl_journal *j, const char *line, size_t len, pl_err *err) {
    if (!j || j->fd < 0) return pl_err_set(err, PL_EINVAL, "journal is closed");
    if (memchr(line, '\n', len))
        return pl_err_set(err, PL_EINVAL, "%s: a journal line must not hold a newline",
                          j->path);
    char nl[1] = {'\n'};
    struct iovec iov[3] = {{nl, 1}, {(void *)line, len}, {nl, 1}};
    int k = j->torn ? 0 : 1, e = 0;
    size_t left = len + 1 + (size_t)j->torn;
    /* a failed append is undone (the file cut back to its size before), so the journal holds
     * whole lines only, also after a full disk */
    struct stat st;
    off_t before = fstat(j->fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
    while (left) {
        ssize_t w = writev(j->fd, iov + k, 3 - k);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            e = w < 0 ? errno : ENOSPC;
            break;
        }
        left -= (size_t)w;
        while (k < 3 && (size_t)w >= iov[k].iov_len) w -= (ssize_t)iov[k++].iov_len;
        if (k < 3) {
            iov[k].iov_base = (char *)iov[k].iov_base + w;
            iov[k].iov_len -= (size_t)w;
        }
    }
    if (!e && fdatasync(j->fd) != 0 && errno != EINVAL && errno != EROFS) e = errno;
    if (e) {
        if (before >= 0 && ftruncate(j->fd, before) != 0) { /* the error below stands */ }
        return pl_err_set(err, PL_EIO, "cannot write %s: %s", j->path, strerror(e));
    }
    j->torn = 0;
    return PL_OK;
}

int pl_journal_read(pl_journal *j, char **out, size_t *len, pl_err *err) {
    *out = NULL;
    if (len) *len = 0;
    if (!j || j->fd < 0) return pl_err_set(err, PL_EINVAL, "journal is closed");
    struct stat st;
    if (fstat(j->fd, &st) == 0 && S_ISREG(st.st_mode))
        return read_whole(j->fd, j->path, out, len, err);
    /* a device (/dev/full) holds no past lines */
    *out = calloc(1, 1);
    return *out ? PL_OK : pl_err_set(err, PL_ENOMEM, "out of memory reading %s", j->path);
}

void pl_journal_close(pl_journal *j) {
    if (!j) return;
    if (j->fd >= 0) close(j->fd); /* closing the only descriptor releases the lock */
    free(j->path);
    free(j);
}

/* ---------- the inputs of this run, listed ---------- */

size_t pl_input_count(void) { return n_inputs; }

int pl_input_describe(size_t i, pl_input_desc *d, pl_err *err) {
    if (i >= n_inputs)
        return pl_err_set(err, PL_EINVAL, "input %zu of %zu: no such input", i + 1, n_inputs);
    const noted_input *in = &inputs[i];
    struct stat st;
    d->path = in->name;
    d->size = -1;
    d->mtime = 0;
    d->state = PL_INPUT_GONE;
    if (stat(in->name, &st) == 0) {
        d->size = (long long)st.st_size;
        d->mtime = (long long)st.st_mtim.tv_sec;
        d->state = st.st_dev == in->dev && st.st_ino == in->ino &&
                           st.st_ctim.tv_sec == in->ctime.tv_sec &&
                           st.st_ctim.tv_nsec == in->ctime.tv_nsec
                       ? PL_INPUT_SAME
                       : PL_INPUT_CHANGED;
    }
    return PL_OK;
}

/* ---- reading bytes, names in messages ---- */

int pl_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *name, pl_err *err) {
    size_t done = 0;
    while (done < len) {
        ssize_t got = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            return pl_err_set(err, PL_EIO, "%s: read failed at byte %llu: %s", name,
                              (unsigned long long)(off + done), strerror(errno));
        if (got == 0)
            return pl_err_set(err, PL_EIO, "%s: read failed at byte %llu (file shrank or is "
                              "truncated)", name, (unsigned long long)(off + done));
        done += (size_t)got;
    }
    return PL_OK;
}


char *pl_printable(char *s) {
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 32 || *p == 127) *p = '?';
    return s;
}

char *pl_escaped_name(const char *s) {
    size_t n = 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += *p < 32 || *p == 127 || *p == '\\' ? 4 : 1;
    char *d = malloc(n), *q = d;
    if (!d) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 32 || *p == 127 || *p == '\\') q += sprintf(q, "\\x%02X", *p);
        else *q++ = (char)*p;
    }
    *q = 0;
    return d;
}

const char *pl_quotable(const char *s, const char *placeholder) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 32 || *p == '\'' || *p == '"' || *p == '\\' || *p == '$' || *p == '`')
            return placeholder;
    return s;
}

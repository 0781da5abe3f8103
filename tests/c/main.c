/* main.c — runner for the C unit tests (see test.h). */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdlib.h>

#include "../../core/data.h"
#include "../../core/metrics/metric.h"
#include "../../core/tensorfile.h"
#include "test.h"

#ifndef PL_FIXTURES
#error "PL_FIXTURES must name tests/fixtures"
#endif

int tf_failed;
int tf_skipped;
static char tf_skip_why[256];

void tf_skip(const char *file, int line, const char *why) {
    const char *strict = getenv("PL_NO_SKIP");
    if (strict && strcmp(strict, "1") == 0) {
        fprintf(stderr, "%s:%d: skipped (%s), and PL_NO_SKIP=1 says every check must run\n",
                file, line, why);
        tf_failed = 1;
        return;
    }
    tf_skipped = 1;
    snprintf(tf_skip_why, sizeof tf_skip_why, "%s", why);
}

typedef struct {
    const char *name;
    tf_fn fn;
} tf_entry;

static tf_entry tf_tests[512];
static int tf_ntests;

const char *const tf_cases[] = {"blobs_small", "overlap", "wide", "imbalanced", "digits",
                                "fmnist", NULL};

void tf_register(const char *name, tf_fn fn) {
    if (tf_ntests < (int)(sizeof tf_tests / sizeof tf_tests[0]))
        tf_tests[tf_ntests++] = (tf_entry){name, fn};
}

const char *tf_path(const char *fixture_case, const char *file) {
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s/%s", PL_FIXTURES, fixture_case, file);
    return b;
}

char *tf_read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)(len < 0 ? 0 : len) + 1);
    size_t got = text ? fread(text, 1, (size_t)(len < 0 ? 0 : len), f) : 0;
    if (text) text[got] = 0;
    fclose(f);
    return text;
}

int tf_verbose(void) {
    const char *v = getenv("PL_TEST_VERBOSE");
    return v && *v && *v != '0';
}

double tf_rand(uint64_t *st) {
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*st >> 11) * (1.0 / 9007199254740992.0);
}

pl_data *tf_from_mat(const pl_mat *x, const int64_t *y, pl_err *err) {
    pl_source *s;
    pl_data *d = NULL;
    if (pl_source_from_mat(x, "<test>", &s, err)) return NULL;
    pl_data_new(s, y, x->rows, "<labels>", &d, err);
    pl_source_release(s);
    return d;
}

int tf_moved_by_hand(pl_data *d, const double *shift, pl_mat *x, int64_t **y, pl_err *err) {
    *y = NULL;
    int rc = pl_data_dense(d, x, err);
    if (rc) return rc;
    const int *cls = pl_data_y(d);
    *y = malloc((x->rows ? x->rows : 1) * sizeof **y);
    if (!*y) {
        pl_mat_release(x);
        return pl_err_set(err, PL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < x->rows; i++) {
        (*y)[i] = cls[i];
        for (size_t j = 0; j < x->cols; j++) PL_AT(x, i, j) += shift[(size_t)cls[i] * x->cols + j];
    }
    return PL_OK;
}

pl_data *tf_load(const char *c, int with_sources, pl_err *err) {
    int64_t *sl;
    size_t n;
    pl_data *d = NULL;
    int rc = pl_data_open(tf_path(c, "features.npy"), tf_path(c, "labels.npy"), &d, err);
    if (rc || !with_sources) return d;
    pl_mat p;
    if (pl_npy_load_mat(tf_path(c, "source_probs.npy"), &p, err) == PL_OK) {
        rc = pl_data_set_source_probs(d, &p, "source_probs.npy", err);
        pl_mat_release(&p);
    } else {
        rc = -1;
    }
    if (!rc && pl_npy_load_ints(tf_path(c, "source_labels.npy"), &sl, &n, err) == PL_OK) {
        rc = pl_data_set_source_labels(d, sl, n, "source_labels.npy", err);
        free(sl);
    } else if (!rc) {
        rc = -1;
    }
    if (rc) {
        pl_data_release(d);
        return NULL;
    }
    return d;
}

int tf_load_permuted(const char *c, uint64_t seed, pl_mat *x, int64_t **y, pl_mat *xp,
                     int64_t **yp, pl_err *err) {
    size_t n;
    int rc = pl_npy_load_mat(tf_path(c, "features.npy"), x, err);
    if (rc) return rc;
    if ((rc = pl_npy_load_ints(tf_path(c, "labels.npy"), y, &n, err))) {
        pl_mat_release(x);
        return rc;
    }
    size_t N = x->rows, D = x->cols;
    size_t *perm = malloc(N * sizeof *perm);
    *yp = malloc(N * sizeof **yp);
    if (perm == NULL || *yp == NULL) {
        free(perm);
        free(*yp);
        free(*y);
        *yp = *y = NULL;
        pl_mat_release(x);
        return pl_err_set(err, PL_ENOMEM, "out of memory permuting %s", c);
    }
    for (size_t i = 0; i < N; i++) perm[i] = i;
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = (size_t)(tf_rand(&seed) * (double)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    if ((rc = pl_mat_init(xp, N, D, err)) == PL_OK)
        for (size_t i = 0; i < N; i++) {
            memcpy(&PL_AT(xp, i, 0), &PL_AT(x, perm[i], 0), D * sizeof(double));
            (*yp)[i] = 1000 - 7 * (*y)[perm[i]]; /* reversed order, arbitrary ids */
        }
    free(perm);
    return rc;
}

void tf_check_ped_displacement(int (*fn)(pl_data *, const pl_opts *, double *, pl_err *),
                               const char *key, double rtol, double rtol_wide) {
    pl_err err;
    const char *sets[] = {"set1", "set2"};
    int checked = 0, cases = 0;
    for (int k = 0; tf_cases[k]; k++) {
        cases++;
        pl_data *d = tf_load(tf_cases[k], 0, &err);
        ASSERT(d);
        for (int s = 0; s < 2; s++) {
            char file[64], dotted[64];
            snprintf(file, sizeof file, "ped_disp_%s.npy", sets[s]);
            snprintf(dotted, sizeof dotted, "ped.%s.%s", sets[s], key);
            double want = tf_expected(tf_cases[k], dotted), v = (double)NAN;
            if (!isfinite(want)) {
                pl_data_release(d);
                TF_FAIL("%s: expected.json has no number at %s", tf_cases[k], dotted);
            }
            pl_mat disp;
            pl_data *m = NULL;
            int rc = pl_npy_load_mat(tf_path(tf_cases[k], file), &disp, &err);
            if (!rc) rc = pl_data_moved(d, disp.data, &m, &err);
            if (!rc) rc = fn(m, NULL, &v, &err);
            pl_data_release(m);
            pl_mat_release(&disp);
            double tol = strcmp(tf_cases[k], "wide") == 0 ? rtol_wide : rtol;
            if (tf_verbose())
                printf("  %-12s %s %s rel %.2e\n", tf_cases[k], sets[s], key, fabs(v - want) / fabs(want));
            if (rc || !(fabs(v - want) <= tol * fabs(want))) {
                pl_data_release(d);
                TF_FAIL("%s %s %s: got %.17g (%s), expected %.17g (rtol %g)", tf_cases[k], sets[s], key,
                        v, rc ? err.msg : "ok", want, tol);
            }
            checked++;
        }
        pl_data_release(d);
    }
    if (checked != 2 * cases) TF_FAIL("%s: %d of %d values checked", key, checked, 2 * cases);
}

double tf_expected(const char *fixture_case, const char *dotted_key) {
    const char *path = tf_path(fixture_case, "expected.json");
    char *text = tf_read_text(path);
    if (!text) {
        fprintf(stderr, "cannot open %s\n", path);
        tf_failed = 1;
        return (double)NAN;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    double v = (double)NAN;
    char key[256];
    snprintf(key, sizeof key, "%s", dotted_key);
    cJSON *node = root;
    for (char *part = strtok(key, "."); part && node; part = strtok(NULL, "."))
        node = cJSON_GetObjectItemCaseSensitive(node, part);
    if (node && cJSON_IsNumber(node)) v = node->valuedouble;
    cJSON_Delete(root);
    return v;
}

#ifdef PL_FAIL_ALLOC
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "failalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define TF_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TF_LEAK_CHECK 1
#endif
#endif
#ifdef TF_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif

/* Run t in a child with its n-th allocation failing (n = 0: none); the child's output is
 * dropped. Returns the wait status; *count gets the allocations the run made. */
static int run_failing(const tf_entry *t, long n, long *count) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        alarm(60);
        pl_failalloc_set(n, 0);
        tf_failed = 0;
        t->fn();
        long c = pl_failalloc_count();
        if (write(fds[1], &c, sizeof c) != (ssize_t)sizeof c) _exit(3);
        /* _exit skips LeakSanitizer's exit-time check: run it here. Only when the test passed:
         * a test that failed returned early and leaks its own memory by design (the pedlab
         * runs of test_alloc_fail.sh leak-check every run, failed or not). */
#ifdef TF_LEAK_CHECK
        if (!tf_failed && __lsan_do_recoverable_leak_check()) _exit(86);
#endif
        _exit(tf_failed);
    }
    close(fds[1]);
    int status = 0;
    long c = 0;
    if (read(fds[0], &c, sizeof c) != (ssize_t)sizeof c) c = -1;
    close(fds[0]);
    waitpid(pid, &status, 0);
    *count = c;
    return status;
}

/* pl_ctest --fail-alloc [NAME...]: each test again with its N-th allocation failing, for
 * every N of a clean run's count (above PL_ALLOC_MAX_RUNS allocations, default 40, an even
 * sample of that many). A test may fail then; it must not crash, hang, or trip a sanitizer
 * (run with ASAN_OPTIONS/UBSAN_OPTIONS exitcode=86). PEDLAB_FAIL_ALLOC=N pl_ctest NAME
 * replays one run. */
static int fail_alloc_main(int argc, char **argv) {
    const char *m = getenv("PL_ALLOC_MAX_RUNS");
    long max_runs = m ? strtol(m, NULL, 10) : 40, bad = 0, total_runs = 0;
    if (max_runs < 1) max_runs = 1;
    for (int i = 0; i < tf_ntests; i++) {
        int want = argc <= 2;
        for (int a = 2; a < argc; a++)
            if (strcmp(argv[a], tf_tests[i].name) == 0) want = 1;
        if (!want) continue;
        long count = 0, runs = 0, checked = 0, c;
        int st = run_failing(&tf_tests[i], 0, &count);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || count < 0) {
            printf("FAIL fail-alloc %s: fails without injected failures\n", tf_tests[i].name);
            bad++;
            continue;
        }
        long stride = count <= max_runs ? 1 : (count + max_runs - 1) / max_runs;
        int broke = 0;
        for (long n = 1; n <= count; n += stride, runs++) {
            st = run_failing(&tf_tests[i], n, &c);
            const char *why = NULL;
            char sig[32];
            if (WIFSIGNALED(st)) {
                snprintf(sig, sizeof sig, "killed by signal %d", WTERMSIG(st));
                why = sig;
            } else if (WIFEXITED(st) && WEXITSTATUS(st) == 86) {
                why = "sanitizer report (a leak, or a memory error)";
            } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                checked++; /* passed, so leak-checked in an ASan build */
            }
            if (why) {
                printf("FAIL fail-alloc %s: N=%ld of %ld: %s (replay: PEDLAB_FAIL_ALLOC=%ld "
                       "pl_ctest %s)\n", tf_tests[i].name, n, count, why, n, tf_tests[i].name);
                broke = 1;
            }
        }
        total_runs += runs;
        if (broke) bad++;
        else
            printf("ok   fail-alloc %s: %ld of %ld allocations failed in turn, %ld leak-checked\n",
                   tf_tests[i].name, runs, count, checked);
        fflush(stdout);
    }
    printf("fail-alloc: %ld runs, %ld tests went wrong\n", total_runs, bad);
    return bad ? 1 : 0;
}
#endif

int main(int argc, char **argv) {
    int failures = 0, ran = 0, skips = 0;
#ifdef PL_FAIL_ALLOC
    if (argc > 1 && strcmp(argv[1], "--fail-alloc") == 0) return fail_alloc_main(argc, argv);
#endif
    for (int i = 0; i < tf_ntests; i++) {
        if (argc > 1) {
            int want = 0;
            for (int a = 1; a < argc; a++)
                if (strcmp(argv[a], tf_tests[i].name) == 0) want = 1;
            if (!want) continue;
        }
        tf_failed = tf_skipped = 0;
        tf_tests[i].fn();
        ran++;
        if (tf_failed) {
            failures++;
            printf("FAIL %s\n", tf_tests[i].name);
        } else if (tf_skipped) {
            skips++;
            printf("skip %s: %s\n", tf_tests[i].name, tf_skip_why);
            const char *log = getenv("PL_SKIP_LOG");
            FILE *f = log ? fopen(log, "a") : NULL;
            if (f) {
                fprintf(f, "c.%s: %s\n", tf_tests[i].name, tf_skip_why);
                fclose(f);
            }
        } else {
            printf("ok   %s\n", tf_tests[i].name);
        }
    }
    if (argc > 1 && ran == 0) {
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    printf("%d passed, %d failed, %d skipped\n", ran - failures - skips, failures, skips);
    return failures ? 1 : skips ? 77 : 0;
}

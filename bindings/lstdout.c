/* lstdout.c — the host's standard output: print() flushes and io.write() may flush in mid-run,
 * so the reason of a failed write (a full disk, a closed stdout) is kept as it happens and
 * reported once, and the exit status says so, also after os.exit(). */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstdout.h"


static int stdout_failed = 0; /* a write to standard output failed: the exit status says so */
static int stdout_errno = 0;  /* the first errno of a failed write to fd 1 */

/* The writer of the reopened stdout: keeps the first errno (by the time the host looked at
 * ferror(stdout) the reason would be gone). */
static ssize_t stdout_write(void *cookie, const char *buf, size_t n) {
    (void)cookie;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (!stdout_errno) stdout_errno = w < 0 ? errno : EIO;
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int stdout_seek(void *cookie, off64_t *pos, int whence) {
    (void)cookie;
    off_t at = lseek(STDOUT_FILENO, (off_t)*pos, whence);
    if (at < 0) return -1;
    *pos = at;
    return 0;
}

/* stdout reopened as a stream written by stdout_write (when it is not a terminal). */
static void watch_stdout(void) {
    cookie_io_functions_t io = {NULL, stdout_write, stdout_seek, NULL};
    FILE *f = fopencookie(NULL, "w", io);
    if (f == NULL) return;
    fflush(stdout);
    setvbuf(f, NULL, _IOFBF, BUFSIZ);
    stdout = f;
}

int lpl_check_stdout(void) {
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = stdout_errno ? stdout_errno : errno;
    if (!bad && !ferror(stdout)) return 0;
    fprintf(stderr, "pedlab: cannot write standard output: %s\n",
            e ? strerror(e) : "write error");
    stdout_errno = 0;
    fflush(stderr);
    clearerr(stdout);
    stdout_failed = 1;
    return 1;
}

/* os.exit() leaves without returning to main: the same check, and a failure is the status */
static void check_stdout_at_exit(void) {
    if (lpl_check_stdout()) _exit(EXIT_FAILURE);
}

void lpl_watch_stdout(void) {
    if (!isatty(STDOUT_FILENO)) watch_stdout();
    atexit(check_stdout_at_exit);
}

int lpl_stdout_failed(void) {
    return stdout_failed;
}

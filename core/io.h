/* io.h — the one way pedlab touches files: inputs, outputs, folders and journals.
 *
 * Inputs are opened without blocking and noted (device + inode), so no output of this process
 * ever replaces a file it read. Outputs are checked before any work and again when written;
 * a regular file is replaced atomically (temporary file in the same folder, fsync, rename), so
 * a reader sees either the old file or the complete new one. Every write, flush, fsync and
 * close is checked: a full disk is an error, never a silent truncation. Folders are created
 * and listed from C; no user string ever reaches a shell. The first input opened or output
 * checked sets SIGXFSZ to be ignored (when at its default), so a write past `ulimit -f` fails
 * with EFBIG and is reported like a full disk instead of killing the process. */
#ifndef PL_IO_H
#define PL_IO_H

#include <stdint.h>
#include <stdio.h>

#include "pl.h"

/* ---- inputs ---- */

/* stat(path) and note it. PL_ENOENT ("cannot open PATH: ...") when it does not exist. */
int pl_input_note(const char *path, pl_err *err);
/* Open an input for reading without blocking on a FIFO (O_RDONLY|O_NONBLOCK|O_CLOEXEC), refuse
 * anything but a regular file ("PATH is a directory; expected a file", "PATH is a FIFO:
 * expected a regular file"), clear O_NONBLOCK and note it as an input. On success *fd is the
 * caller's to close. PL_ENOENT when missing; *fd = -1 on failure. */
int pl_input_open(const char *path, int *fd, pl_err *err);
/* The same, for a file that must be regular: "PATH is a directory; expected KIND" with kind a
 * noun phrase such as "a .npy file" (NULL: "a file"). */
int pl_input_open_kind(const char *path, const char *kind, int *fd, pl_err *err);
/* The inputs noted so far, in the order first noted (for provenance): how many, and the i-th
 * (0-based) as it is now: its path, size and modification time (seconds since the epoch), and
 * whether the file at that path is still the one read (PL_INPUT_CHANGED: replaced or modified
 * since; PL_INPUT_GONE: no longer there, size -1). d->path stays valid for the process. */
typedef enum { PL_INPUT_SAME, PL_INPUT_CHANGED, PL_INPUT_GONE } pl_input_state;
typedef struct {
    const char *path;
    long long size, mtime;
    pl_input_state state;
} pl_input_desc;
size_t pl_input_count(void);
int pl_input_describe(size_t i, pl_input_desc *d, pl_err *err);

/* ---- content identity (sweep cells: what a result was computed from) ---- */

/* The digest of a regular file's bytes (XXH64, seed 0) as 16 hex digits + NUL in hex: read
 * through pl_input_open (noted, never blocks), 1 MiB at a time. */
int pl_file_digest(const char *path, char hex[17], pl_err *err);
/* The file's stamp "DEV:INO:SIZE:MTIME_NS:CTIME_NS" (stat, links followed) into buf (cap >= 96)
 * and *settled = 1 when both times lie more than PL_STAMP_SETTLE_S seconds in the past: a write
 * after the stamp was taken then always changes it (the kernel sets the change time itself, a
 * user cannot), so a settled stamp may stand for the digest it was taken with. PL_ENOENT when
 * missing; a non-regular file is an error. */
#define PL_STAMP_SETTLE_S 2
int pl_file_stamp(const char *path, char *buf, size_t cap, int *settled, pl_err *err);

/* ---- outputs ---- */

/* Check that path may be written. Refuses, with a message "WHAT: ..." (what may be NULL): an
 * empty path, a directory, a path whose folder does not exist or is not a folder, an input of
 * this process, a block device or socket. A symbolic link is followed (its target is
 * replaced, the link kept); a character device or FIFO is accepted and written as a stream. */
int pl_output_check(const char *path, const char *what, pl_err *err);

/* An output being written. f is the stream to write to; the rest is private. */
typedef struct pl_atomic {
    FILE *f;
    char *path;   /* as given, for messages */
    char *dest;   /* the file replaced: path with symbolic links resolved */
    char *tmp;    /* the temporary file; NULL for a stream (device, FIFO) */
    const char *what;
} pl_atomic;

/* pl_output_check, then open a temporary file next to the destination (or the device/FIFO
 * itself, as a stream). On failure nothing is left behind and a->f is NULL. */
int pl_atomic_begin(pl_atomic *a, const char *path, pl_err *err);
/* The same with the option name for messages ("--json", "pl.save"); what is borrowed. */
int pl_atomic_begin_what(pl_atomic *a, const char *path, const char *what, pl_err *err);
/* Check every write (ferror), flush, fsync, close, then rename over the destination. On
 * failure the destination is untouched and the temporary file removed. Releases a. */
int pl_atomic_commit(pl_atomic *a, pl_err *err);
/* Drop the temporary file; the destination is untouched. Idempotent. */
void pl_atomic_abort(pl_atomic *a);
/* Write a whole buffer atomically; what names the option in messages (may be NULL). */
int pl_write_file_what(const char *path, const void *data, size_t len, const char *what,
                       pl_err *err);

/* Read a whole file (through pl_input_open: noted, never blocks) into a NUL-terminated
 * malloc'd buffer. PL_ENOENT when it does not exist. */
int pl_read_file(const char *path, char **out, size_t *len, pl_err *err);

/* ---- reading bytes, names in messages ---- */

/* pread exactly len bytes at off; a short read is an error naming name ("truncated"). */
int pl_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *name, pl_err *err);
/* Control bytes of s (< 32, 127) become '?' in place, so a name from a file keeps a message on
 * one line; returns s. */
char *pl_printable(char *s);
/* A name read from a file (an archive member, a tensor) as one unambiguous line: control bytes
 * (< 32, 127) and the backslash written \xNN, so feat\x01 and feat\x02 stay apart and can be
 * named as they are shown. malloc'd; NULL when out of memory. */
char *pl_escaped_name(const char *s);
/* s when it can stand inside a quoted Python or shell literal (no control byte, quote,
 * backslash, $ or `), else placeholder: how a message's line of Python names a file. */
const char *pl_quotable(const char *s, const char *placeholder);

/* ---- folders ---- */

/* mkdir -p from C, mode 0777 & ~umask. An existing folder is fine; a path component that
 * exists and is not a folder is an error naming it. */
int pl_mkdirs(const char *path, pl_err *err);
/* Every entry of a folder except . and .. (names as bytes: dot files, newlines, any byte),
 * sorted with strcmp. *names is a malloc'd array of *n malloc'd strings (NULL when empty);
 * free with pl_listdir_free. PL_ENOENT ("cannot open folder PATH: ...") when missing. */
int pl_listdir(const char *path, char ***names, size_t *n, pl_err *err);
void pl_listdir_free(char **names, size_t n);

/* ---- journals ---- */

/* A results journal (sweeps): PATH opened or created for appending (pl_output_check first),
 * with an exclusive non-blocking lock (flock); a second opener, in this process or another,
 * gets "PATH is in use by another pedlab run". */
typedef struct pl_journal pl_journal;
int pl_journal_open(const char *path, pl_journal **out, pl_err *err);
/* Append one line + '\n' in one write, then flush it to the disk (fdatasync). A line holding
 * '\n' is refused; a short or failed write (full disk) is an error and is undone (the file is
 * cut back), so the journal holds whole lines only. A file left ending mid-line by a killed run
 * gets a '\n' before the first new line: a torn line is never glued to a whole one. */
int pl_journal_append(pl_journal *j, const char *line, size_t len, pl_err *err);
/* The journal's whole content as it is now (read under the lock), malloc'd, NUL-terminated. */
int pl_journal_read(pl_journal *j, char **out, size_t *len, pl_err *err);
/* Unlock and close; NULL is fine. */
void pl_journal_close(pl_journal *j);

#endif

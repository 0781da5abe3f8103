/* tensorfile.h — input arrays: what a features or labels path names, opened for streaming.
 *
 * A path names one array:
 *   F.npy                      a NumPy array
 *   F.npz, F.npz:NAME          a member of an np.savez / np.savez_compressed archive (NAME
 *                              with or without .npy)
 *   F.safetensors[:NAME]       a tensor of a Hugging Face safetensors file
 * Without NAME, an archive's array is picked by role: features from the first of features,
 * x, X, feats that it holds, labels from labels or y; an archive holding a single array gives
 * that array for any role. The first ".npz:" or ".safetensors:" in the path ends the file
 * name, unless a file of the whole name exists. The file's kind is decided by its content;
 * an extension that names another kind is an error. PyTorch and pickle files are refused with the one line of Python that converts them.
 *
 * Opened, an array is a file descriptor, a dtype and shape (pl_npy) and the byte offset of
 * its first element in that file:
 *   - .npy and stored .npz members and .safetensors tensors: the input file itself (no copy);
 *     a stored member's CRC-32 is checked as its bytes are read in order (the first full pass
 *     over them fails if it does not match);
 *   - deflated .npz members: inflated once into an unlinked temporary file (in TMPDIR, else
 *     /tmp), CRC-32 checked, so memory stays flat. */
#ifndef PL_TENSORFILE_H
#define PL_TENSORFILE_H

#include <stdint.h>

#include "mat.h"
#include "npy.h"

typedef enum pl_array_role {
    PL_ARRAY_ANY,        /* an archive must hold one array, or NAME must be given */
    PL_ARRAY_FEATURES,   /* features, x, X, feats */
    PL_ARRAY_LABELS,     /* labels, y */
} pl_array_role;
/* Or'ed with a role: an archive's array must be found by name (no single-array fallback). */
#define PL_ARRAY_BY_NAME 0x100
/* Or'ed with a role: spec names another array of an archive (F.npz or F.npz:features); open
 * the role's array of the same archive, by name. A .npy file is refused (it holds one array). */
#define PL_ARRAY_SIBLING 0x200

typedef struct pl_array {
    int fd;              /* the file holding the data */
    pl_npy h;            /* dtype, shape; h.data_offset is absolute in fd */
    char *name;          /* for messages: F.npy, F.npz:NAME, F.safetensors:NAME */
    /* a stored zip member's CRC-32, accumulated while its bytes are read in order */
    int crc_on;
    uint32_t crc, crc_want;
    uint64_t crc_pos, data_end, member_end;
} pl_array;

/* Open the array spec names for role (see above). PL_ENOENT ("cannot open PATH: ...") when
 * the file does not exist. On failure a holds nothing to close. */
int pl_array_open(const char *spec, int role, pl_array *a, pl_err *err);
void pl_array_close(pl_array *a);
/* count elements from element first, raw (dtype and byte order of a->h), into raw. */
int pl_array_read_raw(pl_array *a, size_t first, size_t count, void *raw, pl_err *err);

/* A whole 1-D or 2-D numeric array as a float64 matrix (1-D of length n → n×1). */
int pl_array_load_mat(const char *spec, int role, pl_mat *out, pl_err *err);
/* Labels: a 1-D (or n×1) array of integers, bool, whole floats, or strings (U<n>, S<n>).
 * String labels become ids 0..K-1 in the order np.unique sorts them (U by code point, S by
 * byte) and *names receives the K names (UTF-8; malloc'd array of malloc'd strings, free with
 * pl_array_free_names); numeric labels give *names = NULL. With names == NULL string labels
 * are refused. */
int pl_array_load_labels(const char *spec, int role, int64_t **ids, size_t *n, char ***names,
                         size_t *nnames, pl_err *err);
void pl_array_free_names(char **names, size_t n);

/* The one line of Python that converts the array named name (F.npy or F.npz:NAME) holding
 * objects into a plain .npy, into buf (cap bytes). */
void pl_array_convert_hint(const char *name, char *buf, size_t cap);

/* Control bytes of s (< 32, 127) become '?' in place, so a name from a file keeps a message on
 * one line; returns s. */
char *pl_printable(char *s);
/* A name read from a file (an archive member, a tensor) as one unambiguous line: control bytes
 * (< 32, 127) and the backslash written \xNN, so feat\x01 and feat\x02 stay apart and can be
 * named as they are shown. malloc'd; NULL when out of memory. */
char *pl_escaped_name(const char *s);

/* pread exactly len bytes at off; a short read is an error naming name ("truncated"). */
int pl_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *name, pl_err *err);

#endif

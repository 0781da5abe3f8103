/* npy.h — NumPy .npy files (format versions 1.0, 2.0, 3.0).
 *
 * Readable dtypes: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 ('?'), either byte order, C or Fortran
 * order; and for labels the fixed-width strings U<n> (UCS-4) and S<n> (bytes). Object arrays
 * ('O') and structured dtypes are refused: pedlab never unpickles. A header that promises more
 * data than the file holds, or a shape whose byte size overflows, is refused before anything
 * large is allocated.
 *
 * Whole arrays are loaded through tensorfile.h (pl_npy_load_mat, pl_npy_load_ints), which
 * accepts every input array a path can name (F.npy, F.npz[:NAME], F.safetensors[:NAME]). */
#ifndef PL_NPY_H
#define PL_NPY_H

#include <stdio.h>

#include "mat.h"

typedef enum pl_dtype {
    PL_DT_F32, PL_DT_F64, PL_DT_I8, PL_DT_I16, PL_DT_I32, PL_DT_I64,
    PL_DT_U8, PL_DT_U16, PL_DT_U32, PL_DT_U64, PL_DT_BOOL,
    PL_DT_F16, PL_DT_BF16,    /* widened exactly; bfloat16 only from .safetensors */
    PL_DT_STR_U, PL_DT_STR_S  /* fixed-width strings (itemsize bytes): labels only */
} pl_dtype;

#define PL_NPY_MAXDIM 8

typedef struct pl_npy {
    pl_dtype dtype;
    size_t itemsize;
    int swap;                 /* 1 when the data's byte order differs from the host's */
    int fortran;              /* 1 for fortran_order: True */
    int ndim;
    size_t shape[PL_NPY_MAXDIM];
    size_t count;             /* product of shape */
    size_t data_offset;       /* byte offset of the first element */
    size_t file_size;
} pl_npy;

const char *pl_dtype_name(pl_dtype t);
int pl_dtype_is_integer(pl_dtype t);   /* integers and bool */
int pl_dtype_is_string(pl_dtype t);    /* U<n> and S<n> */

/* Parse the .npy header of the bytes [base, base + size) of the open file fd (a whole .npy
 * file, or a stored member of an .npz archive); name is used in messages. out->data_offset is
 * absolute in fd, and the data the shape promises must lie within the range. */
int pl_npy_read_header_at(int fd, size_t base, size_t size, const char *name, pl_npy *out,
                          pl_err *err);
/* Parse a header held in memory (for fuzzing and for mapped files). */
int pl_npy_parse(const unsigned char *buf, size_t len, const char *path, pl_npy *out,
                 pl_err *err);

/* Convert count elements of raw .npy data (dtype/swap from h; not a string dtype) to
 * double. */
void pl_npy_convert(const pl_npy *h, const void *raw, size_t count, double *out);

/* The one line of Python that converts the array named name (F.npy or F.npz:NAME) holding
 * objects into a plain .npy, into buf (cap bytes). */
void pl_npy_convert_hint(const char *name, char *buf, size_t cap);

/* Write a float64 matrix, atomically (temp file in the same folder + rename). */
int pl_npy_save_mat(const char *path, const pl_mat *m, pl_err *err);

#endif

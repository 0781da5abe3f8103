/* data.h — feature sources, labels, datasets, moved datasets and their sufficient statistics.
 *
 * A pl_source is N×D float64 features read in row blocks: an in-memory copy, or a .npy file read
 * with pread in blocks and widened to float64 on the fly (float32 files are never copied whole).
 *
 * A pl_data is (source, labels, optional per-class shift Δ, optional source-model inputs).
 * Labels may be any integer ids; they are remapped to 0..C-1 in sorted order, like np.unique.
 * A moved dataset (pl_data_moved) shares its base's source and statistics: row i reads as
 * x_i + Δ[y_i], and its statistics are derived exactly from the base's (see docs/design.md).
 *
 * Objects are reference counted (retain/release); release(NULL) is a no-op. All functions
 * taking pl_err return PL_OK or a negative status with a message. */
#ifndef PL_DATA_H
#define PL_DATA_H

#include "mat.h"

/* ---------- sources ---------- */
typedef struct pl_source pl_source;

/* Features streamed from any input array path (F.npy, F.npz[:NAME], F.safetensors[:NAME]:
 * see tensorfile.h), picked with the features role. */
int pl_source_open_array(const char *path, pl_source **out, pl_err *err);
/* Copies m. name is used in messages (e.g. "<matrix>"). */
int pl_source_from_mat(const pl_mat *m, const char *name, pl_source **out, pl_err *err);
void pl_source_retain(pl_source *s);
void pl_source_release(pl_source *s);
size_t pl_source_rows(const pl_source *s);
size_t pl_source_cols(const pl_source *s);
const char *pl_source_name(const pl_source *s);
/* Rows read so far (all calls of pl_source_read): how tests check "one pass over the data". */
size_t pl_source_rows_read(const pl_source *s);
/* Rows r0..r0+nr-1 into out (nr×cols, contiguous). Checks every value is finite and names
 * the file, row and column of the first that is not. */
int pl_source_read(pl_source *s, size_t r0, size_t nr, double *out, pl_err *err);

/* ---------- statistics ----------
 * Sums are accumulated about an origin o (the column means of the first read block, shared by
 * a root dataset and every dataset moved from it), so that features far from the origin keep
 * their spread: x − o is exact where x and o are close, and the centred sums lose nothing to
 * cancellation. Everything translation-invariant (class means relative to each other,
 * variances, scatter matrices) should be taken from the centred fields through the helpers
 * below. Raw second moments are not kept: Σx²/n − (Σx/n)² cancels catastrophically far from
 * the origin. */
typedef struct pl_stats {
    size_t N, D, C;
    double *n;      /* C      class counts (as doubles) */
    const double *origin; /* D the point the centred sums are taken about */
    double *Sc;     /* C×D    class sums of x − o */
    double *Qc;     /* C×D    class sums of (x − o)², per dimension */
    double *G;      /* D×D    Σ (x − o)(x − o)ᵀ (full symmetric), NULL unless asked for; the raw
                               Gram XᵀX is pl_data_gram_upper's */
    double *S;      /* C×D    raw class sums Σ x (= Sc + n·o: LogME's Xᵀy) */
} pl_stats;

/* Per-class means relative to the origin, Sc/n (C×D into out). Absolute means are o + these;
 * differences of means need nothing else. */
void pl_stats_class_means(const pl_stats *st, double *out);
/* Global mean relative to the origin, Σ_c Sc_c / N (D into out). */
void pl_stats_mean(const pl_stats *st, double *out);
/* Per-class population variances (ddof 0) Qc/n − (Sc/n)², clamped at 0 (C×D into out). */
void pl_stats_class_vars(const pl_stats *st, double *out);
/* A centred scatter from G (needs the Gram): PL_SCATTER_TOTAL = Σ_i (x_i − m)(x_i − m)ᵀ
 * = G − N·m̄ m̄ᵀ, PL_SCATTER_WITHIN = Σ_c Σ_{i∈c} (x_i − m_c)(x_i − m_c)ᵀ = G − Σ_c n_c m̄_c m̄_cᵀ
 * (m̄ relative to the origin), times scale, into out (D×D, full symmetric). */
enum { PL_SCATTER_TOTAL = 0, PL_SCATTER_WITHIN = 1 };
int pl_stats_scatter(const pl_stats *st, int which, double scale, pl_mat *out, pl_err *err);

/* ---------- datasets ---------- */
typedef struct pl_data pl_data;

/* Takes a reference to src. labels: n raw integer ids, n must equal the source's rows.
 * labels_name names the labels file in messages. Needs at least 2 classes. */
int pl_data_new(pl_source *src, const int64_t *labels, size_t n, const char *labels_name,
                pl_data **out, pl_err *err);
/* The dataset of two files: features from any input array path (pl_source_open_array), labels
 * from labels_path (any array path, read with the labels role; NULL: the labels array of the
 * features' own .npz or .safetensors file). String labels become classes named by them, in
 * np.unique's order. On failure *out is NULL; PL_ENOENT when a file does not exist. */
int pl_data_open(const char *features_path, const char *labels_path, pl_data **out,
                 pl_err *err);
/* A dataset whose class c is moved by shift[c*D .. c*D+D-1] (C×D, copied). Shifts compose:
 * moving a moved dataset adds the shifts. */
int pl_data_moved(pl_data *base, const double *shift, pl_data **out, pl_err *err);
void pl_data_retain(pl_data *d);
void pl_data_release(pl_data *d);

size_t pl_data_rows(const pl_data *d);          /* N */
size_t pl_data_dim(const pl_data *d);           /* D */
size_t pl_data_classes(const pl_data *d);       /* C */
const int *pl_data_y(const pl_data *d);         /* N encoded labels 0..C-1 */
const size_t *pl_data_counts(const pl_data *d); /* C */
const int64_t *pl_data_class_ids(const pl_data *d); /* C original ids, ascending */
/* String labels: the C class names, in class order (copied; the ids given to pl_data_new
 * must be 0..C-1, each name's rank in np.unique's order). */
int pl_data_set_class_names(pl_data *d, char *const *names, size_t C, pl_err *err);
/* The C class names, or NULL when the labels are numbers. A moved dataset sees its root's. */
const char *const *pl_data_class_names(const pl_data *d);
const double *pl_data_shift(const pl_data *d);  /* C×D total shift, or NULL */
const char *pl_data_name(const pl_data *d);     /* the features' name (file path) */
pl_source *pl_data_source(const pl_data *d);

/* Rows r0..r0+nr-1 with the shift applied, into out (nr×D contiguous). */
int pl_data_read(pl_data *d, size_t r0, size_t nr, double *out, pl_err *err);
/* Suggested rows per block for streaming (about 8 MB of doubles, at least 1). */
size_t pl_data_block_rows(const pl_data *d);
/* The origin the statistics are taken about (D values; computes the statistics without the
 * Gram if they are not cached yet). Valid while d lives. */
int pl_data_origin(pl_data *d, const double **out, pl_err *err);

/* The one streaming loop: every row of d (shift applied) in blocks of pl_data_block_rows
 * rows, in order; fn(ud, r0, nr, x, err) gets block x (nr×D contiguous, the callee's to
 * overwrite) and returns a status (nonzero stops the loop and is returned). Interrupts are
 * checked between blocks. With PL_ROWS_CENTRED the rows arrive as x − o (the statistics'
 * origin, see pl_data_origin): what every translation-invariant consumer should read. */
enum { PL_ROWS_CENTRED = 1 };
typedef int (*pl_block_fn)(void *ud, size_t r0, size_t nr, double *x, pl_err *err);
int pl_data_foreach_block(pl_data *d, unsigned flags, pl_block_fn fn, void *ud, pl_err *err);
/* The same loop over a bare source's rows (e.g. PED's reference features): no shift, no
 * origin. */
int pl_source_foreach_block(pl_source *s, pl_block_fn fn, void *ud, pl_err *err);
/* Progress of long work: when set, fn(ud, unit, done, total) is called after every block of
 * every block loop (unit "rows": rows done of the pass's total; a new pass starts again from
 * its first block) and by long loops inside metrics through pl_progress_step (unit e.g. "EM
 * iterations (at most)"). Process-wide; NULL turns it off. fn must not fail or call back into
 * pedlab. */
typedef void (*pl_progress_fn)(void *ud, const char *unit, size_t done, size_t total);
void pl_set_progress(pl_progress_fn fn, void *ud);
/* Report done of total steps of a loop (unit names them) to the progress hook, if any. */
void pl_progress_step(const char *unit, size_t done, size_t total);
/* All N×D rows (shift applied) in a fresh matrix; caller releases. For metrics that need
 * every sample at once. */
int pl_data_dense(pl_data *d, pl_mat *out, pl_err *err);

/* Statistics of this dataset (shift applied), computed in one streaming pass over the base
 * source and cached; want_gram also computes G. The pointer stays valid while d lives. */
int pl_data_stats(pl_data *d, int want_gram, const pl_stats **out, pl_err *err);
/* The raw Gram XᵀX of this dataset (shift applied) into out (D×D, caller's): its UPPER
 * triangle is set, the lower one unspecified. From the root's centred Gram by one rank-2C
 * update (XᵀX = G + AᵀΔ' + Δ'ᵀA, Δ'_c = o + Δ_c, A = Sc + ½·diag(n)·Δ'), neither stored nor
 * mirrored (a metric that eigendecomposes the Gram once needs no D×D copy kept). Far from the
 * origin XᵀX is dominated by N·m mᵀ and float64 keeps little of the spread: see logme.c. */
int pl_data_gram_upper(pl_data *d, pl_mat *out, pl_err *err);
/* pl_data_stats(d, 0) for a caller that will also call pl_data_gram_upper: the root's one pass
 * computes its Gram too (a pass without it followed by pl_data_gram_upper would read the data
 * twice), while a moved d still derives only its class statistics. */
int pl_data_stats_gram_root(pl_data *d, const pl_stats **out, pl_err *err);

/* Statistics in parts, for a pass shared by several processes (each reads a row range):
 * pl_data_first_origin: the origin a single pass takes (column means of the first block, D
 * values into out); pl_data_stats_part: the statistics of rows r0..r1-1 about origin (n, Sc,
 * Qc and, with gram, G; S and N unset) into *part (free with pl_stats_part_free);
 * pl_data_stats_adopt: install statistics summed over parts that cover every row once (class
 * counts checked against the labels) as d's, about origin. d: a root dataset. */
int pl_data_first_origin(pl_data *d, double *out, pl_err *err);
int pl_data_stats_part(pl_data *d, size_t r0, size_t r1, const double *origin, int gram,
                       pl_stats *part, pl_err *err);
void pl_stats_part_free(pl_stats *st);
int pl_data_stats_adopt(pl_data *d, const double *origin, const pl_stats *sum, pl_err *err);

/* Optional inputs for LEEP (source-model probabilities, N×Cs) and NCE (source labels).
 * Copied. A moved dataset sees its base's. */
int pl_data_set_source_probs(pl_data *d, const pl_mat *p, const char *name, pl_err *err);
int pl_data_set_source_labels(pl_data *d, const int64_t *s, size_t n, const char *name,
                              pl_err *err);
const pl_mat *pl_data_source_probs(const pl_data *d);       /* NULL if absent */
const int64_t *pl_data_source_labels(const pl_data *d);     /* NULL if absent; length N */

/* Values a metric derives from this dataset (shift applied) and shares between calls, as the
 * statistics are: NCTI's three parts come from one fit. key names the computation and every
 * option it depends on ("ncti pca_clip=0"); n doubles are copied in and out. A moved dataset
 * has its own. pl_data_memo_get returns 1 and fills out when key is there with n values, else
 * 0; pl_data_memo_put replaces key's values. */
int pl_data_memo_get(const pl_data *d, const char *key, double *out, size_t n);
int pl_data_memo_put(pl_data *d, const char *key, const double *v, size_t n, pl_err *err);

#endif

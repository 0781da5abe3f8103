/* tsne.h — t-SNE embeddings in two dimensions: Barnes–Hut (van der Maaten 2014) and exact.
 *
 * The algorithm follows scikit-learn 1.2's TSNE (method "barnes_hut" or "exact"), so that its
 * KL divergence and trustworthiness are what that reference gives:
 *   affinities  squared euclidean distances to the k = min(N − 1, ⌊3·perplexity + 1⌋) nearest
 *               neighbours (exact: all N − 1 others), a binary search per row for the precision
 *               that gives the perplexity (100 steps, entropy tolerance 1e-5), P = (P + Pᵀ)/ΣP
 *   init        PCA: the first two principal scores (scikit-learn 1.2's sign rule), scaled so
 *               that the first column has standard deviation 1e-4; or random: 1e-4·N(0, 1)
 *               from NumPy's legacy RandomState(seed)
 *   descent     exaggeration_iter steps with P·early_exaggeration and momentum 0.5, then the
 *               rest with momentum 0.8; delta-bar-delta gains (+0.2 / ×0.8, at least 0.01);
 *               learning rate "auto" = max(N / early_exaggeration / 4, 50); every 50 steps the
 *               KL divergence is checked and the run stops after 300 steps without progress
 *               (250 in the exaggeration phase) or when the gradient norm is ≤ 1e-7
 *   gradient    Barnes–Hut: a quadtree of the embedding rebuilt every step, a cell summarised
 *               when (its widest side)² / d² < θ²; attraction over the sparse P (exact: O(N²))
 * Differences from scikit-learn: float64 throughout (it computes the embedding, P and the
 * tree in float32), and points that coincide in the embedding (within 1e-6) repel as the exact
 * gradient says (scikit-learn's tree drops them from the normalisation).
 *
 * Cost (Barnes–Hut): the neighbours are exact, from blocked distances (O(N²·D) flops through
 * BLAS, the input read ⌈N / 4096⌉ times in row blocks; fine up to N ≈ 20000); each step is
 * O(N log N) for the tree and the repulsion plus O(N·k) for the attraction. Memory O(N·k)
 * besides one block of rows: the tree, P (CSR), the embedding, gains and updates.
 * Exact: O(N²) memory and time per step (an oracle for small N; refused above 5000 rows).
 *
 * Deterministic: the same input, options and seed give the same bits for any thread count
 * (rows are split in fixed blocks over pl_par_run; sums across rows are taken in row order). */
#ifndef PL_TSNE_H
#define PL_TSNE_H

#include "data.h"

enum { PL_TSNE_INIT_PCA = 0, PL_TSNE_INIT_RANDOM = 1 };

typedef struct pl_tsne_opts {
    double perplexity;          /* 30; 0 < perplexity < N */
    double early_exaggeration;  /* 12; >= 1 */
    double learning_rate;       /* 0: "auto"; else > 0 */
    int max_iter;               /* 1000 steps in all (scikit-learn's n_iter); >= 1 */
    int exaggeration_iter;      /* 250; 0 <= exaggeration_iter <= max_iter */
    double theta;               /* 0.5, Barnes–Hut's angle; 0 <= theta <= 1 (0: every leaf) */
    int exact;                  /* 0: Barnes–Hut, 1: exact */
    int init;                   /* PL_TSNE_INIT_PCA or PL_TSNE_INIT_RANDOM */
    uint64_t seed;              /* random init only (the PCA is deterministic) */
} pl_tsne_opts;

typedef struct pl_tsne_info {
    double kl;              /* KL(P‖Q) at the last step (scikit-learn's kl_divergence_) */
    int iterations;         /* steps run (scikit-learn's n_iter_ + 1) */
    size_t neighbours;      /* k */
    double learning_rate;   /* the one used ("auto" resolved) */
} pl_tsne_info;

/* The defaults above. */
void pl_tsne_defaults(pl_tsne_opts *o);
/* PL_OK, or PL_EINVAL with a message naming the option and its range, for n rows. */
int pl_tsne_check(const pl_tsne_opts *o, size_t n, pl_err *err);

/* The rows to embed: of a dataset (shift applied; read in row blocks) or of a matrix; all of
 * them (rows = NULL) or rows[0..nrows) (0-based, each < the input's rows; a subsample). */
typedef struct pl_tsne_input {
    pl_data *data;          /* one of data and matrix */
    const pl_mat *matrix;
    const size_t *rows;
    size_t nrows;
} pl_tsne_input;

/* Embed the N input rows into out, a fresh N×2 matrix (overwritten; caller releases; untouched
 * on failure). info may be NULL. Needs N >= 2 and, with PCA init, D >= 2 and rows that are not
 * all equal. Interruptible (PL_EINTR between steps). */
int pl_tsne(const pl_tsne_input *in, const pl_tsne_opts *o, pl_mat *out, pl_tsne_info *info,
            pl_err *err);
/* All rows of d or x. */
int pl_tsne_data(pl_data *d, const pl_tsne_opts *o, pl_mat *out, pl_tsne_info *info,
                 pl_err *err);
int pl_tsne_matrix(const pl_mat *x, const pl_tsne_opts *o, pl_mat *out, pl_tsne_info *info,
                   pl_err *err);
/* The first two principal scores of the input rows (PCA fitted on them, scikit-learn 1.2's
 * sign rule; unscaled) into out (fresh N×2): the cheap embedding, O(N·D² + D³). */
int pl_tsne_pca(const pl_tsne_input *in, pl_mat *out, pl_err *err);

/* Trustworthiness of an embedding (scikit-learn's sklearn.manifold.trustworthiness, euclidean):
 * 1 − 2/(N·k·(2N − 3k − 1)) · Σ_i Σ_{j ∈ U_k(i)} (r(i, j) − k), U_k(i) the embedding's k
 * nearest neighbours of i that are not among its k nearest in x, r the rank in x. Needs
 * k < N / 2. O(N²·D) time, O(N) memory besides a block: a test and report measure. */
int pl_tsne_trustworthiness(const pl_mat *x, const pl_mat *y, size_t k, double *out,
                            pl_err *err);

#endif

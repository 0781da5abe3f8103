/* rng.h — the seeded pseudo-random generator of pedlab (the only source of randomness).
 *
 * MT19937 with NumPy's legacy `RandomState` seeding and draw rules. Why not a smaller generator:
 * NLEEP's reference value (scikit-learn's GaussianMixture with random_state=0) is decided by the
 * k-means++ seeds drawn from `np.random.RandomState(0)`, and different seeds move NLEEP by up to
 * ±0.03 — more than the agreement we want. Reproducing RandomState's stream makes `seed = s` here
 * pick the same k-means++ seeds as `random_state=s` there.
 *
 * Explicit state, no globals: two pl_rng with the same seed give the same stream on every
 * platform (pure 32-bit integer arithmetic). The struct is caller-owned (about 2.5 KB). */
#ifndef PL_RNG_H
#define PL_RNG_H

#include <stddef.h>
#include <stdint.h>

#define PL_RNG_STATE 624

typedef struct pl_rng {
    uint32_t key[PL_RNG_STATE];
    int pos;
} pl_rng;

/* seed <= 2^32-1: as np.random.RandomState(seed); larger seeds: as
 * np.random.RandomState([seed & 0xffffffff, seed >> 32]) (init_by_array). */
void pl_rng_seed(pl_rng *r, uint64_t seed);
/* Next tempered 32-bit output (RandomState.randint(2**32, dtype=np.uint32) for one draw). */
uint32_t pl_rng_u32(pl_rng *r);
/* Two 32-bit draws, high word first (NumPy's next_uint64 for MT19937). */
uint64_t pl_rng_u64(pl_rng *r);
/* Uniform double in [0, 1) with 53 random bits: RandomState.random_sample() / uniform(). */
double pl_rng_uniform(pl_rng *r);
/* Uniform integer in [0, max] by masked rejection: RandomState.randint(max + 1) and the draw
 * used by RandomState.shuffle/permutation (random_interval). */
uint64_t pl_rng_interval(pl_rng *r, uint64_t max);
/* idx[0..m-1] = RandomState.permutation(n)[:m] (a Fisher-Yates shuffle of 0..n-1 from the last
 * position down, as NumPy's legacy shuffle); m <= n. tmp must hold n entries (may alias idx when
 * idx holds n). This is RandomState.choice(n, m, replace=False). */
void pl_rng_choice(pl_rng *r, size_t n, size_t m, size_t *idx, size_t *tmp);

#endif
